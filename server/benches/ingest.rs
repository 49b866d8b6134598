//! Ingestion benchmark (not a test): 1,000,000 native findings (100,000 resources x 10
//! controls, 30% failing) ingested through the `itsm-bridge ingest` command into a fresh
//! database, several times. Reports findings per second and the peak resident memory of
//! the command (its VmHWM), as medians; then, in the same run, the rate of a bare insert of
//! the same rows into the same table (already in memory, plain multi-row INSERTs in one
//! transaction, nothing parsed), and the ratio of the two: how close ingestion, parsing
//! included, comes to what SQLite can take.
//!
//! Run: `cargo bench -p server --bench ingest` (RUNS=5 by default).

// A benchmark that cannot write its input or run its command has nothing to report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The allocator of the `itsm-bridge` binary, so the bare insert is measured with it too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RESOURCES: usize = 100_000;
const CONTROLS: usize = 10;

fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let folder = tempfile::tempdir().expect("a temporary folder");
    let scan = folder.path().join("scan.json");
    let bytes = write_scan(&scan);
    println!(
        "input: {} findings, {:.1} MiB of native JSON",
        RESOURCES * CONTROLS,
        bytes as f64 / 1048576.0
    );
    let mut rates = Vec::new();
    let mut peaks = Vec::new();
    for run in 1..=runs {
        let database = folder.path().join(format!("run{run}.db"));
        create_database(&database);
        let (elapsed, peak_kib) = ingest(&scan, &database);
        let rate = (RESOURCES * CONTROLS) as f64 / elapsed.as_secs_f64();
        println!(
            "run {run}: {:.2} s, {:.0} findings/s, peak RSS {:.1} MiB",
            elapsed.as_secs_f64(),
            rate,
            peak_kib as f64 / 1024.0
        );
        rates.push(rate);
        peaks.push(peak_kib);
        let _ = std::fs::remove_file(&database);
    }
    let ingest_rate = median_f64(&mut rates);
    println!(
        "median of {runs}: {:.0} findings/s, peak RSS {:.1} MiB",
        ingest_rate,
        median_u64(&mut peaks) as f64 / 1024.0
    );

    let rows = bare_rows();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let mut bare_rates = Vec::new();
    for run in 1..=runs {
        let database = folder.path().join(format!("bare{run}.db"));
        let elapsed = runtime.block_on(bare_insert(&rows, &database));
        let rate = rows.len() as f64 / elapsed.as_secs_f64();
        println!(
            "bare insert {run}: {:.2} s, {:.0} rows/s",
            elapsed.as_secs_f64(),
            rate
        );
        bare_rates.push(rate);
        let _ = std::fs::remove_file(&database);
    }
    let bare_rate = median_f64(&mut bare_rates);
    println!(
        "median of {runs}: bare insert {:.0} rows/s; ingestion / bare insert = {:.2}",
        bare_rate,
        ingest_rate / bare_rate
    );
}

/// One row of the findings table, as ingestion stores the scan's findings.
struct Row {
    control_id: String,
    control_title: String,
    resource_id: String,
    resource_name: String,
    status: i64,
}

/// The rows the scan file holds, built in memory (not timed).
fn bare_rows() -> Vec<Row> {
    let mut rows = Vec::with_capacity(RESOURCES * CONTROLS);
    for r in 0..RESOURCES {
        for c in 0..CONTROLS {
            let n = rows.len();
            rows.push(Row {
                control_id: format!("control_{c:02}"),
                control_title: format!("Control number {c}"),
                resource_id: format!("arn:aws:s3:::bucket-{r:06}"),
                resource_name: format!("bucket-{r:06}"),
                status: if n % 10 < 3 { 2 } else { 0 },
            });
        }
    }
    rows
}

/// Inserts `rows` into the findings table of a fresh, migrated database, 500 rows per
/// statement (as the writer's statements hold), plain INSERTs in one transaction: the
/// simplest way to put the rows in, with none of the writer's chunking, deference or
/// merging of repeated pairs; returns the time taken.
async fn bare_insert(rows: &[Row], database: &Path) -> Duration {
    let pool = server::database::open(database)
        .await
        .expect("the database");
    let start = Instant::now();
    let mut tx = pool.begin().await.expect("a transaction");
    let scan_id: i64 = sqlx::query_scalar(
        "INSERT INTO scans (source, format, scanned_at, received_at, findings, failing, passing, other) \
         VALUES ('bench', 'native', 0, 0, 0, 0, 0, 0) RETURNING id",
    )
    .fetch_one(&mut *tx)
    .await
    .expect("a scan");
    for chunk in rows.chunks(500) {
        let mut query: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new(
            "INSERT INTO findings (scan_id, control_id, control_title, resource_id, resource_name, \
             resource_type, status, severity, observed_at, detail) ",
        );
        query.push_values(chunk, |mut row, f| {
            row.push_bind(scan_id)
                .push_bind(&f.control_id)
                .push_bind(&f.control_title)
                .push_bind(&f.resource_id)
                .push_bind(&f.resource_name)
                .push_bind("AwsS3Bucket")
                .push_bind(f.status)
                .push_bind(2_i64)
                .push_bind(None::<i64>)
                .push_bind("");
        });
        query
            .build()
            .persistent(true)
            .execute(&mut *tx)
            .await
            .expect("rows inserted");
    }
    tx.commit().await.expect("committed");
    let elapsed = start.elapsed();
    pool.close().await;
    elapsed
}

/// Writes the scan file; returns its size.
fn write_scan(path: &Path) -> u64 {
    let file = std::fs::File::create(path).expect("the scan file");
    let mut out = BufWriter::with_capacity(1 << 20, file);
    write!(out, r#"{{"schema_version":"1","source":"bench","scan":{{"id":"bench","time":"2026-11-29T06:00:00Z"}},"findings":["#).unwrap();
    let mut n = 0usize;
    for r in 0..RESOURCES {
        for c in 0..CONTROLS {
            if n > 0 {
                out.write_all(b",").unwrap();
            }
            // 30% failing, spread over resources and controls.
            let status = if n % 10 < 3 { "fail" } else { "pass" };
            write!(
                out,
                r#"{{"control":{{"id":"control_{c:02}","title":"Control number {c}"}},"resource":{{"id":"arn:aws:s3:::bucket-{r:06}","name":"bucket-{r:06}","type":"AwsS3Bucket"}},"status":"{status}","severity":"medium"}}"#
            )
            .unwrap();
            n += 1;
        }
    }
    out.write_all(b"]}").unwrap();
    out.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}

/// A fresh, migrated database, as the server's first start makes it: the command refuses a
/// database that does not exist.
fn create_database(path: &Path) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let pool = server::database::open(path).await.expect("the database");
        pool.close().await;
    });
}

/// Runs the ingest command; returns its wall time and peak resident memory in KiB.
fn ingest(scan: &Path, database: &Path) -> (Duration, u64) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_itsm-bridge"))
        .arg("--database-url")
        .arg(database)
        .args([
            "--max-scan-bytes",
            "1073741824",
            "ingest",
            "--source",
            "bench",
        ])
        .arg(scan)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("itsm-bridge starts");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Some(status) = child.try_wait().expect("the child") {
            assert!(status.success(), "ingest failed");
            break;
        }
        // VmHWM is the high-water mark so far: the last reading before exit is the peak,
        // to within one polling interval.
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(kib) = text
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    (start.elapsed(), peak)
}

fn median_f64(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn median_u64(values: &mut [u64]) -> u64 {
    values.sort_unstable();
    values[values.len() / 2]
}
