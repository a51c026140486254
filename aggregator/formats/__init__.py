"""The format layer: pure readers and vocabularies of the data formats we read and write (no I/O)."""
