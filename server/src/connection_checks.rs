//! When Test connection last passed every step, and for which instance: the overview says
//! it, and only while the connection still names that instance (a pass for another URL says
//! nothing about this one). A save that changes what the test proved (the instance, the
//! client, the user, a secret entered) forgets it.

use anyhow::Context;
use sqlx::SqlitePool;

/// What a pass proves, as stored when the test began: the instance, the client, the user,
/// the group and user sys_ids, and the sealed secrets (sealed anew, with a fresh nonce, by
/// every save that enters one).
#[derive(Debug, sqlx::FromRow)]
pub struct TestedSettings {
    instance_url: String,
    client_id: String,
    client_secret: Vec<u8>,
    group_sys_id: String,
    user_sys_id: String,
    user_id: String,
    password: Vec<u8>,
}

/// The settings a test about to begin will prove, if a connection is saved.
pub async fn tested_settings(pool: &SqlitePool) -> anyhow::Result<Option<TestedSettings>> {
    sqlx::query_as(
        "SELECT instance_url, client_id, client_secret, group_sys_id, user_sys_id, user_id, \
            password FROM connection_settings WHERE id = 1",
    )
    .fetch_optional(pool)
    .await
    .context("Failed to read the connection settings")
}

/// Records that every step passed for `tested` at `now` (Unix seconds), unless a save
/// changed them while the test ran (it proved nothing about the new ones); returns whether
/// it was recorded.
pub async fn record_pass(
    pool: &SqlitePool,
    tested: &TestedSettings,
    now: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO connection_checks (id, instance_url, passed_at) SELECT 1, ?1, ?2 \
         WHERE EXISTS (SELECT 1 FROM connection_settings WHERE id = 1 AND instance_url = ?1 \
            AND client_id = ?3 AND client_secret = ?4 AND group_sys_id = ?5 \
            AND user_sys_id = ?6 AND user_id = ?7 AND password = ?8) \
         ON CONFLICT (id) DO UPDATE SET instance_url = excluded.instance_url, \
            passed_at = excluded.passed_at",
    )
    .bind(&tested.instance_url)
    .bind(now)
    .bind(&tested.client_id)
    .bind(&tested.client_secret)
    .bind(&tested.group_sys_id)
    .bind(&tested.user_sys_id)
    .bind(&tested.user_id)
    .bind(&tested.password)
    .execute(pool)
    .await
    .context("Failed to record that Test connection passed")?;
    Ok(done.rows_affected() == 1)
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
