-- The ticket engine: the tickets it opened and their members, its runs, the lease that keeps
-- two runs from happening at once, and what the instance offers as close codes.
-- Plain SQL only (no SQLite-only syntax): a later release adds PostgreSQL.

-- This installation's id, part of every correlation_id: two installs sharing an instance
-- never adopt each other's tickets.
CREATE TABLE engine_install (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    install_id  TEXT    NOT NULL
);

-- Every ticket the engine opened, or meant to open.
-- phase: 'intent' (committed before the create is sent; the create may or may not have
-- reached the instance) or 'open' (the instance answered, or a lookup found it).
CREATE TABLE engine_tickets (
    id               INTEGER PRIMARY KEY,
    grouping         TEXT    NOT NULL,
    group_key        TEXT    NOT NULL,
    generation       INTEGER NOT NULL,
    correlation_id   TEXT    NOT NULL UNIQUE,
    instance_url     TEXT    NOT NULL,
    phase            TEXT    NOT NULL,
    -- Whether the engine still follows it; one tracked ticket per (grouping, key).
    tracked          INTEGER NOT NULL,
    sys_id           TEXT,
    number           TEXT,
    -- The state as the last refresh saw it, and when a refresh first saw that state.
    state            TEXT,
    state_seen_at    INTEGER,
    opened_at        INTEGER,
    resolved_at      INTEGER,
    closed_at        INTEGER,
    -- Set by the first refresh that no longer found the ticket: it counts as Closed.
    missing_since    INTEGER,
    replaces         INTEGER REFERENCES engine_tickets (id),
    created_at       INTEGER NOT NULL,
    refreshed_at     INTEGER
);

CREATE INDEX engine_tickets_by_key ON engine_tickets (grouping, group_key, generation);
CREATE INDEX engine_tickets_tracked ON engine_tickets (tracked, phase);

-- The findings a ticket lists: first seen is kept here, since retention prunes old scans.
-- failing: whether the ticket's last written content lists it as failing.
CREATE TABLE engine_ticket_members (
    ticket_id    INTEGER NOT NULL REFERENCES engine_tickets (id) ON DELETE CASCADE,
    source       TEXT    NOT NULL,
    control_id   TEXT    NOT NULL,
    resource_id  TEXT    NOT NULL,
    first_seen   INTEGER NOT NULL,
    failing      INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, source, control_id, resource_id)
);

-- outcome: 'running', 'succeeded', 'partial', 'failed', 'interrupted'.
CREATE TABLE engine_runs (
    id          INTEGER PRIMARY KEY,
    started_by  TEXT    NOT NULL,
    holder      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    outcome     TEXT    NOT NULL,
    group_count INTEGER NOT NULL DEFAULT 0,
    opened      INTEGER NOT NULL DEFAULT 0,
    noted       INTEGER NOT NULL DEFAULT 0,
    resolved    INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    -- Each error in words, one per line.
    errors      TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX engine_runs_by_start ON engine_runs (started_at);

-- One row per group a run acted on or failed on (the unchanged ones are not kept).
-- action: 'opened', 'noted', 'resolved', 'failed', 'skipped'.
CREATE TABLE engine_run_groups (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES engine_runs (id) ON DELETE CASCADE,
    grouping   TEXT    NOT NULL,
    group_key  TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    number     TEXT,
    detail     TEXT    NOT NULL
);

CREATE INDEX engine_run_groups_by_run ON engine_run_groups (run_id);

-- The lease: whoever holds an unexpired row may run the engine. Times in milliseconds.
CREATE TABLE engine_lease (
    name        TEXT    PRIMARY KEY,
    holder      TEXT    NOT NULL,
    run_id      INTEGER,
    expires_at  INTEGER NOT NULL
);

-- The close codes an instance lists (sys_choice), as the last connection test read them.
CREATE TABLE instance_close_codes (
    position  INTEGER PRIMARY KEY,
    value     TEXT    NOT NULL UNIQUE,
    label     TEXT    NOT NULL
);
