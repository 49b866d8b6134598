//! When Test connection last passed every step, and for which instance: the overview says
//! it, and only while the connection still names that instance (a pass for another URL says
//! nothing about this one). A save that changes what the test proved (the instance, the
//! client, the user, a secret entered) forgets it.

use anyhow::Context;
use sqlx::SqlitePool;

/// Records that every step passed for `instance_url` at `now` (Unix seconds).
pub async fn record_pass(pool: &SqlitePool, instance_url: &str, now: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO connection_checks (id, instance_url, passed_at) VALUES (1, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET instance_url = excluded.instance_url, \
            passed_at = excluded.passed_at",
    )
    .bind(instance_url)
    .bind(now)
    .execute(pool)
    .await
    .context("Failed to record that Test connection passed")?;
    Ok(())
}

/// When Test connection last passed for `instance_url`, if it ever did.
pub async fn last_pass(pool: &SqlitePool, instance_url: &str) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar("SELECT passed_at FROM connection_checks WHERE id = 1 AND instance_url = ?")
        .bind(instance_url)
        .fetch_optional(pool)
        .await
        .context("Failed to read when Test connection last passed")
}

/// Forgets the last pass, in the transaction of a save that changes the credentials: the
/// test proved nothing about the new ones.
pub async fn forget_pass(conn: &mut sqlx::SqliteConnection) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM connection_checks")
        .execute(conn)
        .await
        .context("Failed to forget when Test connection last passed")?;
    Ok(())
}
