//! Server-side sessions in SQLite. The cookie holds 32 random bytes; the table holds their
//! SHA-256. A session ends after the idle timeout without a request, or at the absolute
//! timeout whatever happens; a login always makes a new id.
//!
//! Written here rather than with `tower-sessions`: the table keeps only the id's hash (a copy
//! of the database holds no usable cookie), a session has both an idle and an absolute
//! limit, a password reset ends that admin's sessions in the same transaction, and all of it
//! is a few queries on the database the server already has (the lookup on its `Readers`).

use crate::database::Readers;
use anyhow::Context;
use app::auth::CurrentAdmin;
use sqlx::{Row, SqlitePool};

/// The cookie's name over plain http (on loopback, in development).
pub const COOKIE_NAME: &str = "itsm_bridge_session";
/// Its name when it is `Secure`: browsers take a `__Host-` cookie only if it is Secure, has
/// `Path=/` and no `Domain`, so no other host (a sibling subdomain, a plain-http page) can
/// set or shadow it.
pub const SECURE_COOKIE_NAME: &str = "__Host-itsm_bridge_session";

pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}

#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    pub idle_seconds: i64,
    pub absolute_seconds: i64,
}

/// Opens a session for `admin_id` and returns the cookie value.
pub async fn create(pool: &SqlitePool, admin_id: i64, now: i64) -> anyhow::Result<String> {
    let id = crate::random::url_safe(32);
    sqlx::query(
        "INSERT INTO sessions (id_hash, admin_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)",
    )
    .bind(hash(&id))
    .bind(admin_id)
    .bind(now)
    .bind(now)
    .execute(pool)
    .await
    .context("Failed to store a session")?;
    Ok(id)
}

/// The admin of a live session; an expired one is deleted and gives `None`. The session is
/// read on `readers` (every request reads it), and written, when it must be, on `pool`.
pub async fn lookup(
    readers: &Readers,
    pool: &SqlitePool,
    id: &str,
    now: i64,
    policy: SessionPolicy,
) -> anyhow::Result<Option<CurrentAdmin>> {
    let id_hash = hash(id);
    let row = readers
        .read(async |connection| {
            sqlx::query(
                "SELECT s.created_at, s.last_seen_at, a.id, a.username \
                 FROM sessions s JOIN admins a ON a.id = s.admin_id WHERE s.id_hash = ?",
            )
            .bind(&id_hash)
            .fetch_optional(connection)
            .await
        })
        .await
        .context("Failed to read a session")?;
    let Some(row) = row else { return Ok(None) };
    let created_at: i64 = row.get("created_at");
    let last_seen_at: i64 = row.get("last_seen_at");
    if now - last_seen_at >= policy.idle_seconds || now - created_at >= policy.absolute_seconds {
        delete(pool, id).await?;
        return Ok(None);
    }
    // Not one write per request: the last-seen time is written once a tenth of the idle
    // time has passed (at most once a minute), so a session ends between 90% and 100% of
    // the idle time after its last request, whatever the setting.
    if now - last_seen_at >= refresh_interval(policy.idle_seconds) {
        sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?")
            .bind(now)
            .bind(&id_hash)
            .execute(pool)
            .await
            .context("Failed to refresh a session")?;
    }
    Ok(Some(CurrentAdmin {
        id: row.get("id"),
        username: row.get("username"),
    }))
}

/// How stale the stored last-seen time may get: a tenth of the idle time, 1 s to 60 s.
fn refresh_interval(idle_seconds: i64) -> i64 {
    (idle_seconds / 10).clamp(1, 60)
}

pub async fn delete(pool: &SqlitePool, id: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
        .bind(hash(id))
        .execute(pool)
        .await
        .context("Failed to delete a session")?;
    Ok(())
}

pub async fn delete_all_of(conn: &mut sqlx::SqliteConnection, admin_id: i64) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE admin_id = ?")
        .bind(admin_id)
        .execute(conn)
        .await
        .context("Failed to end the sessions of an admin")?;
    Ok(())
}

/// The `Set-Cookie` value for a new session.
pub fn cookie(id: &str, secure: bool, max_age: i64) -> String {
    let name = cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clearing_cookie(secure: bool) -> String {
    cookie("", secure, 0)
}

/// The session id in a `Cookie` header, if any: only the cookie of the name for `secure`, so
/// that over https a plain-named cookie (which any http page could have set) opens nothing.
pub fn from_cookie_header(header: &str, secure: bool) -> Option<String> {
    let wanted = cookie_name(secure);
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_string())
        .filter(|value| !value.is_empty())
}

fn hash(id: &str) -> Vec<u8> {
    crate::random::sha256(id.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_on_https() {
        let plain = cookie("abc", false, 3600);
        assert_eq!(
            plain,
            "itsm_bridge_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600"
        );
        assert_eq!(
            cookie("abc", true, 3600),
            "__Host-itsm_bridge_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600; Secure"
        );
        assert!(clearing_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn the_session_id_is_read_from_a_cookie_header() {
        assert_eq!(
            from_cookie_header("a=1; itsm_bridge_session=xyz; b=2", false).as_deref(),
            Some("xyz")
        );
        assert_eq!(from_cookie_header("itsm_bridge_session=xyz", true), None);
        assert_eq!(
            from_cookie_header("__Host-itsm_bridge_session=xyz", true).as_deref(),
            Some("xyz")
        );
        assert_eq!(from_cookie_header("itsm_bridge_session=", false), None);
        assert_eq!(from_cookie_header("other=1", false), None);
    }
}
