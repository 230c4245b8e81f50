SELECT position, stream, version FROM events WHERE event_id = ?1
