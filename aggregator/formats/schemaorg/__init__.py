"""schema.org events: the vocabulary, the one Event reader, and the reader of JSON-LD documents.

:mod:`.vocabulary` (types, status, availability, their reverse maps) · :mod:`.event_reader` (one Event
object → a Listing's content, lenient or strict) · :mod:`.jsonld_reader` (a JSON-LD document or page →
listings), built from :mod:`.json_blocks` (the document's JSON), :mod:`.graph` (entities, ``@id``
references), :mod:`.event_keys` (record ids, series keys), :mod:`.event_schedule` (``eventSchedule``
expansion) and :mod:`.event_names` (titles cleaned of an appended date and venue).
"""
