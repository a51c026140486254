"""Running sources: one run (fetch → parse → ingest) and the APScheduler that keeps them fresh."""
