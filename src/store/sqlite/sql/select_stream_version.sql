SELECT first_version + count - 1 FROM appends WHERE stream = ?1
ORDER BY first_version DESC LIMIT 1
