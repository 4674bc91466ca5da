"""bpmlink: the shared package (settings, database, bpm'online client, mapping, app catalog)."""
