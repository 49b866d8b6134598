//! Ticket engine benchmark (not a test). Four measurements, each repeated RUNS times (5 by
//! default) and reported as a table with the median and every run, in run order:
//!
//! 1. `planner::plan` on 1,000,000 failing findings (100,000 resources x 10 controls) held
//!    in memory, for each grouping, with no tracked tickets and then with every group
//!    tracked and unchanged (state In Progress: all Nothing). Only the call is timed.
//! 2. `store::snapshot` on a database holding the same 1,000,000 findings (ingested once
//!    through `ingest::ingest`), without tracked tickets, then with 100,000 (By resources,
//!    10 members each, written by SQL straight into the engine's tables).
//! 3. The steady state: a second run over 10,000 tracked open tickets with nothing new,
//!    against the in-process simulator: the requests it sent and its duration, with two
//!    parts of it: the state reads (first to last, seen by sampling the simulator's log)
//!    and `store::snapshot` timed alone on the same database right after.
//! 4. Opening those 10,000 tickets (the first run), request cap lifted: tickets per second
//!    and requests per ticket, by kind, from the simulator's counters.
//!
//! Run: `cargo bench -p server --bench engine` (RUNS=5 by default). Arguments pick
//! benchmarks by name: `cargo bench -p server --bench engine -- planning snapshot runs`.

// A benchmark that cannot build its input has nothing to report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::backend::SettingsStore;
use app::domain::{Grouping, IncidentState};
use app::forms::{ConnectionForm, ConnectionView, ItsmSettings};
use server::configuration::Config;
use server::engine::model::{
    Finding, GroupKey, LatestResult, LatestResults, Member, Rules, TrackedTicket,
};
use server::engine::planner::{self, Action};
use server::engine::{Outcome, RunReport, Trigger, refresh, store};
use server::ingest::{self, Format, IngestRequest, Severity, Status};
use server::secrets::SecretCipher;
use server::settings_store::SqliteSettingsStore;
use server::{auth, database, startup};
use servicenow_sim::SimHandle;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Benchmarks 1 and 2: 1,000,000 failing findings.
const RESOURCES: usize = 100_000;
const CONTROLS: usize = 10;
/// Benchmarks 3 and 4: 10,000 tickets (10,000 resources x 10 failing controls).
const TICKETS: usize = 10_000;
const SOURCE: &str = "bench";
/// The scans' time: 2026-11-29T06:00:00Z.
const SCANNED_AT: i64 = 1_795_932_000;
const SCAN_TIME: &str = "2026-11-29T06:00:00Z";
const BENCH_INSTANCE: &str = "https://bench.service-now.com";

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5);
    let picked: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| picked.is_empty() || picked.iter().any(|p| name.contains(p));
    println!(
        "engine benchmark: RUNS={runs}, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if wanted("planning") {
        planning(runs);
    }
    if wanted("snapshot") {
        snapshot(runs).await;
    }
    if wanted("runs") {
        engine_runs(runs).await;
    }
}

// ---- 1. Planning ------------------------------------------------------------------------

fn planning(runs: usize) {
    let findings = failing_findings();
    let none = LatestResults::new();
    let mut table = Table::new(
        "1. Planning 1,000,000 failing findings (100,000 resources x 10 controls): plan() only, target at most 1 s",
    );
    for grouping in Grouping::ALL {
        let rules = rules(grouping);
        let groups = if grouping == Grouping::Resources {
            RESOURCES
        } else {
            CONTROLS
        };
        let times = repeat(runs, || {
            let start = Instant::now();
            let decisions = planner::plan(&findings, &none, &[], &rules, SCANNED_AT + 3_600);
            let elapsed = start.elapsed();
            assert_eq!(decisions.len(), groups);
            assert!(
                decisions
                    .iter()
                    .all(|d| matches!(d.action, Action::Open { .. }))
            );
            elapsed
        });
        table.row(
            &format!(
                "By {}, no tracked tickets ({} opens)",
                grouping.value(),
                group_digits(groups as f64)
            ),
            times,
            Unit::Seconds,
        );
    }
    for grouping in Grouping::ALL {
        let rules = rules(grouping);
        let (tickets, results) = tracked_in_memory(&findings, grouping);
        let count = tickets.len();
        let times = repeat(runs, || {
            let start = Instant::now();
            let decisions =
                planner::plan(&findings, &results, &tickets, &rules, SCANNED_AT + 3_600);
            let elapsed = start.elapsed();
            assert_eq!(decisions.len(), count);
            assert!(
                decisions
                    .iter()
                    .all(|d| matches!(d.action, Action::Nothing { ticket: Some(_) })),
                "{:?}",
                decisions.first().map(|d| &d.reason)
            );
            elapsed
        });
        table.row(
            &format!(
                "By {}, {} tracked tickets unchanged ({} members each, all Nothing)",
                grouping.value(),
                group_digits(count as f64),
                group_digits((findings.len() / count) as f64)
            ),
            times,
            Unit::Seconds,
        );
    }
    table.print();
}

/// The findings in the order of the ingest benchmark's file: resource by resource.
fn failing_findings() -> Vec<Finding> {
    let mut findings = Vec::with_capacity(RESOURCES * CONTROLS);
    for r in 0..RESOURCES {
        for c in 0..CONTROLS {
            findings.push(Finding {
                source: SOURCE.into(),
                scan_id: 1,
                scanned_at: SCANNED_AT,
                control_id: format!("control_{c:02}"),
                control_title: format!("Control number {c}"),
                resource_id: format!("arn:aws:s3:::bucket-{r:06}"),
                resource_name: format!("bucket-{r:06}"),
                resource_type: "AwsS3Bucket".into(),
                severity: Severity(2),
            });
        }
    }
    findings
}

fn rules(grouping: Grouping) -> Rules {
    Rules {
        grouping,
        duplicate_status: IncidentState::Resolved.value().to_string(),
        duplicate_days: 0,
        auto_resolve: true,
    }
}

/// One tracked ticket per group, In Progress, listing exactly the group's failing findings;
/// and what the latest scan says of every member (Fail), as the snapshot reads it.
fn tracked_in_memory(
    findings: &[Finding],
    grouping: Grouping,
) -> (Vec<TrackedTicket>, LatestResults) {
    let mut groups: BTreeMap<&str, Vec<Member>> = BTreeMap::new();
    let mut results = LatestResults::with_capacity(findings.len());
    for finding in findings {
        let key = finding.member_key();
        results.insert(
            key.clone(),
            LatestResult {
                status: Status::Fail,
                scan_id: finding.scan_id,
                scanned_at: finding.scanned_at,
            },
        );
        groups
            .entry(finding.group_id(grouping))
            .or_default()
            .push(Member {
                key,
                first_seen: SCANNED_AT,
                failing: true,
            });
    }
    let tickets = groups
        .into_iter()
        .enumerate()
        .map(|(n, (id, mut members))| {
            members.sort_by(|a, b| a.key.cmp(&b.key));
            TrackedTicket {
                id: n as i64 + 1,
                key: GroupKey::new(grouping, id),
                generation: 1,
                number: format!("INC{:07}", n + 1),
                sys_id: format!("{:032x}", n + 1),
                state: IncidentState::InProgress.value().to_string(),
                state_seen_at: SCANNED_AT,
                opened_at: SCANNED_AT,
                resolved_at: None,
                closed_at: None,
                missing_since: None,
                members,
            }
        })
        .collect();
    (tickets, results)
}

// ---- 2. The snapshot --------------------------------------------------------------------

async fn snapshot(runs: usize) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = folder.path().join("snapshot.db");
    let pool = database::open(&path).await.expect("the database");
    let scan = folder.path().join("scan.json");
    write_scan(&scan, RESOURCES, CONTROLS);
    let start = Instant::now();
    let summary = ingest_file(&pool, &scan).await;
    println!(
        "\nsnapshot: ingested {} failing findings in {:.1} s",
        group_digits(summary.failing as f64),
        start.elapsed().as_secs_f64()
    );
    std::fs::remove_file(&scan).expect("the scan file goes");
    save_settings(&pool, &folder.path().join("snapshot.key"), BENCH_INSTANCE).await;
    let engine_pool = database::open_for_engine(&path)
        .await
        .expect("the engine's pool");

    let mut table = Table::new(
        "2. The snapshot read from the database (store::snapshot), 1,000,000 failing findings",
    );
    let times = time_snapshots(runs, &engine_pool, 0).await;
    table.row("no tracked tickets", times, Unit::Seconds);

    let start = Instant::now();
    track_every_resource(&pool, summary.scan_id).await;
    println!(
        "snapshot: wrote {} tracked tickets with {} members in {:.1} s",
        group_digits(RESOURCES as f64),
        group_digits((RESOURCES * CONTROLS) as f64),
        start.elapsed().as_secs_f64()
    );
    let times = time_snapshots(runs, &engine_pool, RESOURCES).await;
    table.row(
        "100,000 tracked tickets (By resources, 10 members each)",
        times,
        Unit::Seconds,
    );
    table.print();
    engine_pool.close().await;
    pool.close().await;
}

async fn time_snapshots(runs: usize, pool: &sqlx::SqlitePool, tickets: usize) -> Vec<f64> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let snapshot = store::snapshot(pool, BENCH_INSTANCE)
            .await
            .expect("the snapshot");
        times.push(start.elapsed().as_secs_f64());
        assert!(snapshot.rules.is_some());
        assert_eq!(snapshot.findings.len(), RESOURCES * CONTROLS);
        assert_eq!(snapshot.tickets.len(), tickets);
        assert_eq!(snapshot.results.len(), tickets * CONTROLS);
        // Dropped outside the measurement.
        drop(snapshot);
    }
    times
}

/// What a run that opened one ticket per resource leaves, written in two statements.
async fn track_every_resource(pool: &sqlx::SqlitePool, scan_id: i64) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO engine_tickets (grouping, group_key, generation, correlation_id, instance_url, \
            phase, tracked, sys_id, number, state, state_seen_at, opened_at, created_at, refreshed_at) \
         SELECT 'resources', resource_id, 1, 'itsm-bridge/bench/resources/' || resource_id || '/1', ?, \
            'open', 1, lower(hex(randomblob(16))), printf('INC%07d', row_number() OVER (ORDER BY resource_id)), \
            '2', ?, ?, ?, ? \
         FROM (SELECT DISTINCT resource_id FROM findings WHERE scan_id = ?)",
    )
    .bind(BENCH_INSTANCE)
    .bind(SCANNED_AT)
    .bind(SCANNED_AT)
    .bind(SCANNED_AT)
    .bind(SCANNED_AT)
    .bind(scan_id)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO engine_ticket_members (ticket_id, source, control_id, resource_id, first_seen, failing) \
         SELECT t.id, ?, f.control_id, f.resource_id, ?, 1 \
         FROM findings f JOIN engine_tickets t ON t.grouping = 'resources' AND t.group_key = f.resource_id \
         WHERE f.scan_id = ?",
    )
    .bind(SOURCE)
    .bind(SCANNED_AT)
    .bind(scan_id)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

// ---- 3 and 4. Runs against the simulator ------------------------------------------------

struct RunFigures {
    elapsed: Duration,
    counters: BTreeMap<String, usize>,
    report: RunReport,
    /// From the first state read to the last (sampled every 5 ms), when the run read states.
    reads: Option<Duration>,
}

/// The second run, and how long `store::snapshot` takes alone on the same database after it.
struct Steady {
    run: RunFigures,
    snapshot_alone: Duration,
}

async fn engine_runs(runs: usize) {
    let mut opening = Vec::new();
    let mut steady = Vec::new();
    for run in 1..=runs {
        let (first, second) = open_then_steady().await;
        println!(
            "run {run}: opened {} in {:.2} s ({} requests); steady state {:.2} s ({} requests, snapshot alone {:.2} s)",
            first.report.counts.opened,
            first.elapsed.as_secs_f64(),
            total(&first.counters),
            second.run.elapsed.as_secs_f64(),
            total(&second.run.counters),
            second.snapshot_alone.as_secs_f64()
        );
        opening.push(first);
        steady.push(second);
    }

    let mut table = Table::new(
        "3. Steady state: 10,000 tracked open tickets, nothing new (second run); target at most 101 requests",
    );
    table.row(
        "requests sent to ServiceNow",
        steady
            .iter()
            .map(|s| total(&s.run.counters) as f64)
            .collect(),
        Unit::Count,
    );
    table.row(
        "run duration",
        steady.iter().map(|s| s.run.elapsed.as_secs_f64()).collect(),
        Unit::Seconds,
    );
    table.row(
        "of which the state reads (first to 100th GET, sampled every 5 ms)",
        steady
            .iter()
            .map(|s| s.run.reads.map_or(f64::NAN, |r| r.as_secs_f64()))
            .collect(),
        Unit::Seconds,
    );
    table.row(
        "of which the snapshot (store::snapshot alone, same database)",
        steady
            .iter()
            .map(|s| s.snapshot_alone.as_secs_f64())
            .collect(),
        Unit::Seconds,
    );
    table.print();
    let steady: Vec<RunFigures> = steady.into_iter().map(|s| s.run).collect();
    print_kinds(&steady);

    let mut table = Table::new(
        "4. Opening 10,000 tickets (first run, rate cap lifted); target 1.0 request per ticket plus the token request",
    );
    table.row(
        "tickets per second",
        opening
            .iter()
            .map(|f| f.report.counts.opened as f64 / f.elapsed.as_secs_f64())
            .collect(),
        Unit::Rate,
    );
    table.row(
        "requests per ticket, token request excluded",
        opening
            .iter()
            .map(|f| (total(&f.counters) - tokens(&f.counters)) as f64 / TICKETS as f64)
            .collect(),
        Unit::Ratio,
    );
    table.row(
        "token requests",
        opening.iter().map(|f| tokens(&f.counters) as f64).collect(),
        Unit::Count,
    );
    table.row(
        "run duration",
        opening.iter().map(|f| f.elapsed.as_secs_f64()).collect(),
        Unit::Seconds,
    );
    table.print();
    print_kinds(&opening);
}

/// A fresh database and simulator; the first run opens 10,000 tickets, the second finds
/// nothing new.
async fn open_then_steady() -> (RunFigures, Steady) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = folder.path().join("runs.db");
    let sim = servicenow_sim::start("127.0.0.1:0".parse().unwrap(), 1800)
        .await
        .expect("the simulator");
    let mut config = Config::with_database(path.to_string_lossy().to_string());
    config.servicenow_requests_per_second = 100_000;
    config.no_scheduler = true;
    let pool = database::open(&path).await.expect("the database");
    let store = save_settings(&pool, &config.key_file_path().unwrap(), &sim.url()).await;
    let scan = folder.path().join("scan.json");
    write_scan(&scan, TICKETS, CONTROLS);
    let summary = ingest_file(&pool, &scan).await;
    assert_eq!(summary.failing as usize, TICKETS * CONTROLS);

    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let engine = startup::build_engine(
        &config,
        &path,
        store,
        startup::servicenow_pacer(&config),
        Arc::new(auth::SystemClock),
        stopped,
    )
    .await
    .expect("the engine");

    let first = one_run(&engine, &sim).await;
    assert_eq!(
        first.report.outcome,
        Outcome::Succeeded,
        "{:?}",
        first.report
    );
    assert_eq!(first.report.counts.opened as usize, TICKETS);
    assert_eq!(sim.incidents().len(), TICKETS);
    let second = one_run(&engine, &sim).await;
    assert_eq!(
        second.report.outcome,
        Outcome::Succeeded,
        "{:?}",
        second.report
    );
    assert_eq!(second.report.counts.unchanged as usize, TICKETS);
    assert_eq!(sim.incidents().len(), TICKETS);
    // The part of the second run's time that is the snapshot: read again, alone.
    let start = Instant::now();
    let snapshot = store::snapshot(engine.pool(), &sim.url())
        .await
        .expect("the snapshot");
    let snapshot_alone = start.elapsed();
    assert_eq!(snapshot.tickets.len(), TICKETS);

    engine.pool().close().await;
    pool.close().await;
    (
        first,
        Steady {
            run: second,
            snapshot_alone,
        },
    )
}

async fn one_run(engine: &Arc<server::engine::Engine>, sim: &SimHandle) -> RunFigures {
    sim.clear_log();
    // When the state reads start and end, seen from outside by sampling the simulator's log.
    let watcher = {
        let sim = sim.clone();
        tokio::spawn(async move {
            let mut first = None;
            loop {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let reads = sim.count("GET", "/api/now/table/incident");
                if reads > 0 && first.is_none() {
                    first = Some(Instant::now());
                }
                if reads >= TICKETS.div_ceil(refresh::BATCH) {
                    return first.map(|f| f.elapsed());
                }
            }
        })
    };
    let start = Instant::now();
    let run = engine
        .start(Trigger::Command)
        .await
        .expect("the run starts");
    let report = run.task.await.expect("the run ends");
    let elapsed = start.elapsed();
    let reads = if sim.count("GET", "/api/now/table/incident") >= TICKETS.div_ceil(refresh::BATCH) {
        let open_reads = watcher.await.expect("the watcher");
        open_reads.map(|r| elapsed.min(r + Duration::from_millis(5)))
    } else {
        watcher.abort();
        None
    };
    RunFigures {
        elapsed,
        counters: sim.counters(),
        report,
        reads,
    }
}

fn total(counters: &BTreeMap<String, usize>) -> usize {
    counters.values().sum()
}

fn tokens(counters: &BTreeMap<String, usize>) -> usize {
    counters
        .iter()
        .filter(|(k, _)| k.contains("/oauth_token.do"))
        .map(|(_, n)| n)
        .sum()
}

/// Every kind of request any run sent, with its count in each run.
fn print_kinds(figures: &[RunFigures]) {
    let mut kinds: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (n, f) in figures.iter().enumerate() {
        for (kind, &count) in &f.counters {
            kinds.entry(kind).or_insert_with(|| vec![0; figures.len()])[n] = count;
        }
    }
    println!("\n| requests by kind | runs |\n|---|---|");
    for (kind, counts) in kinds {
        let counts: Vec<String> = counts.iter().map(|c| group_digits(*c as f64)).collect();
        println!("| `{kind}` | {} |", counts.join(" · "));
    }
}

// ---- Shared set-up ----------------------------------------------------------------------

/// Writes a native scan in which every finding fails.
fn write_scan(path: &Path, resources: usize, controls: usize) {
    let file = std::fs::File::create(path).expect("the scan file");
    let mut out = BufWriter::with_capacity(1 << 20, file);
    write!(
        out,
        r#"{{"schema_version":"1","source":"{SOURCE}","scan":{{"id":"bench","time":"{SCAN_TIME}"}},"findings":["#
    )
    .unwrap();
    for r in 0..resources {
        for c in 0..controls {
            if r + c > 0 {
                out.write_all(b",").unwrap();
            }
            write!(
                out,
                r#"{{"control":{{"id":"control_{c:02}","title":"Control number {c}"}},"resource":{{"id":"arn:aws:s3:::bucket-{r:06}","name":"bucket-{r:06}","type":"AwsS3Bucket"}},"status":"fail","severity":"medium"}}"#
            )
            .unwrap();
        }
    }
    out.write_all(b"]}").unwrap();
    out.flush().unwrap();
}

async fn ingest_file(pool: &sqlx::SqlitePool, scan: &Path) -> ingest::ScanSummary {
    let reader = std::fs::File::open(scan).expect("the scan file");
    ingest::ingest(
        pool,
        reader,
        IngestRequest {
            format: Some(Format::Native),
            source: Some(SOURCE.into()),
            max_bytes: 1 << 30,
            now: server::timestamps::now_unix(),
            keep_per_source: 10,
            spill_folder: scan.parent().unwrap_or(Path::new(".")).to_path_buf(),
        },
    )
    .await
    .expect("the scan is ingested")
}

/// A saved connection (duplicate once Resolved, no days rule) and By resources with
/// auto-resolve on.
async fn save_settings(
    pool: &sqlx::SqlitePool,
    key_file: &Path,
    instance_url: &str,
) -> Arc<SqliteSettingsStore> {
    let cipher = SecretCipher::load(None, key_file).expect("the key");
    let readers = server::database::Readers::new(pool.clone(), 1);
    let store = Arc::new(SqliteSettingsStore::new(
        pool.clone(),
        readers,
        Arc::new(cipher),
    ));
    let form = ConnectionForm {
        instance_url: instance_url.into(),
        client_id: servicenow_sim::CLIENT_ID.into(),
        client_secret: servicenow_sim::CLIENT_SECRET.into(),
        group_sys_id: servicenow_sim::GROUP_SYS_ID.into(),
        user_sys_id: servicenow_sim::USER_SYS_ID.into(),
        user_id: servicenow_sim::USER_NAME.into(),
        password: servicenow_sim::USER_PASSWORD.into(),
        duplicate_status: IncidentState::Resolved.value().into(),
        duplicate_days: "0".into(),
    };
    let update = form
        .validate(&ConnectionView::nothing_stored())
        .expect("a valid connection");
    store.save_connection(update).await.expect("it is saved");
    store
        .save_itsm_settings(ItsmSettings {
            grouping: Grouping::Resources,
            scheduler_interval_minutes: 60,
            auto_resolve: true,
            ..ItsmSettings::default()
        })
        .await
        .expect("the rules are saved");
    store
}

// ---- Reporting --------------------------------------------------------------------------

fn repeat(runs: usize, mut once: impl FnMut() -> Duration) -> Vec<f64> {
    (0..runs).map(|_| once().as_secs_f64()).collect()
}

#[derive(Clone, Copy)]
enum Unit {
    Seconds,
    Count,
    Rate,
    Ratio,
}

impl Unit {
    fn show(self, value: f64) -> String {
        match self {
            Unit::Seconds => format!("{value:.3} s"),
            Unit::Count | Unit::Rate => group_digits(value),
            Unit::Ratio => format!("{value:.3}"),
        }
    }
}

/// A markdown table: one row per case, the median first, then every run in run order.
struct Table {
    title: &'static str,
    rows: Vec<(String, Vec<f64>, Unit)>,
}

impl Table {
    fn new(title: &'static str) -> Self {
        Self {
            title,
            rows: Vec::new(),
        }
    }

    fn row(&mut self, case: &str, values: Vec<f64>, unit: Unit) {
        self.rows.push((case.to_string(), values, unit));
    }

    fn print(&self) {
        let runs = self.rows.first().map_or(0, |(_, v, _)| v.len());
        println!(
            "\n### {}\n\n| case | median of {runs} | runs |\n|---|---|---|",
            self.title
        );
        for (case, values, unit) in &self.rows {
            let shown: Vec<String> = values.iter().map(|v| unit.show(*v)).collect();
            println!(
                "| {case} | **{}** | {} |",
                unit.show(median(values)),
                shown.join(" · ")
            );
        }
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    sorted[sorted.len() / 2]
}

/// 1234567.8 as "1,234,568".
fn group_digits(value: f64) -> String {
    let digits = format!("{:.0}", value.round());
    let mut out = String::new();
    for (n, ch) in digits.chars().enumerate() {
        if n > 0 && (digits.len() - n) % 3 == 0 && ch != '-' {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
