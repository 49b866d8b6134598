-- The preview's cache and a run's groups set aside. Plain SQL only (no SQLite-only syntax).

-- A number bumped in the same transaction as every write to the engine's tickets and their
-- members (an intent, an outcome, a note's membership, a resolve, a refresh). A preview
-- worked out at one number stays right for the tickets until it changes (`preview_cache.rs`).
CREATE TABLE engine_tickets_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL
);
INSERT INTO engine_tickets_version (id, version) VALUES (1, 0);

-- Groups a run set aside: every failing finding left out by the filters or covered by an
-- exception, and no ticket. Each also has its row in engine_run_groups, with the reason.
ALTER TABLE engine_runs ADD COLUMN set_aside INTEGER NOT NULL DEFAULT 0;
