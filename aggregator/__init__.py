"""The stadtkalender framework: model, normalisation, deduplication, storage and ingest."""
