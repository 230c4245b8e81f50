-- The global log on PostgreSQL. `position` is not a sequence: sequence values are taken
-- in one order and committed in another, so a reader trusting "the highest position seen"
-- would skip an event that commits late. Instead every append transaction locks the one
-- row of `domreg_log_head` first and takes its positions from it: the next writer (in this
-- process or any other) waits for that lock until the previous transaction has committed
-- or rolled back, so positions become visible strictly in order, without gaps.
CREATE TABLE IF NOT EXISTS domreg_events (
    position       BIGINT  PRIMARY KEY,
    event_id       BYTEA   NOT NULL UNIQUE,
    stream         TEXT    NOT NULL,
    version        BIGINT  NOT NULL,
    event_type     TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    data           BYTEA   NOT NULL,
    actor          TEXT    NOT NULL,
    correlation_id BYTEA   NOT NULL,
    causation_id   BYTEA,
    at_micros      BIGINT  NOT NULL,
    UNIQUE (stream, version)
);
CREATE TABLE IF NOT EXISTS domreg_log_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position BIGINT  NOT NULL
);
INSERT INTO domreg_log_head (id, position) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
-- Not events: which engines are alive (each refreshes its row; the server's clock decides
-- who has lapsed, so the engines' clocks need not agree) and the few cursors the engines
-- share (where the notifier has mailed to), moved by compare-and-set.
CREATE TABLE IF NOT EXISTS domreg_engines (
    id      TEXT        PRIMARY KEY,
    seen_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS domreg_cursors (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
