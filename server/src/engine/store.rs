//! The engine's tickets in the database: the snapshot a run starts from, and the short
//! writes it makes as it goes (an intent before a create, the outcome after it, a note's new
//! membership, a resolve, what a refresh saw). Every statement is plain SQL, and no
//! transaction here is ever held across a ServiceNow call.

use super::model::{
    Exception, Filters, Finding, GroupKey, LatestResult, LatestResults, Member, MemberKey, Rules,
    TrackedTicket,
};
use crate::ingest::{Severity, Status};
use anyhow::Context;
use app::domain::Grouping;
use sqlx::{Row, SqliteConnection, SqlitePool};
use std::collections::HashMap;

/// The latest completed scan of every source (scans being received or deleted have no
/// `completed_at`).
const LATEST_SCANS: &str = "WITH latest AS ( \
      SELECT id, source, scanned_at FROM ( \
        SELECT id, source, scanned_at, row_number() OVER \
          (PARTITION BY source ORDER BY scanned_at DESC, id DESC) AS n \
        FROM scans WHERE completed_at IS NOT NULL) ranked WHERE n = 1) ";

/// What a run starts from, read in one read transaction.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub rules: Option<Rules>,
    pub findings: Vec<Finding>,
    pub tickets: Vec<TrackedTicket>,
    pub results: LatestResults,
    pub close_codes: Vec<String>,
    /// Which findings become tickets (ITSM settings) and the exceptions not ended.
    pub filters: Filters,
    pub exceptions: Vec<Exception>,
}

/// This installation's id (made on first use), part of every correlation_id.
pub async fn install_id(pool: &SqlitePool) -> anyhow::Result<String> {
    let fresh = crate::random::hex(8);
    sqlx::query(
        "INSERT INTO engine_install (id, install_id) VALUES (1, ?) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&fresh)
    .execute(pool)
    .await
    .context("Failed to record the install id")?;
    sqlx::query_scalar("SELECT install_id FROM engine_install WHERE id = 1")
        .fetch_one(pool)
        .await
        .context("Failed to read the install id")
}

/// Reads the rules, the filters and exceptions, the failing findings, the tracked tickets
/// of `instance_url` and what the latest scans say of their members, in one read
/// transaction.
pub async fn snapshot(pool: &SqlitePool, instance_url: &str) -> anyhow::Result<Snapshot> {
    let mut tx = pool.begin().await.context("Failed to begin the snapshot")?;
    let rules = sqlx::query(
        "SELECT c.duplicate_status, c.duplicate_days, i.grouping, i.auto_resolve \
         FROM connection_settings c LEFT JOIN itsm_settings i ON i.id = 1 WHERE c.id = 1",
    )
    .fetch_optional(&mut *tx)
    .await
    .context("Failed to read the rules")?
    .map(|row| -> anyhow::Result<Rules> {
        let grouping: Option<String> = row.get("grouping");
        let days: i64 = row.get("duplicate_days");
        Ok(Rules {
            grouping: match grouping {
                Some(g) => Grouping::parse(&g).map_err(anyhow::Error::msg)?,
                None => Grouping::default(),
            },
            duplicate_status: row.get("duplicate_status"),
            duplicate_days: u32::try_from(days).unwrap_or(0),
            auto_resolve: row.get::<Option<bool>, _>("auto_resolve").unwrap_or(false),
        })
    })
    .transpose()?;

    let findings = sqlx::query(&format!(
        "{LATEST_SCANS} SELECT latest.source, latest.id AS scan_id, latest.scanned_at, \
           f.control_id, f.control_title, f.resource_id, f.resource_name, f.resource_type, f.severity \
         FROM findings f JOIN latest ON f.scan_id = latest.id WHERE f.status = 2"
    ))
    .fetch_all(&mut *tx)
    .await
    .context("Failed to read the failing findings")?
    .into_iter()
    .map(|r| Finding {
        source: r.get("source"),
        scan_id: r.get("scan_id"),
        scanned_at: r.get("scanned_at"),
        control_id: r.get("control_id"),
        control_title: r.get("control_title"),
        resource_id: r.get("resource_id"),
        resource_name: r.get("resource_name"),
        resource_type: r.get("resource_type"),
        severity: Severity(r.get("severity")),
    })
    .collect();

    let mut tickets: Vec<TrackedTicket> = sqlx::query(
        "SELECT id, grouping, group_key, generation, number, sys_id, state, state_seen_at, \
                opened_at, resolved_at, closed_at, missing_since \
         FROM engine_tickets WHERE tracked = 1 AND phase = 'open' AND instance_url = ? ORDER BY id",
    )
    .bind(instance_url)
    .fetch_all(&mut *tx)
    .await
    .context("Failed to read the tracked tickets")?
    .into_iter()
    .map(ticket_from_row)
    .collect::<anyhow::Result<_>>()?;

    let mut members: HashMap<i64, Vec<Member>> = HashMap::new();
    for r in sqlx::query(
        "SELECT m.ticket_id, m.source, m.control_id, m.resource_id, m.first_seen, m.failing \
         FROM engine_ticket_members m JOIN engine_tickets t ON t.id = m.ticket_id \
         WHERE t.tracked = 1 AND t.phase = 'open' AND t.instance_url = ?",
    )
    .bind(instance_url)
    .fetch_all(&mut *tx)
    .await
    .context("Failed to read the tickets' members")?
    {
        members.entry(r.get("ticket_id")).or_default().push(Member {
            key: MemberKey {
                source: r.get("source"),
                control_id: r.get("control_id"),
                resource_id: r.get("resource_id"),
            },
            first_seen: r.get("first_seen"),
            failing: r.get("failing"),
        });
    }
    for ticket in &mut tickets {
        let mut listed = members.remove(&ticket.id).unwrap_or_default();
        listed.sort_by(|a, b| a.key.cmp(&b.key));
        ticket.members = listed;
    }

    let results = sqlx::query(&format!(
        "{LATEST_SCANS} SELECT DISTINCT m.source, m.control_id, m.resource_id, f.status, \
           latest.id AS scan_id, latest.scanned_at \
         FROM engine_ticket_members m JOIN engine_tickets t ON t.id = m.ticket_id \
         JOIN latest ON latest.source = m.source \
         JOIN findings f ON f.scan_id = latest.id AND f.control_id = m.control_id \
                        AND f.resource_id = m.resource_id \
         WHERE t.tracked = 1 AND t.phase = 'open' AND t.instance_url = ?"
    ))
    .bind(instance_url)
    .fetch_all(&mut *tx)
    .await
    .context("Failed to read the members' latest results")?
    .into_iter()
    .map(|r| {
        let status = match r.get::<i64, _>("status") {
            0 => Status::Pass,
            2 => Status::Fail,
            _ => Status::Other,
        };
        (
            MemberKey {
                source: r.get("source"),
                control_id: r.get("control_id"),
                resource_id: r.get("resource_id"),
            },
            LatestResult {
                status,
                scan_id: r.get("scan_id"),
                scanned_at: r.get("scanned_at"),
            },
        )
    })
    .collect();

    let close_codes =
        sqlx::query_scalar("SELECT value FROM instance_close_codes ORDER BY position")
            .fetch_all(&mut *tx)
            .await
            .context("Failed to read the close codes")?;
    let filters =
        Filters::from_settings(&crate::settings_store::read_itsm_settings(&mut tx).await?);
    let exceptions = super::exceptions::not_ended(&mut tx).await?;
    tx.commit().await.context("Failed to end the snapshot")?;
    Ok(Snapshot {
        rules,
        findings,
        tickets,
        results,
        close_codes,
        filters,
        exceptions,
    })
}

fn ticket_from_row(r: sqlx::sqlite::SqliteRow) -> anyhow::Result<TrackedTicket> {
    let grouping: String = r.get("grouping");
    Ok(TrackedTicket {
        id: r.get("id"),
        key: GroupKey::new(
            Grouping::parse(&grouping).map_err(anyhow::Error::msg)?,
            r.get::<String, _>("group_key"),
        ),
        generation: r.get("generation"),
        number: r.get::<Option<String>, _>("number").unwrap_or_default(),
        sys_id: r.get::<Option<String>, _>("sys_id").unwrap_or_default(),
        state: r
            .get::<Option<String>, _>("state")
            .unwrap_or_else(|| "1".into()),
        state_seen_at: r.get::<Option<i64>, _>("state_seen_at").unwrap_or(0),
        opened_at: r.get::<Option<i64>, _>("opened_at").unwrap_or(0),
        resolved_at: r.get("resolved_at"),
        closed_at: r.get("closed_at"),
        missing_since: r.get("missing_since"),
        members: Vec::new(),
    })
}

/// An intent whose create may or may not have reached the instance.
#[derive(Clone, Debug)]
pub struct PendingIntent {
    pub id: i64,
    pub key: GroupKey,
    pub correlation_id: String,
    pub created_at: i64,
}

pub async fn pending_intents(
    pool: &SqlitePool,
    instance_url: &str,
) -> anyhow::Result<Vec<PendingIntent>> {
    let rows = sqlx::query(
        "SELECT id, grouping, group_key, correlation_id, created_at FROM engine_tickets \
         WHERE phase = 'intent' AND instance_url = ? ORDER BY id",
    )
    .bind(instance_url)
    .fetch_all(pool)
    .await
    .context("Failed to read the pending intents")?;
    rows.into_iter()
        .map(|r| {
            let grouping: String = r.get("grouping");
            Ok(PendingIntent {
                id: r.get("id"),
                key: GroupKey::new(
                    Grouping::parse(&grouping).map_err(anyhow::Error::msg)?,
                    r.get::<String, _>("group_key"),
                ),
                correlation_id: r.get("correlation_id"),
                created_at: r.get("created_at"),
            })
        })
        .collect()
}

/// The intent to open a ticket, committed before the create is sent. Returns the new
/// ticket's id and generation (one more than any earlier ticket of the key).
pub async fn record_intent(
    pool: &SqlitePool,
    key: &GroupKey,
    install_id: &str,
    instance_url: &str,
    members: &[Member],
    supersedes: Option<i64>,
    now: i64,
) -> anyhow::Result<(i64, String)> {
    let mut tx = pool.begin().await.context("Failed to begin the intent")?;
    let generation: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(generation), 0) + 1 FROM engine_tickets WHERE grouping = ? AND group_key = ?",
    )
    .bind(key.grouping.value())
    .bind(&key.id)
    .fetch_one(&mut *tx)
    .await
    .context("Failed to number the ticket")?;
    let correlation_id = super::content::correlation_id(install_id, key, generation);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO engine_tickets (grouping, group_key, generation, correlation_id, instance_url, \
            phase, tracked, replaces, created_at) \
         VALUES (?, ?, ?, ?, ?, 'intent', 0, ?, ?) RETURNING id",
    )
    .bind(key.grouping.value())
    .bind(&key.id)
    .bind(generation)
    .bind(&correlation_id)
    .bind(instance_url)
    .bind(supersedes)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .context("Failed to record the intent to open a ticket")?;
    insert_members(&mut tx, id, members).await?;
    bump_tickets_version(&mut tx).await?;
    tx.commit().await.context("Failed to commit the intent")?;
    Ok((id, correlation_id))
}

async fn insert_members(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    ticket: i64,
    members: &[Member],
) -> anyhow::Result<()> {
    for chunk in members.chunks(100) {
        let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO engine_ticket_members (ticket_id, source, control_id, resource_id, first_seen, failing) ",
        );
        query.push_values(chunk, |mut row, m| {
            row.push_bind(ticket)
                .push_bind(&m.key.source)
                .push_bind(&m.key.control_id)
                .push_bind(&m.key.resource_id)
                .push_bind(m.first_seen)
                .push_bind(m.failing);
        });
        query
            .build()
            .execute(&mut **tx)
            .await
            .context("Failed to record a ticket's members")?;
    }
    Ok(())
}

/// What the instance said of a ticket it created (or a lookup found).
#[derive(Clone, Debug)]
pub struct Opened {
    pub sys_id: String,
    pub number: String,
    pub state: String,
    pub opened_at: i64,
}

/// The create's outcome: the ticket is tracked, the one it supersedes no longer is.
pub async fn record_opened(
    pool: &SqlitePool,
    ticket: i64,
    opened: &Opened,
    now: i64,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await.context("Failed to begin the outcome")?;
    let supersedes: Option<i64> = sqlx::query_scalar(
        "UPDATE engine_tickets SET phase = 'open', tracked = 1, sys_id = ?, number = ?, state = ?, \
            state_seen_at = ?, opened_at = ?, refreshed_at = ? WHERE id = ? RETURNING replaces",
    )
    .bind(&opened.sys_id)
    .bind(&opened.number)
    .bind(&opened.state)
    .bind(now)
    .bind(opened.opened_at)
    .bind(now)
    .bind(ticket)
    .fetch_one(&mut *tx)
    .await
    .context("Failed to record an opened ticket")?;
    if let Some(old) = supersedes {
        sqlx::query("UPDATE engine_tickets SET tracked = 0 WHERE id = ?")
            .bind(old)
            .execute(&mut *tx)
            .await
            .context("Failed to untrack a superseded ticket")?;
    }
    bump_tickets_version(&mut tx).await?;
    tx.commit()
        .await
        .context("Failed to commit an opened ticket")?;
    Ok(())
}

/// A create that certainly did not reach the instance: the intent goes.
pub async fn drop_intent(pool: &SqlitePool, ticket: i64) -> anyhow::Result<()> {
    let mut tx = pool.begin().await.context("Failed to begin the drop")?;
    sqlx::query("DELETE FROM engine_tickets WHERE id = ? AND phase = 'intent'")
        .bind(ticket)
        .execute(&mut *tx)
        .await
        .context("Failed to drop an intent")?;
    bump_tickets_version(&mut tx).await?;
    tx.commit().await.context("Failed to commit the drop")?;
    Ok(())
}

/// A note was written: the ticket's membership is what it said.
pub async fn record_members(
    pool: &SqlitePool,
    ticket: i64,
    members: &[Member],
) -> anyhow::Result<()> {
    let mut tx = pool
        .begin()
        .await
        .context("Failed to begin the membership")?;
    sqlx::query("DELETE FROM engine_ticket_members WHERE ticket_id = ?")
        .bind(ticket)
        .execute(&mut *tx)
        .await
        .context("Failed to replace a ticket's members")?;
    insert_members(&mut tx, ticket, members).await?;
    bump_tickets_version(&mut tx).await?;
    tx.commit()
        .await
        .context("Failed to commit the membership")?;
    Ok(())
}

/// A resolve went through.
pub async fn record_resolved(pool: &SqlitePool, ticket: i64, now: i64) -> anyhow::Result<()> {
    let mut tx = pool.begin().await.context("Failed to begin the resolve")?;
    sqlx::query(
        "UPDATE engine_tickets SET state = '6', resolved_at = ?, state_seen_at = ?, refreshed_at = ? WHERE id = ?",
    )
    .bind(now)
    .bind(now)
    .bind(now)
    .bind(ticket)
    .execute(&mut *tx)
    .await
    .context("Failed to record a resolve")?;
    bump_tickets_version(&mut tx).await?;
    tx.commit().await.context("Failed to commit a resolve")?;
    Ok(())
}

/// What one refresh saw of one ticket; `None` fields: the instance no longer lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub ticket: i64,
    pub found: Option<SeenState>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SeenState {
    pub state: String,
    pub opened_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
}

/// Stores one batch of refreshed states: a changed state is dated by this refresh, a
/// ticket no longer found is marked missing from this refresh on (once).
pub async fn record_refresh(pool: &SqlitePool, seen: &[Seen], now: i64) -> anyhow::Result<()> {
    let mut tx = pool.begin().await.context("Failed to begin the refresh")?;
    for s in seen {
        match &s.found {
            Some(f) => {
                sqlx::query(
                    "UPDATE engine_tickets SET \
                        state_seen_at = CASE WHEN state = ? THEN state_seen_at ELSE ? END, \
                        state = ?, opened_at = COALESCE(?, opened_at), resolved_at = ?, closed_at = ?, \
                        missing_since = NULL, refreshed_at = ? WHERE id = ?",
                )
                .bind(&f.state)
                .bind(now)
                .bind(&f.state)
                .bind(f.opened_at)
                .bind(f.resolved_at)
                .bind(f.closed_at)
                .bind(now)
                .bind(s.ticket)
                .execute(&mut *tx)
                .await
            }
            None => {
                sqlx::query(
                    "UPDATE engine_tickets SET missing_since = COALESCE(missing_since, ?), refreshed_at = ? WHERE id = ?",
                )
                .bind(now)
                .bind(now)
                .bind(s.ticket)
                .execute(&mut *tx)
                .await
            }
        }
        .context("Failed to record a refreshed state")?;
    }
    bump_tickets_version(&mut tx).await?;
    tx.commit().await.context("Failed to commit the refresh")?;
    Ok(())
}

/// Every source a kept, completed scan came from, sorted.
pub async fn sources_seen(pool: &SqlitePool) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT source FROM scans WHERE completed_at IS NOT NULL ORDER BY source",
    )
    .fetch_all(pool)
    .await
    .context("Failed to list the sources")
}

/// When the last refresh read the states of the tracked tickets of `grouping` on
/// `instance_url` (or the engine wrote one), `None` while none is tracked. Only the
/// grouping in use is refreshed, so the other one's states may be much older.
pub async fn states_read_at(
    pool: &SqlitePool,
    instance_url: &str,
    grouping: Grouping,
) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT MAX(refreshed_at) FROM engine_tickets \
         WHERE tracked = 1 AND phase = 'open' AND instance_url = ? AND grouping = ?",
    )
    .bind(instance_url)
    .bind(grouping.value())
    .fetch_one(pool)
    .await
    .context("Failed to read when the states were refreshed")
}

/// Bumps the tickets' version, in the transaction of the write it follows: a preview
/// worked out before it is then worked out again (`preview_cache.rs`). Every write to
/// `engine_tickets` and `engine_ticket_members` calls it.
async fn bump_tickets_version(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>) -> anyhow::Result<()> {
    sqlx::query("UPDATE engine_tickets_version SET version = version + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await
        .context("Failed to bump the tickets' version")?;
    Ok(())
}

/// The tickets' version: it changes with every write to the engine's tickets.
pub async fn tickets_version(conn: &mut SqliteConnection) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT version FROM engine_tickets_version WHERE id = 1")
        .fetch_one(conn)
        .await
        .context("Failed to read the tickets' version")
}

/// The latest completed scan of every source, as (source, scan id), sorted. A completed
/// scan never changes (a deletion first hides it), so this list names the failing findings
/// a run would read: a figure worked out from them holds while it stays the same. With it,
/// the scans' version (migration 0013), which tells a scan from an earlier one that had its
/// id: what is kept per set of latest scans keys on both.
pub async fn latest_scans(
    conn: &mut SqliteConnection,
) -> anyhow::Result<(i64, Vec<(String, i64)>)> {
    let mut tx = sqlx::Connection::begin(conn)
        .await
        .context("Failed to read the latest scans")?;
    let version: i64 = sqlx::query_scalar("SELECT version FROM scans_version WHERE id = 1")
        .fetch_one(&mut *tx)
        .await
        .context("Failed to read the scans' version")?;
    let latest = sqlx::query_as(&format!(
        "{LATEST_SCANS} SELECT source, id FROM latest ORDER BY source"
    ))
    .fetch_all(&mut *tx)
    .await
    .context("Failed to read the latest scans")?;
    tx.commit()
        .await
        .context("Failed to read the latest scans")?;
    Ok((version, latest))
}
