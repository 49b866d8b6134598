-- Admin accounts, their sessions, and the audit log.

CREATE TABLE admins (
    id             INTEGER PRIMARY KEY,
    username       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    -- Argon2id PHC string: algorithm, parameters, salt and hash.
    password_hash  TEXT    NOT NULL,
    created_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    -- SHA-256 of the cookie's value: a copy of the database opens no session.
    id_hash       BLOB    PRIMARY KEY,
    admin_id      INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_by_admin ON sessions (admin_id);

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    actor    TEXT,
    action   TEXT    NOT NULL,
    detail   TEXT    NOT NULL,
    address  TEXT
) STRICT;
