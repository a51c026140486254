"""schema.org events: the vocabulary (:mod:`.vocabulary`) and the one Event reader (:mod:`.event_reader`)."""
