-- Set by `itsm-bridge admin restore`: the database was put back from a backup, so the
-- instance may hold tickets opened after that backup that no row here names. While the row
-- is present, the engine looks every ticket it would open up by its correlation_id first
-- and adopts what it finds; the first run that succeeds deletes the row.
CREATE TABLE engine_restored (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    restored_at  INTEGER NOT NULL
);
