-- Where a stored event id is: position, stream, version.
SELECT e.position, a.stream, a.first_version + (e.position - a.first_position)
FROM event_ids e
JOIN appends a ON a.first_position = (
    SELECT first_position FROM appends WHERE first_position <= e.position
    ORDER BY first_position DESC LIMIT 1)
WHERE e.event_id = ?1
