-- Scanner API tokens, scans and their findings.

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    -- SHA-256 of the token: the token itself is shown once and never stored.
    token_hash    BLOB    NOT NULL UNIQUE,
    -- The first characters, to tell tokens apart in the list.
    prefix        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
) STRICT;

CREATE TABLE scans (
    id           INTEGER PRIMARY KEY,
    source       TEXT    NOT NULL,
    format       TEXT    NOT NULL,
    external_id  TEXT,
    tool         TEXT,
    scanned_at   INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    findings     INTEGER NOT NULL,
    failing      INTEGER NOT NULL,
    passing      INTEGER NOT NULL,
    other        INTEGER NOT NULL
) STRICT;

CREATE INDEX scans_by_source ON scans (source, scanned_at, id);

-- status: 0 pass, 1 other (manual, error, skipped, muted), 2 fail.
-- severity: -1 unknown, 0 informational, 1 low, 2 medium, 3 high, 4 critical.
CREATE TABLE findings (
    scan_id        INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    control_id     TEXT    NOT NULL,
    control_title  TEXT    NOT NULL,
    resource_id    TEXT    NOT NULL,
    resource_name  TEXT    NOT NULL,
    resource_type  TEXT    NOT NULL,
    status         INTEGER NOT NULL,
    severity       INTEGER NOT NULL,
    observed_at    INTEGER,
    detail         TEXT    NOT NULL,
    PRIMARY KEY (scan_id, control_id, resource_id)
) STRICT, WITHOUT ROWID;
