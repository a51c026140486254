"""Command line and process wiring for stadtkalender."""
