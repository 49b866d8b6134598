//! The engine's runs and its lease in the database. A run row is written when the run
//! starts, its counts as it goes and its outcome at the end; one row per group it acted on
//! or failed on. The lease is one row that a holder keeps alive while it runs; plain SQL
//! (an upsert with a condition) so it works on any database with several processes.

use anyhow::Context;
use sqlx::{Row, SqlitePool};

pub const LEASE: &str = "engine";

/// How a run was started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    RunNow,
    Command,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::RunNow => "run now",
            Trigger::Command => "command",
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Running,
    /// Everything it set out to do was done.
    Succeeded,
    /// Some groups were done, some failed or were deferred to the next run.
    Partial,
    /// Nothing could be done.
    Failed,
    /// Stopped by a shutdown or a crash; the rest waits for the next run.
    Interrupted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Running => "running",
            Outcome::Succeeded => "succeeded",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
            Outcome::Interrupted => "interrupted",
        }
    }
}

/// A run's counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub groups: i64,
    pub opened: i64,
    pub noted: i64,
    pub resolved: i64,
    pub unchanged: i64,
    /// Groups whose every failing finding is set aside (filters, exceptions), no ticket.
    pub set_aside: i64,
    /// Groups left to the next run (the run stopped before them).
    pub skipped: i64,
    pub failed: i64,
}

/// A run as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRow {
    pub id: i64,
    pub started_by: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub outcome: String,
    pub counts: Counts,
    pub errors: Vec<String>,
}

/// Takes the lease if it is free or lapsed (or already ours). Times in milliseconds.
async fn take_lease<'e>(
    executor: impl sqlx::SqliteExecutor<'e>,
    holder: &str,
    now_ms: i64,
    lease_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO engine_lease (name, holder, run_id, expires_at) VALUES (?, ?, NULL, ?) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, run_id = NULL, \
            expires_at = excluded.expires_at \
         WHERE engine_lease.expires_at <= ? OR engine_lease.holder = excluded.holder",
    )
    .bind(LEASE)
    .bind(holder)
    .bind(now_ms + lease_ms)
    .bind(now_ms)
    .execute(executor)
    .await
    .context("Failed to take the engine's lease")?;
    Ok(done.rows_affected() == 1)
}

/// Extends the lease; false when it is no longer ours (another holder took it). A lease of
/// ours that lapsed while nobody took it (the renewals waited on a database another writer
/// held, e.g. a long scan upload) is extended again: taking a lease changes its holder in
/// the same serialized write, so nobody else can have run under it meanwhile.
pub async fn renew_lease(
    pool: &SqlitePool,
    holder: &str,
    now_ms: i64,
    lease_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query("UPDATE engine_lease SET expires_at = ? WHERE name = ? AND holder = ?")
        .bind(now_ms + lease_ms)
        .bind(LEASE)
        .bind(holder)
        .execute(pool)
        .await
        .context("Failed to renew the engine's lease")?;
    Ok(done.rows_affected() == 1)
}

pub async fn release_lease(pool: &SqlitePool, holder: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE engine_lease SET expires_at = 0, run_id = NULL WHERE name = ? AND holder = ?",
    )
    .bind(LEASE)
    .bind(holder)
    .execute(pool)
    .await
    .context("Failed to release the engine's lease")?;
    Ok(())
}

/// The run under an unexpired lease, if any: what "run N is in progress" names.
pub async fn leased_run(pool: &SqlitePool, now_ms: i64) -> anyhow::Result<Option<i64>> {
    let run: Option<Option<i64>> =
        sqlx::query_scalar("SELECT run_id FROM engine_lease WHERE name = ? AND expires_at > ?")
            .bind(LEASE)
            .bind(now_ms)
            .fetch_optional(pool)
            .await
            .context("Failed to read the engine's lease")?;
    Ok(run.flatten())
}

/// Takes the lease for `holder` (as [`acquire_lease`]) and records a new run under it, in
/// one transaction: whoever finds the lease taken finds the run it names. `None` when
/// another holder's lease is live. Runs still "running" under another holder are from a
/// holder that died (the lease was free): they are marked interrupted.
pub async fn start_run(
    pool: &SqlitePool,
    trigger: Trigger,
    holder: &str,
    now: i64,
    now_ms: i64,
    lease_ms: i64,
) -> anyhow::Result<Option<i64>> {
    let mut tx = pool.begin().await.context("Failed to begin the run")?;
    if !take_lease(&mut *tx, holder, now_ms, lease_ms).await? {
        return Ok(None);
    }
    sqlx::query(
        "UPDATE engine_runs SET outcome = 'interrupted', ended_at = COALESCE(ended_at, ?), \
            errors = CASE WHEN errors = '' THEN ? ELSE errors END \
         WHERE outcome = 'running' AND holder <> ?",
    )
    .bind(now)
    .bind("The process running it stopped before the run ended; the rest was left to the next run.")
    .bind(holder)
    .execute(&mut *tx)
    .await
    .context("Failed to mark interrupted runs")?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO engine_runs (started_by, holder, started_at, outcome) VALUES (?, ?, ?, 'running') RETURNING id",
    )
    .bind(trigger.as_str())
    .bind(holder)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .context("Failed to record the run")?;
    sqlx::query("UPDATE engine_lease SET run_id = ? WHERE name = ? AND holder = ?")
        .bind(id)
        .bind(LEASE)
        .bind(holder)
        .execute(&mut *tx)
        .await
        .context("Failed to name the run in the lease")?;
    tx.commit().await.context("Failed to commit the run")?;
    Ok(Some(id))
}

/// Runs left "running" by a holder whose lease lapsed are marked interrupted (at start).
pub async fn mark_dead_runs(pool: &SqlitePool, now: i64, now_ms: i64) -> anyhow::Result<u64> {
    let done = sqlx::query(
        "UPDATE engine_runs SET outcome = 'interrupted', ended_at = COALESCE(ended_at, ?), \
            errors = CASE WHEN errors = '' THEN ? ELSE errors END \
         WHERE outcome = 'running' AND holder NOT IN \
            (SELECT holder FROM engine_lease WHERE name = ? AND expires_at > ?)",
    )
    .bind(now)
    .bind("The process running it stopped before the run ended; the rest was left to the next run.")
    .bind(LEASE)
    .bind(now_ms)
    .execute(pool)
    .await
    .context("Failed to mark interrupted runs")?;
    Ok(done.rows_affected())
}

/// The counts so far, while the run goes on.
pub async fn record_progress(pool: &SqlitePool, run: i64, counts: &Counts) -> anyhow::Result<()> {
    write_counts(pool, run, counts, None, None, &[]).await
}

pub async fn finish_run(
    pool: &SqlitePool,
    run: i64,
    counts: &Counts,
    outcome: Outcome,
    errors: &[String],
    now: i64,
) -> anyhow::Result<()> {
    write_counts(pool, run, counts, Some(outcome), Some(now), errors).await
}

async fn write_counts(
    pool: &SqlitePool,
    run: i64,
    c: &Counts,
    outcome: Option<Outcome>,
    ended_at: Option<i64>,
    errors: &[String],
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE engine_runs SET group_count = ?, opened = ?, noted = ?, resolved = ?, unchanged = ?, \
            set_aside = ?, skipped = ?, failed = ?, outcome = COALESCE(?, outcome), ended_at = COALESCE(?, ended_at), \
            errors = CASE WHEN ? = '' THEN errors ELSE ? END \
         WHERE id = ?",
    )
    .bind(c.groups)
    .bind(c.opened)
    .bind(c.noted)
    .bind(c.resolved)
    .bind(c.unchanged)
    .bind(c.set_aside)
    .bind(c.skipped)
    .bind(c.failed)
    .bind(outcome.map(Outcome::as_str))
    .bind(ended_at)
    .bind(errors.join("\n"))
    .bind(errors.join("\n"))
    .bind(run)
    .execute(pool)
    .await
    .context("Failed to record the run's counts")?;
    Ok(())
}

/// One group a run acted on or failed on.
pub async fn record_group(
    pool: &SqlitePool,
    run: i64,
    key: &super::model::GroupKey,
    action: &str,
    number: Option<&str>,
    detail: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO engine_run_groups (run_id, grouping, group_key, action, number, detail) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(run)
    .bind(key.grouping.value())
    .bind(&key.id)
    .bind(action)
    .bind(number)
    .bind(detail)
    .execute(pool)
    .await
    .context("Failed to record what a run did to a group")?;
    Ok(())
}

/// When the last run that was not interrupted started: the schedule counts from it.
pub async fn last_run_start(pool: &SqlitePool) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar("SELECT MAX(started_at) FROM engine_runs WHERE outcome <> 'interrupted'")
        .fetch_one(pool)
        .await
        .context("Failed to read the last run")
}

const RUN_COLUMNS: &str = "id, started_by, started_at, ended_at, outcome, group_count, opened, \
    noted, resolved, unchanged, set_aside, skipped, failed, errors";

fn run_row(r: &sqlx::sqlite::SqliteRow) -> RunRow {
    RunRow {
        id: r.get("id"),
        started_by: r.get("started_by"),
        started_at: r.get("started_at"),
        ended_at: r.get("ended_at"),
        outcome: r.get("outcome"),
        counts: Counts {
            groups: r.get("group_count"),
            opened: r.get("opened"),
            noted: r.get("noted"),
            resolved: r.get("resolved"),
            unchanged: r.get("unchanged"),
            set_aside: r.get("set_aside"),
            skipped: r.get("skipped"),
            failed: r.get("failed"),
        },
        errors: r
            .get::<String, _>("errors")
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

/// The latest `limit` runs, newest first.
pub async fn runs(pool: &SqlitePool, limit: u32) -> anyhow::Result<Vec<RunRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {RUN_COLUMNS} FROM engine_runs ORDER BY id DESC LIMIT ?"
    ))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .context("Failed to list the runs")?;
    Ok(rows.iter().map(run_row).collect())
}

/// One run, if it exists (runs are pruned after `--runs-kept-days`).
pub async fn run(pool: &SqlitePool, id: i64) -> anyhow::Result<Option<RunRow>> {
    let row = sqlx::query(&format!(
        "SELECT {RUN_COLUMNS} FROM engine_runs WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .context("Failed to read the run")?;
    Ok(row.as_ref().map(run_row))
}

/// How many groups a run recorded (acted on or failed on).
pub async fn count_run_groups(pool: &SqlitePool, run: i64) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM engine_run_groups WHERE run_id = ?")
        .bind(run)
        .fetch_one(pool)
        .await
        .context("Failed to count what a run did")
}

/// One page of what a run did per group, in the order it did it: (grouping, key, action,
/// number, detail). Offset paging: one run's rows are few next to the tickets, and a page
/// number reads better than a cursor here.
pub async fn run_groups_page(
    pool: &SqlitePool,
    run: i64,
    limit: u32,
    offset: u64,
) -> anyhow::Result<Vec<(String, String, String, Option<String>, String)>> {
    sqlx::query_as(
        "SELECT grouping, group_key, action, number, detail FROM engine_run_groups \
         WHERE run_id = ? ORDER BY id LIMIT ? OFFSET ?",
    )
    .bind(run)
    .bind(i64::from(limit))
    .bind(i64::try_from(offset).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await
    .context("Failed to read what a run did")
}

/// What a run did per group: (grouping, key, action, number, detail).
pub async fn run_groups(
    pool: &SqlitePool,
    run: i64,
) -> anyhow::Result<Vec<(String, String, String, Option<String>, String)>> {
    sqlx::query_as(
        "SELECT grouping, group_key, action, number, detail FROM engine_run_groups WHERE run_id = ? ORDER BY id",
    )
    .bind(run)
    .fetch_all(pool)
    .await
    .context("Failed to read what a run did")
}

/// The first `limit` groups a run failed: (grouping, key, detail).
pub async fn failed_groups(
    pool: &SqlitePool,
    run: i64,
    limit: u32,
) -> anyhow::Result<Vec<(String, String, String)>> {
    sqlx::query_as(
        "SELECT grouping, group_key, detail FROM engine_run_groups \
         WHERE run_id = ? AND action = 'failed' ORDER BY id LIMIT ?",
    )
    .bind(run)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .context("Failed to read the groups a run failed")
}

/// Deletes the runs that started before `before` (with their group rows).
pub async fn prune_runs(pool: &SqlitePool, before: i64) -> anyhow::Result<u64> {
    let done = sqlx::query("DELETE FROM engine_runs WHERE started_at < ? AND outcome <> 'running'")
        .bind(before)
        .execute(pool)
        .await
        .context("Failed to delete old runs")?;
    Ok(done.rows_affected())
}
