-- The overview and the tickets page.
-- Plain SQL only (expression indexes exist in SQLite and PostgreSQL alike).

-- When Test connection last passed every step, and for which instance: the overview shows
-- it only while the connection still names that instance. One row (id = 1).
CREATE TABLE connection_checks (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    instance_url  TEXT    NOT NULL,
    passed_at     INTEGER NOT NULL
);

-- The tickets page lists newest first (by id), 50 at a time from a cursor, filtered by
-- the state class (the expression below, written exactly so in `ticket_list.rs`) and by
-- the grouping. One index per combination of filters keeps every page an index range
-- read, whatever the number of tickets.
CREATE INDEX engine_tickets_by_class ON engine_tickets (
    (CASE WHEN phase = 'intent' THEN 'unconfirmed'
          WHEN missing_since IS NOT NULL OR state IN ('7', '8') THEN 'closed'
          WHEN state = '6' THEN 'resolved'
          ELSE 'open' END),
    id);
CREATE INDEX engine_tickets_by_grouping_class ON engine_tickets (
    grouping,
    (CASE WHEN phase = 'intent' THEN 'unconfirmed'
          WHEN missing_since IS NOT NULL OR state IN ('7', '8') THEN 'closed'
          WHEN state = '6' THEN 'resolved'
          ELSE 'open' END),
    id);
CREATE INDEX engine_tickets_by_grouping ON engine_tickets (grouping, id);

-- The overview counts the scans received in the last day.
CREATE INDEX scans_by_receipt ON scans (received_at);
