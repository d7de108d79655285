"""Tables, engines, repositories and migrations. Services call repositories; nothing else touches tables."""
