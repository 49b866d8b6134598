//! Writes a scan: the findings as they arrive, in batches, inside one transaction that is
//! committed only when the whole input was read and found good. Then older scans of the
//! same source beyond the number kept are deleted.

use super::model::Finding;
use anyhow::Context;
use sqlx::{QueryBuilder, Sqlite, SqlitePool, Transaction};

/// Rows per INSERT statement: 10 parameters each, well under SQLite's 32766.
const ROWS_PER_STATEMENT: usize = 500;

pub async fn begin_scan(
    pool: &SqlitePool,
    now: i64,
) -> anyhow::Result<(Transaction<'static, Sqlite>, i64)> {
    let mut tx = pool
        .begin()
        .await
        .context("Failed to begin the scan's transaction")?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO scans (source, format, scanned_at, received_at, findings, failing, passing, other) \
         VALUES ('', '', ?, ?, 0, 0, 0, 0) RETURNING id",
    )
    .bind(now)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .context("Failed to record the scan")?;
    Ok((tx, id))
}

/// Inserts findings; the same (control, resource) twice in a scan is merged: the worse
/// status and the higher severity win.
pub async fn insert_findings(
    tx: &mut Transaction<'static, Sqlite>,
    scan_id: i64,
    findings: &[Finding],
) -> anyhow::Result<()> {
    for chunk in findings.chunks(ROWS_PER_STATEMENT) {
        let mut query: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO findings (scan_id, control_id, control_title, resource_id, resource_name, \
             resource_type, status, severity, observed_at, detail) ",
        );
        query.push_values(chunk, |mut row, f| {
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
        query.push(
            " ON CONFLICT (scan_id, control_id, resource_id) DO UPDATE SET \
               detail = CASE WHEN excluded.status > status THEN excluded.detail ELSE detail END, \
               status = max(status, excluded.status), \
               severity = max(severity, excluded.severity), \
               observed_at = coalesce(max(observed_at, excluded.observed_at), observed_at, excluded.observed_at)",
        );
        query
            .build()
            .persistent(true)
            .execute(&mut **tx)
            .await
            .context("Failed to store findings")?;
    }
    Ok(())
}

pub struct ScanFacts<'a> {
    pub source: &'a str,
    pub format: &'a str,
    pub external_id: Option<&'a str>,
    pub tool: Option<&'a str>,
    pub scanned_at: i64,
}

/// Fills in what was learnt at the end, counts the findings and commits.
pub async fn finish_scan(
    mut tx: Transaction<'static, Sqlite>,
    scan_id: i64,
    facts: ScanFacts<'_>,
) -> anyhow::Result<(i64, i64, i64, i64)> {
    sqlx::query("UPDATE findings SET observed_at = ? WHERE scan_id = ? AND observed_at IS NULL")
        .bind(facts.scanned_at)
        .bind(scan_id)
        .execute(&mut *tx)
        .await
        .context("Failed to date the findings")?;
    let (total, failing, passing, other): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), coalesce(sum(status = 2), 0), coalesce(sum(status = 0), 0), coalesce(sum(status = 1), 0) \
         FROM findings WHERE scan_id = ?",
    )
    .bind(scan_id)
    .fetch_one(&mut *tx)
    .await
    .context("Failed to count the findings")?;
    sqlx::query(
        "UPDATE scans SET source = ?, format = ?, external_id = ?, tool = ?, scanned_at = ?, \
         findings = ?, failing = ?, passing = ?, other = ? WHERE id = ?",
    )
    .bind(facts.source)
    .bind(facts.format)
    .bind(facts.external_id)
    .bind(facts.tool)
    .bind(facts.scanned_at)
    .bind(total)
    .bind(failing)
    .bind(passing)
    .bind(other)
    .bind(scan_id)
    .execute(&mut *tx)
    .await
    .context("Failed to complete the scan")?;
    tx.commit().await.context("Failed to commit the scan")?;
    Ok((total, failing, passing, other))
}

/// The (source, control, resource) pairs failing now: those that fail in the latest scan of
/// their source. A pair missing from that scan, or passing in it, is not failing any more.
pub async fn current_failing(pool: &SqlitePool) -> anyhow::Result<Vec<(String, String, String)>> {
    sqlx::query_as(
        "WITH latest AS ( \
             SELECT id, source FROM ( \
                 SELECT id, source, row_number() OVER \
                     (PARTITION BY source ORDER BY scanned_at DESC, id DESC) AS n \
                 FROM scans) WHERE n = 1) \
         SELECT latest.source, f.control_id, f.resource_id \
         FROM findings f JOIN latest ON f.scan_id = latest.id \
         WHERE f.status = 2 ORDER BY 1, 2, 3",
    )
    .fetch_all(pool)
    .await
    .context("Failed to read the failing findings")
}

/// Deletes the scans of `source` beyond the `keep` latest.
pub async fn prune(pool: &SqlitePool, source: &str, keep: u32) -> anyhow::Result<u64> {
    let deleted = sqlx::query(
        "DELETE FROM scans WHERE source = ? AND id NOT IN \
           (SELECT id FROM scans WHERE source = ? ORDER BY scanned_at DESC, id DESC LIMIT ?)",
    )
    .bind(source)
    .bind(source)
    .bind(i64::from(keep))
    .execute(pool)
    .await
    .context("Failed to delete old scans")?;
    Ok(deleted.rows_affected())
}
