-- The two settings pages. One row each (id = 1), written by upsert.

CREATE TABLE connection_settings (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    instance_url      TEXT    NOT NULL,
    client_id         TEXT    NOT NULL,
    -- Secrets are sealed with XChaCha20-Poly1305 (see src/secrets.rs); never plain text.
    client_secret     BLOB    NOT NULL,
    group_sys_id      TEXT    NOT NULL,
    user_sys_id       TEXT    NOT NULL,
    user_id           TEXT    NOT NULL,
    password          BLOB    NOT NULL,
    duplicate_status  TEXT    NOT NULL,
    duplicate_days    INTEGER NOT NULL CHECK (duplicate_days BETWEEN 0 AND 3650),
    updated_at        TEXT    NOT NULL
) STRICT;

CREATE TABLE itsm_settings (
    id                          INTEGER PRIMARY KEY CHECK (id = 1),
    grouping                    TEXT    NOT NULL CHECK (grouping IN ('resources', 'controls')),
    scheduler_interval_minutes  INTEGER NOT NULL,
    auto_resolve                INTEGER NOT NULL CHECK (auto_resolve IN (0, 1)),
    updated_at                  TEXT    NOT NULL
) STRICT;
