"""Source adapters: one module per publisher, platform families under ``sources.platforms``."""
