SELECT first_position + count FROM appends ORDER BY first_position DESC LIMIT 1
