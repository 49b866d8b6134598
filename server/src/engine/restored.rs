//! The mark `itsm-bridge admin restore` leaves: the database came back from a backup, so the
//! instance may hold tickets opened after that backup. While it is set, every create is
//! preceded by a lookup of its `correlation_id` (the same id the backup's state gives the
//! ticket: install id, group and generation), and a ticket found is adopted, not opened
//! again. The first run that succeeds clears it.

use anyhow::Context;
use sqlx::SqlitePool;

/// Marks the database as restored at `now` (Unix seconds).
pub async fn mark(conn: &mut sqlx::SqliteConnection, now: i64) -> anyhow::Result<()> {
    sqlx::query("INSERT OR REPLACE INTO engine_restored (id, restored_at) VALUES (1, ?)")
        .bind(now)
        .execute(conn)
        .await
        .context("Failed to mark the database as restored")?;
    Ok(())
}

/// When the database was restored, while the mark is set.
pub async fn restored_at(pool: &SqlitePool) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar("SELECT restored_at FROM engine_restored WHERE id = 1")
        .fetch_optional(pool)
        .await
        .context("Failed to read whether the database was restored")
}

/// Clears the mark: a run succeeded with every create looked up first.
pub async fn clear(pool: &SqlitePool) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM engine_restored")
        .execute(pool)
        .await
        .context("Failed to clear the restored mark")?;
    Ok(())
}
