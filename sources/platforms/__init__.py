"""Platform families: generic importers (iCalendar, schema.org JSON-LD) and shared base classes."""
