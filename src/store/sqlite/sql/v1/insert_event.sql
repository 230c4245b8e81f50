INSERT INTO events (event_id, stream, version, event_type, schema_version, data,
                    actor, correlation_id, causation_id, at_micros)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
