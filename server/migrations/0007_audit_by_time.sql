-- The audit log is pruned by age (`--audit-kept-days`): find the old entries by time.

CREATE INDEX audit_log_by_at ON audit_log (at);
