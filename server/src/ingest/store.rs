//! The scan tables' statements. A scan is written in chunks, each its own short
//! transaction, into a row that nothing reads until its last short transaction completes it
//! (`completed_at`); a scan without `completed_at` is being received or being deleted.
//! Deleting a scan is chunked too. The order in which these run, and who goes first, is
//! [`ScanWriter`](super::writer::ScanWriter)'s business.

use super::model::Finding;
use anyhow::Context;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

/// Rows per INSERT statement: 10 parameters each, well under SQLite's 32766.
const ROWS_PER_STATEMENT: usize = 500;

/// Rows deleted per transaction when a scan is removed.
const ROWS_PER_DELETE: i64 = 10_000;

/// A scan being received whose upload has written nothing for this long belongs to an
/// upload that died (a live one renews `written_at` every minute): its rows are removed.
pub const ABANDONED_AFTER_SECONDS: i64 = 10 * 60;

/// `written_at` of a scan claimed for deletion (hidden, refused or abandoned). A deletion
/// claims the scan before it deletes a row, and a claimed scan is never written to or
/// completed again: an upload taken for dead that was in fact alive fails whole, instead of
/// completing with the rows that were left.
pub const CLAIMED_FOR_DELETION: i64 = -1;

/// Records a scan being received, invisible until [`complete`]; returns its id.
pub async fn start_scan(conn: &mut SqliteConnection, now: i64) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO scans (source, format, scanned_at, received_at, findings, failing, passing, other, \
                            completed_at, written_at) \
         VALUES ('', '', ?1, ?1, 0, 0, 0, 0, NULL, ?1) RETURNING id",
    )
    .bind(now)
    .fetch_one(conn)
    .await
    .context("Failed to record the scan")
}

/// Notes that the upload of `scan_id` is alive; fails if a deletion has claimed the scan
/// (a cleanup took the upload for dead), since rows of it may be gone.
pub async fn touch(conn: &mut SqliteConnection, scan_id: i64, now: i64) -> anyhow::Result<()> {
    let touched = sqlx::query(
        "UPDATE scans SET written_at = ?1 WHERE id = ?2 AND completed_at IS NULL AND written_at <> ?3",
    )
    .bind(now)
    .bind(scan_id)
    .bind(CLAIMED_FOR_DELETION)
    .execute(conn)
    .await
    .context("Failed to note the scan's progress")?
    .rows_affected();
    if touched != 1 {
        anyhow::bail!("the scan being received was removed meanwhile, taken for abandoned");
    }
    Ok(())
}

/// How a pair seen twice in a scan is stored: the worse status and the higher severity win.
const MERGE: &str = " ON CONFLICT (scan_id, control_id, resource_id) DO UPDATE SET \
     detail = CASE WHEN excluded.status > status THEN excluded.detail ELSE detail END, \
     status = max(status, excluded.status), \
     severity = max(severity, excluded.severity), \
     observed_at = coalesce(max(observed_at, excluded.observed_at), observed_at, excluded.observed_at)";

/// Writes one chunk of a scan in its own transaction, starting the scan (invisible) with
/// its first chunk or noting that its upload is alive; returns the scan's id and whether a
/// finding was merged (see [`insert_findings`]).
pub async fn write_chunk(
    conn: &mut SqliteConnection,
    scan: Option<i64>,
    findings: &[Finding],
    merging: bool,
    now: i64,
) -> anyhow::Result<(i64, bool)> {
    let mut tx = sqlx::Connection::begin(conn)
        .await
        .context("Failed to begin a chunk of the scan")?;
    let scan_id = match scan {
        Some(id) => {
            touch(&mut tx, id, now).await?;
            id
        }
        None => start_scan(&mut tx, now).await?,
    };
    let merged = insert_findings(&mut tx, scan_id, findings, merging).await?;
    tx.commit()
        .await
        .context("Failed to commit a chunk of the scan")?;
    Ok((scan_id, merged))
}

/// Inserts findings; the same (control, resource) twice in a scan is merged: the worse
/// status and the higher severity win. A finding without its own time is dated by its
/// scan's `scanned_at` when read. Returns whether any finding of the scan was merged into
/// another (`merging`, or one of these), so that a scan with none can be counted from what
/// was sent instead of read back.
///
/// Until a scan has a merge (`merging` false), each statement inserts its rows as they are,
/// skipping any pair already stored, and only a statement that skipped some runs again
/// with [`MERGE`] (which leaves a row merged with itself unchanged). From its first merge
/// on, the scan's statements merge at once: a scan whose pairs repeat pays for one
/// statement twice, not for every one.
pub async fn insert_findings(
    conn: &mut SqliteConnection,
    scan_id: i64,
    findings: &[Finding],
    mut merging: bool,
) -> anyhow::Result<bool> {
    for chunk in findings.chunks(ROWS_PER_STATEMENT) {
        if !merging {
            let inserted = insert_statement(scan_id, chunk, " ON CONFLICT DO NOTHING")
                .build()
                .persistent(true)
                .execute(&mut *conn)
                .await
                .context("Failed to store findings")?
                .rows_affected();
            if inserted == chunk.len() as u64 {
                continue;
            }
            merging = true;
        }
        insert_statement(scan_id, chunk, MERGE)
            .build()
            .persistent(true)
            .execute(&mut *conn)
            .await
            .context("Failed to store findings")?;
    }
    Ok(merging)
}

/// One multi-row INSERT of `findings`, ending with `on_conflict`.
fn insert_statement<'a>(
    scan_id: i64,
    findings: &'a [Finding],
    on_conflict: &str,
) -> QueryBuilder<'a, Sqlite> {
    let mut query: QueryBuilder<Sqlite> = QueryBuilder::new(
        "INSERT INTO findings (scan_id, control_id, control_title, resource_id, resource_name, \
         resource_type, status, severity, observed_at, detail) ",
    );
    query.push_values(findings, |mut row, f| {
        row.push_bind(scan_id)
            .push_bind(&f.control_id)
            .push_bind(&f.control_title)
            .push_bind(&f.resource_id)
            .push_bind(&f.resource_name)
            .push_bind(&f.resource_type)
            .push_bind(f.status as i64)
            .push_bind(f.severity.0)
            .push_bind(f.time)
            .push_bind(&f.detail);
    });
    query.push(on_conflict);
    query
}

/// A scan's findings by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub findings: i64,
    pub failing: i64,
    pub passing: i64,
    pub other: i64,
}

/// Counts the findings of a scan (a read: no write lock).
pub async fn count(pool: &SqlitePool, scan_id: i64) -> anyhow::Result<Counts> {
    let (findings, failing, passing, other): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), coalesce(sum(status = 2), 0), coalesce(sum(status = 0), 0), coalesce(sum(status = 1), 0) \
         FROM findings WHERE scan_id = ?",
    )
    .bind(scan_id)
    .fetch_one(pool)
    .await
    .context("Failed to count the findings")?;
    Ok(Counts {
        findings,
        failing,
        passing,
        other,
    })
}

pub struct ScanFacts<'a> {
    pub source: &'a str,
    pub format: &'a str,
    pub external_id: Option<&'a str>,
    pub tool: Option<&'a str>,
    pub scanned_at: i64,
    /// Whether `scanned_at` is the scan's own time (else it is the time of its receipt).
    pub own_time: bool,
    pub counts: Counts,
}

/// What completing a scan did.
#[derive(Debug, PartialEq, Eq)]
pub enum Completion {
    /// The scan is its source's latest; these older scans were hidden, to be deleted.
    Completed { hidden: Vec<i64> },
    /// Not completed: this scan of the same source is newer (or as new, both with their own time).
    Newer { scan_id: i64, scanned_at: i64 },
}

/// The last short transaction of an upload: unless a newer scan of the source is stored, or
/// one with the same own time (a scan sent twice: the first completed stays the latest; two
/// dated by their receipt in the same second are in the order received),
/// fills in what was learnt at the end and makes the scan visible as its source's latest;
/// the scans beyond the `keep` latest are hidden in the same transaction (and deleted
/// afterwards, in chunks, by the caller).
pub async fn complete(
    conn: &mut SqliteConnection,
    scan_id: i64,
    facts: ScanFacts<'_>,
    keep: u32,
    now: i64,
) -> anyhow::Result<Completion> {
    // IMMEDIATE: it reads, then writes; a deferred transaction would fail with
    // SQLITE_BUSY_SNAPSHOT if another write (the engine's lease) came in between.
    let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE")
        .await
        .context("Failed to begin completing the scan")?;
    let newer: Option<(i64, i64)> = sqlx::query_as(
        "SELECT id, scanned_at FROM scans \
         WHERE source = ?1 AND completed_at IS NOT NULL AND (scanned_at > ?2 OR (?3 AND scanned_at = ?2)) \
         ORDER BY scanned_at DESC, id DESC LIMIT 1",
    )
    .bind(facts.source)
    .bind(facts.scanned_at)
    .bind(facts.own_time)
    .fetch_optional(&mut *tx)
    .await
    .context("Failed to read the source's latest scan")?;
    if let Some((scan_id, scanned_at)) = newer {
        return Ok(Completion::Newer {
            scan_id,
            scanned_at,
        });
    }
    let Counts {
        findings,
        failing,
        passing,
        other,
    } = facts.counts;
    let completed = sqlx::query(
        "UPDATE scans SET source = ?, format = ?, external_id = ?, tool = ?, scanned_at = ?, \
         findings = ?, failing = ?, passing = ?, other = ?, completed_at = ?, written_at = ? \
         WHERE id = ? AND completed_at IS NULL AND written_at <> ?",
    )
    .bind(facts.source)
    .bind(facts.format)
    .bind(facts.external_id)
    .bind(facts.tool)
    .bind(facts.scanned_at)
    .bind(findings)
    .bind(failing)
    .bind(passing)
    .bind(other)
    .bind(now)
    .bind(now)
    .bind(scan_id)
    .bind(CLAIMED_FOR_DELETION)
    .execute(&mut *tx)
    .await
    .context("Failed to complete the scan")?
    .rows_affected();
    // No row: a deletion claimed the scan (rows of it may be gone); never shown partly.
    if completed != 1 {
        anyhow::bail!("the scan being received was removed meanwhile, taken for abandoned");
    }
    // Hidden and claimed for deletion: if this process dies before deleting them, the next
    // ingestion does.
    let hidden: Vec<i64> = sqlx::query_scalar(
        "UPDATE scans SET completed_at = NULL, written_at = ?3 \
         WHERE source = ?1 AND completed_at IS NOT NULL AND id NOT IN \
           (SELECT id FROM scans WHERE source = ?1 AND completed_at IS NOT NULL \
            ORDER BY scanned_at DESC, id DESC LIMIT ?2) \
         RETURNING id",
    )
    .bind(facts.source)
    .bind(i64::from(keep))
    .bind(CLAIMED_FOR_DELETION)
    .fetch_all(&mut *tx)
    .await
    .context("Failed to hide the scans beyond those kept")?;
    tx.commit().await.context("Failed to commit the scan")?;
    Ok(Completion::Completed { hidden })
}

/// Deletes up to one chunk of the rows of a scan that is not completed and whose
/// `written_at` is before `cutoff` (`i64::MAX`: the upload deleting its own scan), and the
/// scan itself once it has none left. The first call claims the scan
/// ([`CLAIMED_FOR_DELETION`]), in the same transaction as it checks `written_at`, so an
/// upload alive after all can no longer write to it or complete it. Returns whether there
/// is nothing more to delete (the scan is gone, or it is live or completed: left alone).
pub async fn delete_chunk(
    conn: &mut SqliteConnection,
    scan_id: i64,
    cutoff: i64,
) -> anyhow::Result<bool> {
    // IMMEDIATE: it checks `written_at`, then deletes.
    let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE")
        .await
        .context("Failed to begin deleting a scan")?;
    let claimed = sqlx::query(
        "UPDATE scans SET written_at = ?1 \
         WHERE id = ?2 AND completed_at IS NULL AND (written_at = ?1 OR written_at < ?3)",
    )
    .bind(CLAIMED_FOR_DELETION)
    .bind(scan_id)
    .bind(cutoff)
    .execute(&mut *tx)
    .await
    .context("Failed to claim a scan for deletion")?
    .rows_affected();
    if claimed == 0 {
        // Gone already, completed, or written to since it was found silent: not ours.
        return Ok(true);
    }
    let gone = delete_claimed_rows(&mut tx, scan_id).await?;
    tx.commit()
        .await
        .context("Failed to commit a scan's deletion")?;
    Ok(gone)
}

/// Deletes up to one chunk of the rows of a scan claimed for deletion already (hidden by a
/// completion or a retire), and the scan once it has none left; a scan not claimed is left
/// alone. Never claims: scan ids are reused once the highest scan row is deleted, so the id
/// of a scan another deleter finished may by now be a live upload's, which must not be
/// touched. Returns whether there is nothing more to delete.
pub async fn delete_claimed_chunk(
    conn: &mut SqliteConnection,
    scan_id: i64,
) -> anyhow::Result<bool> {
    let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE")
        .await
        .context("Failed to begin deleting a scan")?;
    let gone = delete_claimed_rows(&mut tx, scan_id).await?;
    tx.commit()
        .await
        .context("Failed to commit a scan's deletion")?;
    Ok(gone)
}

/// One chunk of a claimed scan's findings, and the scan row last once it has none: every
/// statement checks the claim, so rows of a scan not claimed are never deleted.
async fn delete_claimed_rows(conn: &mut SqliteConnection, scan_id: i64) -> anyhow::Result<bool> {
    let deleted = sqlx::query(
        "DELETE FROM findings WHERE scan_id = ?1 AND (control_id, resource_id) IN \
           (SELECT control_id, resource_id FROM findings WHERE scan_id = ?1 LIMIT ?2) \
         AND EXISTS (SELECT 1 FROM scans WHERE id = ?1 AND completed_at IS NULL AND written_at = ?3)",
    )
    .bind(scan_id)
    .bind(ROWS_PER_DELETE)
    .bind(CLAIMED_FOR_DELETION)
    .execute(&mut *conn)
    .await
    .context("Failed to delete a scan's findings")?
    .rows_affected();
    if deleted == ROWS_PER_DELETE as u64 {
        return Ok(false);
    }
    sqlx::query(
        "DELETE FROM scans WHERE id = ? AND completed_at IS NULL AND written_at = ? \
         AND NOT EXISTS (SELECT 1 FROM findings WHERE scan_id = scans.id)",
    )
    .bind(scan_id)
    .bind(CLAIMED_FOR_DELETION)
    .execute(&mut *conn)
    .await
    .context("Failed to delete a scan")?;
    Ok(true)
}

/// Hides every completed scan of `source` and claims it for deletion, in one statement;
/// returns their ids, for the caller to delete with [`delete_claimed_chunk`]. A scan of the source
/// being received is not one of them: it has no source until it completes, and it
/// completes whole (as the source's latest) or not at all. If the process dies before the
/// rows are deleted, a later cleanup deletes them (they are claimed, so never shown again).
pub async fn hide_source(conn: &mut SqliteConnection, source: &str) -> anyhow::Result<Vec<i64>> {
    sqlx::query_scalar(
        "UPDATE scans SET completed_at = NULL, written_at = ?2 \
         WHERE source = ?1 AND completed_at IS NOT NULL RETURNING id",
    )
    .bind(source)
    .bind(CLAIMED_FOR_DELETION)
    .fetch_all(conn)
    .await
    .context("Failed to hide the scans of a source")
}

/// The scans whose upload died (or that were hidden and not yet deleted).
pub async fn abandoned(pool: &SqlitePool, now: i64) -> anyhow::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT id FROM scans WHERE completed_at IS NULL AND written_at < ?")
        .bind(now - ABANDONED_AFTER_SECONDS)
        .fetch_all(pool)
        .await
        .context("Failed to look for abandoned scans")
}

/// The (source, control, resource) pairs failing now: those that fail in the latest
/// completed scan of their source. A pair missing from that scan, or passing in it, is not
/// failing any more.
pub async fn current_failing(pool: &SqlitePool) -> anyhow::Result<Vec<(String, String, String)>> {
    sqlx::query_as(
        "WITH latest AS ( \
             SELECT id, source FROM ( \
                 SELECT id, source, row_number() OVER \
                     (PARTITION BY source ORDER BY scanned_at DESC, id DESC) AS n \
                 FROM scans WHERE completed_at IS NOT NULL) WHERE n = 1) \
         SELECT latest.source, f.control_id, f.resource_id \
         FROM findings f JOIN latest ON f.scan_id = latest.id \
         WHERE f.status = 2 ORDER BY 1, 2, 3",
    )
    .fetch_all(pool)
    .await
    .context("Failed to read the failing findings")
}
