SELECT position, event_id, stream, version, event_type, schema_version, data,
       actor, correlation_id, causation_id, at_micros
FROM events WHERE stream = ?1 AND version >= ?2 ORDER BY version LIMIT ?3
