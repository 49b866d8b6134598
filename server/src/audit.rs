//! The audit log: who did what, when, from where. Never a secret's value. Kept for
//! `--audit-kept-days` (a year by default) and read a page at a time. Each entry is also
//! written to the server log, with the client's address.

use crate::timestamps::format_unix;
use anyhow::Context;
use app::api::{AuditEntry, AuditLogPage};
use sqlx::{Row, SqlitePool};
use std::collections::HashMap;
use std::sync::Mutex;

/// Writes one entry with `executor`: the pool, or a transaction the entry belongs to.
pub async fn record(
    executor: impl sqlx::SqliteExecutor<'_>,
    at: i64,
    actor: Option<&str>,
    action: &str,
    detail: &str,
    address: Option<String>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, detail, address) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(detail)
    .bind(&address)
    .execute(executor)
    .await
    .context("Failed to write the audit log")?;
    // Always an `address` field, so that a log reader finds it in every audit line; `-` for
    // an event with no client (the command line).
    tracing::info!(
        actor,
        action,
        detail,
        address = address.as_deref().unwrap_or("-"),
        "audit"
    );
    Ok(())
}

/// Refusals worth an audit entry that anyone can cause (an unknown API token sent to the
/// scanner API): one entry per client address and window, and at most
/// [`RefusalAudit::MOST_ADDRESSES`] addresses a window in all. Past that a flood grows the
/// server log, which says of each refusal whether it was audited, never the audit table.
/// Kept in memory: a restart starts a new window.
pub struct RefusalAudit {
    pool: SqlitePool,
    kept_seconds: i64,
    /// Address -> until when its refusals are audited already.
    noted: Mutex<HashMap<String, i64>>,
}

impl RefusalAudit {
    pub const WINDOW_SECONDS: i64 = 15 * 60;
    /// Addresses audited within one window, at most.
    pub const MOST_ADDRESSES: usize = 20;

    /// Audits to `pool`, deleting entries older than `kept_seconds` (`--audit-kept-days`).
    pub fn new(pool: SqlitePool, kept_seconds: i64) -> Self {
        Self {
            pool,
            kept_seconds,
            noted: Mutex::new(HashMap::new()),
        }
    }

    /// Records the refusal `action`/`detail` from `address` at `now` (Unix seconds) unless
    /// one from that address was recorded within the window, or the window's addresses
    /// are used up; true when it was recorded.
    pub async fn record(
        &self,
        now: i64,
        action: &str,
        detail: &str,
        address: Option<String>,
    ) -> anyhow::Result<bool> {
        let key = address.clone().unwrap_or_default();
        if !self.first_in_window(&key, now) {
            return Ok(false);
        }
        let detail = format!(
            "{detail}; further refusals from this address in the next {} minutes are in the server log only",
            Self::WINDOW_SECONDS / 60
        );
        record(&self.pool, now, None, action, &detail, address).await?;
        prune(&self.pool, now, self.kept_seconds).await?;
        Ok(true)
    }

    /// Whether `key` is due an audit entry at `now`, noting it if so.
    fn first_in_window(&self, key: &str, now: i64) -> bool {
        // A std mutex: held for a map operation, never across an await.
        let mut noted = self.noted.lock().unwrap_or_else(|e| e.into_inner());
        if noted.get(key).is_some_and(|&until| until > now) {
            return false;
        }
        // At most MOST_ADDRESSES entries: this walk is short.
        noted.retain(|_, until| *until > now);
        if noted.len() >= Self::MOST_ADDRESSES {
            return false;
        }
        noted.insert(key.to_string(), now + Self::WINDOW_SECONDS);
        true
    }
}

/// Deletes the entries older than `keep_seconds` before `now`.
pub async fn prune(pool: &SqlitePool, now: i64, keep_seconds: i64) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM audit_log WHERE at < ?")
        .bind(now.saturating_sub(keep_seconds))
        .execute(pool)
        .await
        .context("Failed to delete old audit entries")?;
    Ok(())
}

/// Page `page` (from 1) of the log, `per_page` entries, newest first.
pub async fn page(pool: &SqlitePool, page: u32, per_page: u32) -> anyhow::Result<AuditLogPage> {
    let page = page.max(1);
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(pool)
        .await
        .context("Failed to count the audit log")?;
    let per_page = i64::from(per_page.max(1));
    let pages = u32::try_from((total + per_page - 1) / per_page)
        .unwrap_or(u32::MAX)
        .max(1);
    let rows = sqlx::query(
        "SELECT at, actor, action, detail, address FROM audit_log \
         ORDER BY id DESC LIMIT ? OFFSET ?",
    )
    .bind(per_page)
    .bind(i64::from(page - 1) * per_page)
    .fetch_all(pool)
    .await
    .context("Failed to read the audit log")?;
    let entries = rows
        .into_iter()
        .map(|row| AuditEntry {
            at: format_unix(row.get("at")),
            actor: row.get("actor"),
            action: row.get("action"),
            detail: row.get("detail"),
            address: row.get("address"),
        })
        .collect();
    Ok(AuditLogPage {
        entries,
        page,
        pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusals() -> RefusalAudit {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .connect_lazy("sqlite::memory:")
            .expect("a lazy pool");
        RefusalAudit::new(pool, 86_400)
    }

    #[tokio::test]
    async fn an_address_is_audited_once_a_window() {
        let audit = refusals();
        assert!(audit.first_in_window("203.0.113.7", 1_000));
        assert!(!audit.first_in_window("203.0.113.7", 1_001));
        assert!(
            audit.first_in_window("198.51.100.1", 1_001),
            "another address"
        );
        let next_window = 1_000 + RefusalAudit::WINDOW_SECONDS;
        assert!(audit.first_in_window("203.0.113.7", next_window));
    }

    #[tokio::test]
    async fn a_window_audits_a_bounded_number_of_addresses() {
        let audit = refusals();
        for i in 0..RefusalAudit::MOST_ADDRESSES {
            assert!(audit.first_in_window(&format!("10.0.{}.{}", i / 256, i % 256), 50));
        }
        assert!(!audit.first_in_window("203.0.113.7", 60), "past the bound");
        let later = 50 + RefusalAudit::WINDOW_SECONDS;
        assert!(audit.first_in_window("203.0.113.7", later), "a new window");
    }
}
