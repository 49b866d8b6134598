-- A number that grows whenever which scans are complete changes: a scan completed, hidden
-- (retired, or beyond those kept) or deleted. What is kept per set of latest scans (the
-- preview, the overview's failing groups) keys on it as well as on the scans' ids, since a
-- deleted scan's id can be given to the next upload.
CREATE TABLE scans_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
) STRICT;

INSERT INTO scans_version (id, version) VALUES (1, 0);

CREATE TRIGGER scans_version_on_completion AFTER UPDATE OF completed_at ON scans
BEGIN
    UPDATE scans_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER scans_version_on_delete AFTER DELETE ON scans
WHEN OLD.completed_at IS NOT NULL
BEGIN
    UPDATE scans_version SET version = version + 1 WHERE id = 1;
END;
