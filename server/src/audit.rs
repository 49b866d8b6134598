//! The audit log: who did what, when, from where. Never a secret's value.

use crate::timestamps::format_unix;
use anyhow::Context;
use app::api::AuditEntry;
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
    .bind(address)
    .execute(pool)
    .await
    .context("Failed to write the audit log")?;
    tracing::info!(actor, action, detail, "audit");
    Ok(())
}

pub async fn latest(pool: &SqlitePool, limit: u32) -> anyhow::Result<Vec<AuditEntry>> {
    let rows = sqlx::query(
        "SELECT at, actor, action, detail, address FROM audit_log ORDER BY id DESC LIMIT ?",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .context("Failed to read the audit log")?;
    Ok(rows
        .into_iter()
        .map(|row| AuditEntry {
            at: format_unix(row.get("at")),
            actor: row.get("actor"),
            action: row.get("action"),
            detail: row.get("detail"),
            address: row.get("address"),
        })
        .collect())
}
