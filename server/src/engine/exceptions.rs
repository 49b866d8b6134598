//! Exceptions in the database: an admin's accepted risks and false positives. Granted with
//! who and when, ended by End now with who and when; never deleted, so the list keeps them.

use super::model::Exception;
use crate::timestamps::format_unix;
use anyhow::Context;
use app::api::ExceptionView;
use app::domain::CivilDate;
use app::forms::{ExceptionKind, NewException, describe_scope};
use sqlx::{Row, SqlitePool};

const COLUMNS: &str = "id, kind, control_id, resource_id, reason, expires_on, expires_at, \
                       created_by, created_at, ended_by, ended_at";

/// The exceptions not ended by an admin (some may have expired: the screen compares their
/// end with the time of the plan). Read inside the engine's snapshot transaction.
pub async fn not_ended(conn: &mut sqlx::SqliteConnection) -> anyhow::Result<Vec<Exception>> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM engine_exceptions WHERE ended_at IS NULL ORDER BY id"
    ))
    .fetch_all(conn)
    .await
    .context("Failed to read the exceptions")?
    .into_iter()
    .map(|r| {
        let kind: String = r.get("kind");
        let expires_on: String = r.get("expires_on");
        Ok(Exception {
            id: r.get("id"),
            kind: ExceptionKind::from_value(&kind)
                .ok_or_else(|| anyhow::anyhow!("Unknown exception kind {kind:?}"))?,
            control_id: r.get("control_id"),
            resource_id: r.get("resource_id"),
            reason: r.get("reason"),
            created_by: r.get("created_by"),
            expires_on: CivilDate::parse(&expires_on).map_err(anyhow::Error::msg)?,
            expires_at: r.get("expires_at"),
        })
    })
    .collect()
}

/// Stores a granted exception; it holds through its last day (until the next midnight UTC).
pub async fn add(
    pool: &SqlitePool,
    exception: &NewException,
    by: &str,
    now: i64,
) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO engine_exceptions (kind, control_id, resource_id, reason, expires_on, \
            expires_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(exception.kind.value())
    .bind(&exception.control_id)
    .bind(&exception.resource_id)
    .bind(&exception.reason)
    .bind(exception.expires_on.to_string())
    .bind(exception.expires_on.plus_days(1).start_unix())
    .bind(by)
    .bind(now)
    .fetch_one(pool)
    .await
    .context("Failed to save the exception")
}

/// End now: only an exception that still holds; `None` otherwise.
pub async fn end(
    pool: &SqlitePool,
    id: i64,
    by: &str,
    now: i64,
) -> anyhow::Result<Option<ExceptionView>> {
    let row = sqlx::query(&format!(
        "UPDATE engine_exceptions SET ended_by = ?, ended_at = ? \
         WHERE id = ? AND ended_at IS NULL AND expires_at > ? RETURNING {COLUMNS}"
    ))
    .bind(by)
    .bind(now)
    .bind(id)
    .bind(now)
    .fetch_optional(pool)
    .await
    .context("Failed to end the exception")?;
    Ok(row.map(|r| view(&r, now)))
}

/// Every exception: those that hold first (soonest end first), then the others, newest
/// first.
pub async fn list(pool: &SqlitePool, now: i64) -> anyhow::Result<Vec<ExceptionView>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM engine_exceptions \
         ORDER BY CASE WHEN ended_at IS NULL AND expires_at > ? THEN 0 ELSE 1 END, \
                  CASE WHEN ended_at IS NULL AND expires_at > ? THEN expires_at ELSE -id END, id"
    ))
    .bind(now)
    .bind(now)
    .fetch_all(pool)
    .await
    .context("Failed to list the exceptions")?;
    Ok(rows.iter().map(|r| view(r, now)).collect())
}

fn view(r: &sqlx::sqlite::SqliteRow, now: i64) -> ExceptionView {
    let kind: String = r.get("kind");
    let control: Option<String> = r.get("control_id");
    let resource: Option<String> = r.get("resource_id");
    let ended_at: Option<i64> = r.get("ended_at");
    let expires_at: i64 = r.get("expires_at");
    let status = if ended_at.is_some() {
        "ended"
    } else if expires_at <= now {
        "expired"
    } else {
        "holds"
    };
    ExceptionView {
        id: r.get("id"),
        kind: ExceptionKind::from_value(&kind).map_or(kind.clone(), |k| k.label().to_string()),
        scope: describe_scope(control.as_deref(), resource.as_deref()),
        reason: r.get("reason"),
        expires_on: r.get("expires_on"),
        created_by: r.get("created_by"),
        created_at: format_unix(r.get("created_at")),
        ended_by: r.get("ended_by"),
        ended_at: ended_at.map(format_unix),
        status: status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2027-02-01T00:00:00Z: the midnight after 2027-01-31.
    const FEBRUARY_FIRST: i64 = 1_801_440_000;

    #[tokio::test]
    async fn an_exception_holds_through_its_last_day_in_utc_and_not_a_second_longer() {
        let folder = tempfile::tempdir().unwrap();
        let pool = crate::database::open(&folder.path().join("e.db"))
            .await
            .unwrap();
        let granted = NewException {
            kind: ExceptionKind::AcceptedRisk,
            control_id: Some("c".into()),
            resource_id: None,
            reason: "vendor fix due".into(),
            expires_on: CivilDate::parse("2027-01-31").unwrap(),
        };
        add(&pool, &granted, "admin", FEBRUARY_FIRST - 30 * 86_400)
            .await
            .unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let stored = not_ended(&mut conn).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].expires_at, FEBRUARY_FIRST);
        assert!(
            stored[0].holds_at(FEBRUARY_FIRST - 1),
            "23:59:59 on its last day"
        );
        assert!(
            !stored[0].holds_at(FEBRUARY_FIRST),
            "00:00:00 the day after"
        );
    }
}
