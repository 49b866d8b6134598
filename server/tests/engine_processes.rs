//! The engine across real processes on one database: the `itsm-bridge` binary run as child
//! processes against a simulator in this process. A server killed with SIGKILL in the middle
//! of a run and started again ends with exactly one incident per failing group and the cut
//! run recorded as interrupted; two `run-once` started at the same moment run once between
//! them, the other saying which run is in progress; and a `run-once` killed while it holds
//! the lease blocks others only until the lease lapses, after which the work is finished
//! without a duplicate.

// A test that cannot go on panics with the failing value, which is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::backend::SettingsStore;
use app::forms::{ConnectionForm, ConnectionView};
use serde_json::{Value, json};
use server::database::Readers;
use server::engine::run_store::{self, RunRow};
use server::ingest::{Format, IngestRequest};
use server::secrets::SecretCipher;
use server::settings_store::SqliteSettingsStore;
use servicenow_sim::{Fault, SimHandle};
use sqlx::SqlitePool;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;

const CREATE: &str = "/api/now/table/incident";

/// A database in a temporary folder with a connection to the simulator saved, and its key
/// file beside it, where the child processes find it by default.
struct Database {
    folder: TempDir,
    path: PathBuf,
    pool: SqlitePool,
}

async fn prepare(sim: &SimHandle) -> Database {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("itsm-bridge.db");
    let pool = server::database::open(&path).await.unwrap();
    let cipher = SecretCipher::load(None, &path.with_extension("key")).unwrap();
    let store = SqliteSettingsStore::new(
        pool.clone(),
        Readers::new(pool.clone(), 1),
        Arc::new(cipher),
    );
    let form = ConnectionForm {
        instance_url: sim.url(),
        client_id: servicenow_sim::CLIENT_ID.into(),
        client_secret: servicenow_sim::CLIENT_SECRET.into(),
        group_sys_id: servicenow_sim::GROUP_SYS_ID.into(),
        user_sys_id: servicenow_sim::USER_SYS_ID.into(),
        user_id: servicenow_sim::USER_NAME.into(),
        password: servicenow_sim::USER_PASSWORD.into(),
        duplicate_status: "6".into(),
        duplicate_days: "0".into(),
    };
    let update = form
        .validate(&ConnectionView::nothing_stored())
        .unwrap_or_else(|errors| panic!("the connection form is valid: {errors:?}"));
    store.save_connection(update).await.unwrap();
    Database { folder, path, pool }
}

fn resource(n: usize) -> String {
    format!("r{n:04}")
}

/// Stores a native scan of `source` taken `age` seconds ago in which control c1 fails on
/// the resources numbered `failing`.
async fn ingest_failing(
    db: &Database,
    source: &str,
    age: i64,
    failing: std::ops::Range<usize>,
) -> server::ingest::ScanSummary {
    let now = server::timestamps::now_unix();
    let at = time::OffsetDateTime::from_unix_timestamp(now - age)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let findings: Vec<Value> = failing
        .map(|n| {
            let r = resource(n);
            json!({
                "control": {"id": "c1", "title": "Title of c1"},
                "resource": {"id": r, "name": format!("name-{r}"), "type": "vm"},
                "status": "fail",
                "severity": "high",
            })
        })
        .collect();
    let body = json!({
        "schema_version": "1",
        "source": source,
        "scan": {"id": format!("{source}-{age}"), "time": at},
        "findings": findings,
    })
    .to_string();
    let request = IngestRequest {
        format: Some(Format::Native),
        source: Some(source.to_string()),
        max_bytes: 64 * 1024 * 1024,
        now,
        keep_per_source: 10,
        spill_folder: db.folder.path().to_path_buf(),
    };
    server::ingest::ingest(&db.pool, std::io::Cursor::new(body.into_bytes()), request)
        .await
        .unwrap()
}

/// A child `itsm-bridge` process, killed (by its own id) if the test ends before it does.
struct Process {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Process {
    /// `itsm-bridge` on `db` with a fast pace and a short lease, then `args`; its output
    /// goes to files named `name` in the database's folder.
    fn start(db: &Database, name: &str, args: &[&str]) -> Process {
        let stdout = db.folder.path().join(format!("{name}.out"));
        let stderr = db.folder.path().join(format!("{name}.err"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_itsm-bridge"));
        for (variable, _) in std::env::vars() {
            if variable.starts_with("ITSM_BRIDGE_")
                || variable.starts_with("LEPTOS_")
                || variable == "DATABASE_URL"
            {
                command.env_remove(variable);
            }
        }
        command
            .arg("--database-url")
            .arg(&db.path)
            .arg("--site-root")
            .arg(db.folder.path().join("site"))
            .args(["--servicenow-requests-per-second", "10000"])
            .args(args)
            .env("RUST_LOG", "info,sqlx=warn")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap());
        Process {
            child: command.spawn().expect("itsm-bridge starts"),
            stdout,
            stderr,
        }
    }

    fn server(db: &Database, name: &str) -> Process {
        Process::start(
            db,
            name,
            &["--engine-lease-seconds", "3", "--listen", "127.0.0.1:0"],
        )
    }

    fn run_once(db: &Database, name: &str) -> Process {
        Process::run_once_leasing(db, name, 3)
    }

    /// `run-once` whose lease lasts `seconds`.
    fn run_once_leasing(db: &Database, name: &str, seconds: u32) -> Process {
        let seconds = seconds.to_string();
        Process::start(db, name, &["--engine-lease-seconds", &seconds, "run-once"])
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// SIGKILL: the process gets no chance to record anything.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Waits (up to a minute) for the process to end; its exit status and output.
    async fn finish(mut self) -> Finished {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.exited() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "itsm-bridge did not end within a minute: {}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        Finished {
            success: status.success(),
            stdout: std::fs::read_to_string(&self.stdout).unwrap(),
            stderr: std::fs::read_to_string(&self.stderr).unwrap(),
        }
    }

    fn output(&self) -> String {
        format!(
            "stdout: {}\nstderr: {}",
            std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

struct Finished {
    success: bool,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "success: {}\nstdout: {}\nstderr: {}",
            self.success, self.stdout, self.stderr
        )
    }
}

/// Creates the simulator answered with 201.
fn created(sim: &SimHandle) -> usize {
    sim.log()
        .iter()
        .filter(|e| e.method == "POST" && e.path == CREATE && e.status == 201)
        .count()
}

/// Polls (up to a minute) until the simulator has answered `n` creates, while `process`
/// is still running.
async fn wait_for_creates(sim: &SimHandle, process: &mut Process, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while created(sim) < n {
        assert!(
            process.exited().is_none(),
            "the process ended before {n} creates: {}",
            process.output()
        );
        assert!(
            Instant::now() < deadline,
            "fewer than {n} creates within a minute: {}",
            process.output()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A create the killed process had sent may or may not have reached the instance; the
/// next run leaves its group waiting until the create could no longer land (a minute at
/// least). As if that time had passed (the intent back-dated), one more run settles it.
async fn settle_unconfirmed_creates(db: &Database) {
    let pending: i64 =
        sqlx::query_scalar("SELECT count(*) FROM engine_tickets WHERE phase = 'intent'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    if pending == 0 {
        return;
    }
    sqlx::query("UPDATE engine_tickets SET created_at = created_at - 600 WHERE phase = 'intent'")
        .execute(&db.pool)
        .await
        .unwrap();
    let settled = Process::run_once(db, "settle").finish().await;
    assert!(settled.success, "{settled:?}");
}

async fn runs(db: &Database) -> Vec<RunRow> {
    run_store::runs(&db.pool, 100).await.unwrap()
}

/// Exactly `resources` incidents, one per correlation_id and one per resource.
fn assert_one_incident_per_group(sim: &SimHandle, resources: usize) {
    let incidents = sim.incidents();
    let mut per_correlation: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_resource: BTreeMap<String, usize> = BTreeMap::new();
    for incident in &incidents {
        *per_correlation
            .entry(incident["correlation_id"].clone())
            .or_default() += 1;
        let name = incident["short_description"]
            .rsplit(" on ")
            .next()
            .unwrap()
            .to_string();
        *per_resource.entry(name).or_default() += 1;
    }
    let duplicated: Vec<_> = per_correlation.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicated.is_empty(), "duplicated: {duplicated:?}");
    let expected: BTreeMap<String, usize> = (0..resources)
        .map(|n| (format!("name-{} ({})", resource(n), resource(n)), 1))
        .collect();
    assert_eq!(per_resource, expected);
    assert_eq!(incidents.len(), resources);
    assert_eq!(per_correlation.len(), resources);
    for id in per_correlation.keys().take(3) {
        assert_eq!(sim.incidents_with_correlation_id(id).len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_run_and_restarted_opens_each_of_1000_incidents_exactly_once() {
    let sim = servicenow_sim::start("127.0.0.1:0".parse().unwrap(), 1800)
        .await
        .unwrap();
    let db = prepare(&sim).await;
    let scan = ingest_failing(&db, "aws", 60, 0..1_000).await;
    assert_eq!(scan.failing, 1_000);

    // No run yet and a connection saved: the scheduler starts a run at once.
    let mut first = Process::server(&db, "first");
    wait_for_creates(&sim, &mut first, 300).await;
    first.kill();
    let at_kill = created(&sim);
    assert!(at_kill < 1_000, "the run was cut short: {at_kill} creates");
    let cut = runs(&db).await;
    assert_eq!(cut.len(), 1);
    assert_eq!(cut[0].outcome, "running", "nobody recorded its end");

    let second = Process::server(&db, "second");
    let deadline = Instant::now() + Duration::from_secs(60);
    let finished = loop {
        let listed = runs(&db).await;
        if let Some(run) = listed
            .iter()
            .find(|r| r.id > cut[0].id && r.outcome != "running")
        {
            break run.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no run ended within a minute of the restart: {listed:?}\n{}",
            second.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    drop(second);

    assert_eq!(finished.outcome, "succeeded", "{finished:?}");
    assert_eq!(finished.counts.groups, 1_000, "{finished:?}");
    assert_eq!(
        finished.counts.opened + finished.counts.unchanged,
        1_000,
        "{finished:?}"
    );
    assert!(finished.counts.opened <= 1_000 - 300, "{finished:?}");
    settle_unconfirmed_creates(&db).await;
    assert_one_incident_per_group(&sim, 1_000);
    let first_run = runs(&db)
        .await
        .into_iter()
        .find(|r| r.id == cut[0].id)
        .unwrap();
    assert_eq!(first_run.outcome, "interrupted", "{first_run:?}");
    assert!(first_run.ended_at.is_some(), "{first_run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_told_to_run_at_once_run_once_and_a_killed_holder_blocks_only_until_its_lease_lapses()
 {
    let sim = servicenow_sim::start("127.0.0.1:0".parse().unwrap(), 1800)
        .await
        .unwrap();
    let db = prepare(&sim).await;
    ingest_failing(&db, "aws", 120, 0..300).await;
    // The run's token request passes; its first create waits five seconds, so the run is
    // still going when the second process asks for the lease.
    sim.inject_token_fault(Fault::Delay { millis: 0 }, 1);
    sim.inject(Fault::Delay { millis: 5_000 }, 1);

    let a = Process::run_once(&db, "a");
    let b = Process::run_once(&db, "b");
    let (a, b) = tokio::join!(a.finish(), b.finish());
    let (winner, loser) = match (a.success, b.success) {
        (true, false) => (a, b),
        (false, true) => (b, a),
        _ => panic!("exactly one run-once must succeed:\n{a:?}\n{b:?}"),
    };
    let listed = runs(&db).await;
    assert_eq!(listed.len(), 1, "one run was started: {listed:?}");
    let run = &listed[0];
    assert_eq!(run.outcome, "succeeded", "{run:?}");
    assert!(
        winner.stdout.contains(&format!(
            "run {}: succeeded (300 groups: 300 opened, 0 noted, 0 resolved, 0 unchanged, 0 skipped, 0 failed)",
            run.id
        )),
        "{winner:?}"
    );
    assert!(
        loser.stderr.contains(&format!(
            "Run {} is in progress; nothing was started",
            run.id
        )),
        "{loser:?}"
    );
    assert_one_incident_per_group(&sim, 300);

    // The holder killed: 700 more failing resources, A killed after 100 of them.
    ingest_failing(&db, "aws", 60, 0..1_000).await;
    // A lease long enough that the next process surely asks while it is live, even on a
    // loaded machine.
    let mut holder = Process::run_once_leasing(&db, "holder", 10);
    wait_for_creates(&sim, &mut holder, 400).await;
    holder.kill();
    let cut = runs(&db).await[0].clone();
    assert_eq!(cut.outcome, "running", "{cut:?}");

    // At once, while the dead holder's lease is live: refused, naming the run.
    let refused = Process::run_once(&db, "refused").finish().await;
    assert!(!refused.success, "{refused:?}");
    assert!(
        refused.stderr.contains(&format!(
            "Run {} is in progress; nothing was started",
            cut.id
        )),
        "{refused:?}"
    );
    let before = created(&sim);

    // Once the lease has lapsed, a run starts and finishes the work.
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut attempt = 0;
    let done = loop {
        attempt += 1;
        let tried = Process::run_once(&db, &format!("retry-{attempt}"))
            .finish()
            .await;
        if tried.success {
            break tried;
        }
        assert!(
            tried.stderr.contains("is in progress; nothing was started"),
            "a retry failed for another reason: {tried:?}"
        );
        assert!(
            Instant::now() < deadline,
            "run-once still refused 40 s after the holder was killed: {tried:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(before < 1_000, "the holder was cut short: {before} creates");
    assert!(done.stdout.contains("succeeded (1000 groups"), "{done:?}");
    settle_unconfirmed_creates(&db).await;
    assert_one_incident_per_group(&sim, 1_000);
    let listed = runs(&db).await;
    let cut = listed.iter().find(|r| r.id == cut.id).unwrap();
    assert_eq!(cut.outcome, "interrupted", "{cut:?}");
    assert!(
        listed.iter().filter(|r| r.outcome == "succeeded").count() >= 2,
        "{listed:?}"
    );
}
