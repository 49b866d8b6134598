//! The audit log: who did what, when, from where. Never a secret's value. Kept for
//! `--audit-kept-days` (a year by default) and read a page at a time.

use crate::timestamps::format_unix;
use anyhow::Context;
use app::api::{AuditEntry, AuditLogPage};
use sqlx::{Row, SqlitePool};

pub async fn record(
    pool: &SqlitePool,
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
    .execute(pool)
    .await
    .context("Failed to write the audit log")?;
    tracing::info!(actor, action, detail, address, "audit");
    Ok(())
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
