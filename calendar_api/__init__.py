"""Public HTTP API and iCalendar feeds of stadtkalender; reads the store, never fetches."""
