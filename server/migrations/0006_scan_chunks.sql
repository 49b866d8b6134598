-- Scans are written in chunks, each a short transaction, so a slow upload never holds the
-- database. A scan being received (or being deleted) has no `completed_at` and is seen by
-- nothing; the last short transaction of its upload completes it. `written_at` is renewed
-- by a live upload; a scan without `completed_at` whose `written_at` is old belongs to an
-- upload that died, and its rows are removed by the next ingestion or at start.
ALTER TABLE scans ADD COLUMN completed_at INTEGER;
ALTER TABLE scans ADD COLUMN written_at INTEGER NOT NULL DEFAULT 0;
UPDATE scans SET completed_at = received_at, written_at = received_at;
CREATE INDEX scans_unfinished ON scans (written_at) WHERE completed_at IS NULL;

-- An API token may be limited to one source; NULL sends any.
ALTER TABLE api_tokens ADD COLUMN source TEXT;
