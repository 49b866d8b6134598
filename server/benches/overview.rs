//! Overview benchmark (not a test): the time of the overview's load with 1,000,000 failing
//! findings in the latest scan.
//!
//! Starts the real server on a fresh database, signs in, writes one completed scan of
//! 1,000,000 failing findings (100,000 resources x 10 controls) straight into the tables,
//! then times `load_overview` (what the page and a hydrated page call), from send to the
//! last byte, in two kinds:
//!
//! - `recount`: each load follows a new scan of another source (a small scan written
//!   straight into the tables), so the failing groups are counted again: what every load
//!   cost before the count was kept per set of latest scans;
//! - `kept`: loads with nothing new, the count kept.
//!
//! It prints the median and the maximum of each. Run:
//! `cargo bench -p server --bench overview` (`LOADS=20` by default).

// A benchmark that cannot build its input has nothing to report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

const RESOURCES: i64 = 100_000;
const CONTROLS: i64 = 10;

#[tokio::main]
async fn main() {
    let loads = common::count_from_env("LOADS", 20);
    println!(
        "overview benchmark: {} failing findings, {loads} loads of each kind, {} cores",
        RESOURCES * CONTROLS,
        common::cores()
    );
    let signed_in = common::start_and_sign_in().await;
    let (address, pool, client) = (&signed_in.address, &signed_in.pool, &signed_in.client);

    let findings = format!("{} findings", RESOURCES * CONTROLS);
    common::seed_timed(&findings, seed(pool)).await;
    let load = || async {
        let started = Instant::now();
        let answer = client
            .post(format!("{address}/api/load_overview"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        let body: serde_json::Value = answer.json().await.unwrap();
        assert!(
            body["failing_groups"].as_i64().unwrap() >= RESOURCES,
            "{body}"
        );
        started.elapsed()
    };
    load().await;

    let mut recount = Vec::new();
    for n in 0..loads as i64 {
        new_small_scan(pool, 10 + n).await;
        recount.push(load().await);
    }
    let mut kept = Vec::new();
    for _ in 0..loads {
        kept.push(load().await);
    }
    println!("| kind | loads | median | max |");
    println!("|---|---|---|---|");
    print_row("recount", &mut recount);
    print_row("kept", &mut kept);

    signed_in.stop().await;
}

/// One completed scan of 1,000,000 failing findings: every resource fails every control.
async fn seed(pool: &sqlx::SqlitePool) {
    let findings = RESOURCES * CONTROLS;
    sqlx::query(
        "INSERT INTO scans (id, source, format, scanned_at, received_at, findings, failing, \
            passing, other, completed_at, written_at) \
         VALUES (1, 'bench', 'native', 1795932000, 1795932000, ?, ?, 0, 0, 1795932000, 1795932000)",
    )
    .bind(findings)
    .bind(findings)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO findings (scan_id, control_id, control_title, resource_id, resource_name, \
            resource_type, status, severity, observed_at, detail) \
         WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?) \
         SELECT 1, 'control-' || (i % ?), 'control', 'resource-' || (i / ?), 'resource', 'vm', \
            2, i % 5, NULL, '' FROM seq",
    )
    .bind(findings)
    .bind(CONTROLS)
    .bind(CONTROLS)
    .execute(pool)
    .await
    .unwrap();
}

/// A completed scan of another source with one failing finding: the latest scans change.
async fn new_small_scan(pool: &sqlx::SqlitePool, id: i64) {
    sqlx::query(
        "INSERT INTO scans (id, source, format, scanned_at, received_at, findings, failing, \
            passing, other, completed_at, written_at) \
         VALUES (?, 'other', 'native', 1795932000 + ?, 1795932000, 1, 1, 0, 0, 1795932000, 1795932000)",
    )
    .bind(id)
    .bind(id)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO findings (scan_id, control_id, control_title, resource_id, resource_name, \
            resource_type, status, severity, observed_at, detail) \
         VALUES (?, 'control-x', 'x', 'resource-x', 'x', 'vm', 2, 3, NULL, '')",
    )
    .bind(id)
    .execute(pool)
    .await
    .unwrap();
}

fn print_row(kind: &str, times: &mut [Duration]) {
    times.sort();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    println!(
        "| {kind} | {} | {} | {} |",
        times.len(),
        ms(times[times.len() / 2]),
        ms(*times.last().unwrap())
    );
}
