SELECT position, event_id, stream, version, event_type, schema_version, data,
       actor, correlation_id, causation_id, at_micros
FROM events WHERE position > ?1 ORDER BY position LIMIT ?2
