-- From the append holding position ?1 + 1 on, in log order.
SELECT first_position, stream, first_version, count, events
FROM appends
WHERE first_position >= COALESCE(
    (SELECT first_position FROM appends WHERE first_position <= ?1 + 1
     ORDER BY first_position DESC LIMIT 1), 0)
ORDER BY first_position
