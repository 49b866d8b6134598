-- Which findings become tickets: the filters of the ITSM settings page and the exceptions
-- an admin grants. Plain SQL only (no SQLite-only syntax).

-- The lowest severity that becomes a ticket ('low', 'medium', 'high', 'critical'); NULL:
-- every severity. A finding of unknown severity always passes.
ALTER TABLE itsm_settings ADD COLUMN min_severity TEXT;
-- 1: every source becomes tickets; 0: only the sources listed in itsm_ticket_sources.
ALTER TABLE itsm_settings ADD COLUMN all_sources INTEGER NOT NULL DEFAULT 1;

CREATE TABLE itsm_ticket_sources (
    source  TEXT PRIMARY KEY
);

-- An accepted risk or a false positive: while it holds, the engine opens and notes nothing
-- for the findings it covers. It covers a control (resource_id NULL), a resource
-- (control_id NULL), or one (control, resource) pair, from any source.
CREATE TABLE engine_exceptions (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL CHECK (kind IN ('accepted_risk', 'false_positive')),
    control_id   TEXT,
    resource_id  TEXT,
    reason       TEXT    NOT NULL,
    -- The last day it holds ('YYYY-MM-DD', UTC) and the moment it stops: the next midnight.
    expires_on   TEXT    NOT NULL,
    expires_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    -- Set by End now: who ended it and when. An ended one stays listed.
    ended_by     TEXT,
    ended_at     INTEGER,
    CHECK (control_id IS NOT NULL OR resource_id IS NOT NULL)
);

CREATE INDEX engine_exceptions_by_expiry ON engine_exceptions (expires_at);
