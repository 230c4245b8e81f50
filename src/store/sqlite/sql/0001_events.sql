-- The global log. `position` is the rowid: SQLite assigns max+1 inside the single write
-- transaction, so positions are gap-free and follow commit order.
CREATE TABLE events (
    position       INTEGER PRIMARY KEY,
    event_id       BLOB    NOT NULL UNIQUE,
    stream         TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    event_type     TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    data           BLOB    NOT NULL,
    actor          TEXT    NOT NULL,
    correlation_id BLOB    NOT NULL,
    causation_id   BLOB,
    at_micros      INTEGER NOT NULL,
    UNIQUE (stream, version)
);
