INSERT INTO appends (first_position, stream, first_version, count, events)
VALUES (?1, ?2, ?3, ?4, ?5)
