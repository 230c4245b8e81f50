INSERT INTO streams (stream, version) VALUES (?1, ?2)
ON CONFLICT (stream) DO UPDATE SET version = excluded.version
