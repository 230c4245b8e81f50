-- Read models. Each model owns the tables named after it and has one checkpoint row,
-- written in the same transaction as its rows.
CREATE TABLE IF NOT EXISTS checkpoints (
    model   TEXT PRIMARY KEY,
    commit_position  INTEGER NOT NULL,
    prepare_position INTEGER NOT NULL
);

-- Async Manager: orders waiting for an asynchronous answer.
CREATE TABLE IF NOT EXISTS am_orders (
    order_id   TEXT PRIMARY KEY,
    domain     TEXT NOT NULL,
    tld        TEXT NOT NULL,
    account    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    connection TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    -- accepted, charged, submitted or pending: what the engine has to do next.
    stage      TEXT NOT NULL,
    -- While submitted: until when the submitting engine owns the call.
    lease_until TEXT,
    -- After a send that never reached OpenSRS: not before this time.
    retry_at TEXT
);
CREATE INDEX IF NOT EXISTS am_orders_by_stage ON am_orders (stage, requested_at);
CREATE TABLE IF NOT EXISTS am_pending (
    order_id     TEXT PRIMARY KEY,
    domain       TEXT NOT NULL,
    tld          TEXT NOT NULL,
    account      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    connection   TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    pending_since TEXT NOT NULL,
    reason       TEXT NOT NULL,
    registrar_order_id TEXT,
    polls        INTEGER NOT NULL,
    last_answer  TEXT,
    poll_every_secs INTEGER NOT NULL,
    next_poll_at TEXT NOT NULL,
    deadline     TEXT NOT NULL,
    -- Why the engine handed the order to an admin (it never refunds it on its own then).
    escalated    TEXT
);
CREATE INDEX IF NOT EXISTS am_pending_by_start ON am_pending (pending_since, order_id);
CREATE INDEX IF NOT EXISTS am_pending_by_next_poll ON am_pending (next_poll_at);
CREATE INDEX IF NOT EXISTS am_pending_by_account ON am_pending (account, pending_since);
CREATE INDEX IF NOT EXISTS am_pending_by_tld ON am_pending (tld, pending_since);

-- Finished orders (confirmed, rejected, timed out, cancelled): how each ended, what was
-- refunded and what OpenSRS said last. H-Sphere "shows this domain registration as
-- timed out"; an order does not vanish when it ends.
CREATE TABLE IF NOT EXISTS am_finished (
    order_id     TEXT PRIMARY KEY,
    domain       TEXT NOT NULL,
    tld          TEXT NOT NULL,
    account      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    connection   TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    ended_at     TEXT NOT NULL,
    ending       TEXT NOT NULL,
    last_answer  TEXT,
    refunded_minor INTEGER,
    currency     TEXT
);
CREATE INDEX IF NOT EXISTS am_finished_by_end ON am_finished (ended_at, order_id);
CREATE INDEX IF NOT EXISTS am_finished_by_ending ON am_finished (ending, ended_at);

-- Billing ledger: every charge, refund and credit; balances per account and currency.
CREATE TABLE IF NOT EXISTS ledger_entries (
    commit_position  INTEGER NOT NULL,
    prepare_position INTEGER NOT NULL,
    event_id   TEXT NOT NULL,
    account    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency   TEXT NOT NULL,
    order_id   TEXT,
    domain     TEXT,
    note       TEXT NOT NULL,
    at         TEXT NOT NULL,
    balance_after INTEGER NOT NULL,
    PRIMARY KEY (commit_position, prepare_position)
);
CREATE INDEX IF NOT EXISTS ledger_by_account ON ledger_entries (account, commit_position, prepare_position);
CREATE INDEX IF NOT EXISTS ledger_by_order ON ledger_entries (order_id, kind);
CREATE TABLE IF NOT EXISTS ledger_balances (
    account  TEXT NOT NULL,
    currency TEXT NOT NULL,
    balance_minor INTEGER NOT NULL,
    PRIMARY KEY (account, currency)
);

-- Domains: the registration each domain stream adds up to.
CREATE TABLE IF NOT EXISTS dm_orders (
    order_id   TEXT PRIMARY KEY,
    domain     TEXT NOT NULL,
    account    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    connection TEXT NOT NULL,
    -- accepted, submitted, pending, confirmed, rejected, timed_out or cancelled.
    state      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dm_orders_by_state ON dm_orders (state);
CREATE TABLE IF NOT EXISTS dm_domains (
    name       TEXT PRIMARY KEY,
    tld        TEXT NOT NULL,
    status     TEXT NOT NULL,
    account    TEXT NOT NULL,
    connection TEXT NOT NULL,
    expires_at TEXT,
    auto_renew INTEGER NOT NULL,
    open_order TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dm_domains_by_account ON dm_domains (account, name);
-- Changes to registered domains (nameservers, lock): requested, submitted (with the
-- engine's lease), applied or refused. The engine recovers submitted ones whose lease lapsed.
CREATE TABLE IF NOT EXISTS dm_changes (
    change_id   TEXT PRIMARY KEY,
    domain      TEXT NOT NULL,
    state       TEXT NOT NULL,
    lease_until TEXT,
    updated_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dm_changes_by_state ON dm_changes (state, lease_until);
CREATE INDEX IF NOT EXISTS dm_domains_by_expiry ON dm_domains (expires_at);

-- Registrar configuration: connections, routing, prices, policies.
CREATE TABLE IF NOT EXISTS rc_registrars (
    title  TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    key_replaced_at TEXT
);
CREATE TABLE IF NOT EXISTS rc_routes (
    tld       TEXT PRIMARY KEY,
    registrar TEXT NOT NULL,
    assigned_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rc_prices (
    tld   TEXT NOT NULL,
    kind  TEXT NOT NULL,
    years INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    PRIMARY KEY (tld, kind, years)
);
CREATE TABLE IF NOT EXISTS rc_policies (
    tld      TEXT NOT NULL,
    transfer INTEGER NOT NULL,
    poll_every_secs INTEGER NOT NULL,
    timeout_secs    INTEGER NOT NULL,
    PRIMARY KEY (tld, transfer)
);

-- Credit limits per account and currency; account '*' is the default of all accounts.
CREATE TABLE IF NOT EXISTS rc_credit_limits (
    account  TEXT NOT NULL,
    currency TEXT NOT NULL,
    limit_minor INTEGER NOT NULL,
    PRIMARY KEY (account, currency)
);

-- Access tokens by digest (never the token); revoked ones stay, with when.
CREATE TABLE IF NOT EXISTS rc_tokens (
    token_id   TEXT PRIMARY KEY,
    digest     TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    principal  TEXT NOT NULL,
    issued_at  TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
);

CREATE TABLE IF NOT EXISTS rc_contacts (
    account  TEXT PRIMARY KEY,
    contacts TEXT NOT NULL
);

-- Events this build could not read or fold: skipped with an alarm instead of stopping
-- every model. `domreg verify`, /metrics and the overview page name them.
CREATE TABLE IF NOT EXISTS qt_events (
    commit_position  INTEGER NOT NULL,
    prepare_position INTEGER NOT NULL,
    stream     TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    event_type TEXT NOT NULL,
    detail     TEXT NOT NULL,
    PRIMARY KEY (commit_position, prepare_position)
);
