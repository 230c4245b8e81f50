-- From the append of ?1 holding version ?2 on, in stream order.
SELECT first_position, stream, first_version, count, events
FROM appends
WHERE stream = ?1 AND first_version >= COALESCE(
    (SELECT first_version FROM appends WHERE stream = ?1 AND first_version <= ?2
     ORDER BY first_version DESC LIMIT 1), 0)
ORDER BY first_version
