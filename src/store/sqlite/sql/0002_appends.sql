-- One row per append instead of one per event (issue #19): an append's events are packed
-- in `events` (see codec.rs), its first event at `first_position` and `first_version`,
-- the rest after it. Positions stay gap-free: each append starts where the last one
-- ended, inside the single write transaction. The rows of `events` are moved here by the
-- migration's code (one append per event), then the old table is dropped.
CREATE TABLE appends (
    first_position INTEGER PRIMARY KEY,
    stream         TEXT    NOT NULL,
    first_version  INTEGER NOT NULL,
    count          INTEGER NOT NULL CHECK (count > 0),
    events         BLOB    NOT NULL,
    UNIQUE (stream, first_version)
);
-- Idempotency by event id: every event's id, and where it is.
CREATE TABLE event_ids (
    event_id BLOB    PRIMARY KEY,
    position INTEGER NOT NULL
) WITHOUT ROWID;
