//! Scanner API tokens: `itsmb_` and 32 random bytes, shown once; stored as SHA-256. A token
//! may be limited to one source: it can then neither write nor overwrite any other.

use anyhow::Context;
use serde::Serialize;
use sqlx::SqlitePool;

const PREFIX: &str = "itsmb_";

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    /// The only source the token may send; `None` for any.
    pub source: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A live token, as the scanner API checks it.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiToken {
    pub id: i64,
    /// Its name, for the log.
    pub name: String,
    /// The only source it may send; `None` for any.
    pub source: Option<String>,
}

/// Creates a token named `name` that may send any source; returns its id and the token,
/// which is not kept. A name that a live token has (in any case) is refused with
/// [`app::api::TokenNameTaken`]: the list and the audit log tell tokens apart by name.
pub async fn create(pool: &SqlitePool, name: &str, now: i64) -> anyhow::Result<(i64, String)> {
    create_limited(pool, name, None, now).await
}

/// Creates a token named `name`, limited to `source` unless it is `None`; returns its id
/// and the token, which is not kept.
pub async fn create_limited(
    pool: &SqlitePool,
    name: &str,
    source: Option<&str>,
    now: i64,
) -> anyhow::Result<(i64, String)> {
    let token = format!("{PREFIX}{}", crate::random::url_safe(32));
    // One statement, so that two creates of one name at once cannot both pass the check.
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO api_tokens (name, token_hash, prefix, source, created_at) \
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS \
             (SELECT 1 FROM api_tokens WHERE name = ?1 COLLATE NOCASE AND revoked_at IS NULL) \
         RETURNING id",
    )
    .bind(name)
    .bind(hash(&token))
    .bind(&token[..PREFIX.len() + 6])
    .bind(source)
    .bind(now)
    .fetch_optional(pool)
    .await
    .context("Failed to store an API token")?;
    let id = id.ok_or_else(|| app::api::TokenNameTaken(name.to_string()))?;
    Ok((id, token))
}

/// The live token `token`, noting its use (at most once a minute); `None` for an unknown or
/// revoked one. Looking is a read: a flood of wrong tokens never queues for the write lock.
pub async fn verify(pool: &SqlitePool, token: &str, now: i64) -> anyhow::Result<Option<ApiToken>> {
    let found: Option<(i64, String, Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT id, name, source, last_used_at FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
    )
    .bind(hash(token.trim()))
    .fetch_optional(pool)
    .await
    .context("Failed to check an API token")?;
    let Some((id, name, source, last_used_at)) = found else {
        return Ok(None);
    };
    if last_used_at.is_none_or(|last| now - last >= 60 || now < last) {
        // The token is good whether or not its use could be noted.
        let noted = sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await;
        if let Err(error) = noted {
            tracing::warn!(token_id = id, %error, "could not note an API token's use");
        }
    }
    Ok(Some(ApiToken { id, name, source }))
}

pub async fn list(pool: &SqlitePool) -> anyhow::Result<Vec<TokenRow>> {
    sqlx::query_as("SELECT id, name, prefix, source, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id DESC")
        .fetch_all(pool)
        .await
        .context("Failed to list the API tokens")
}

/// Revokes a token; `false` when there was no such live token.
pub async fn revoke(pool: &SqlitePool, id: i64, now: i64) -> anyhow::Result<bool> {
    let done =
        sqlx::query("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .context("Failed to revoke an API token")?;
    Ok(done.rows_affected() == 1)
}

fn hash(token: &str) -> Vec<u8> {
    crate::random::sha256(token.as_bytes()).to_vec()
}
