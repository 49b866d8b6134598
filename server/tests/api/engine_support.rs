//! What the engine's tests share: a server wired to a simulator, scans in the native format
//! with explicit sources and rising times, and Run now until the run has ended.

use crate::helpers::*;
use serde_json::{Value, json};
use server::auth::{Clock, ManualClock, SystemClock};
use servicenow_sim::{CLIENT_ID, GROUP_SYS_ID, SimHandle, USER_NAME, USER_PASSWORD, USER_SYS_ID};
use std::sync::Arc;
use std::time::Duration;

pub async fn start_sim() -> SimHandle {
    servicenow_sim::start("127.0.0.1:0".parse().unwrap(), 1800)
        .await
        .unwrap()
}

/// A server whose engine runs only when told (no scheduler), with the request cap lifted.
pub async fn spawn_engine_app() -> TestApp {
    spawn_engine_app_on(Arc::new(SystemClock)).await
}

/// The same, on the given clock (sessions and the engine read it).
pub async fn spawn_engine_app_on(clock: Arc<dyn Clock>) -> TestApp {
    let folder = tempfile::tempdir().unwrap();
    let app = spawn_app_configured(folder, clock, |config| {
        config.no_scheduler = true;
        config.servicenow_requests_per_second = 10_000;
        config.servicenow_timeout_seconds = 2;
        config.engine_lease_seconds = 5;
    })
    .await;
    app.create_admin().await;
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    app
}

/// Saves a connection to the simulator with the duplicate rule given.
pub async fn connect(app: &TestApp, sim: &SimHandle, status: &str, days: &str) {
    let url = sim.url();
    let fields = [
        ("form[instance_url]", url.as_str()),
        ("form[client_id]", CLIENT_ID),
        ("form[client_secret]", servicenow_sim::CLIENT_SECRET),
        ("form[group_sys_id]", GROUP_SYS_ID),
        ("form[user_sys_id]", USER_SYS_ID),
        ("form[user_id]", USER_NAME),
        ("form[password]", USER_PASSWORD),
        ("form[duplicate_status]", status),
        ("form[duplicate_days]", days),
    ];
    assert_eq!(app.save_connection(&fields).await, json!("Saved"));
}

pub async fn set_rules(app: &TestApp, grouping: &str, auto_resolve: bool) {
    let mut fields = vec![
        ("form[grouping]", grouping),
        ("form[scheduler_interval_minutes]", "60"),
    ];
    if auto_resolve {
        fields.push(("form[auto_resolve]", "true"));
    }
    assert_eq!(app.save_itsm(&fields).await, json!("Saved"));
}

/// (control, resource, status, severity)
pub type Row<'a> = (&'a str, &'a str, &'a str, &'a str);

/// Posts a native scan of `source` taken at `time` (Unix seconds).
pub async fn post_scan(app: &TestApp, token: &str, source: &str, time: i64, rows: &[Row<'_>]) {
    let findings: Vec<Value> = rows
        .iter()
        .map(|(control, resource, status, severity)| {
            json!({
                "control": {"id": control, "title": format!("Title of {control}")},
                "resource": {"id": resource, "name": format!("name-{resource}"), "type": "vm"},
                "status": status,
                "severity": severity,
            })
        })
        .collect();
    let at = time::OffsetDateTime::from_unix_timestamp(time)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let body = json!({
        "schema_version": "1",
        "source": source,
        "scan": {"id": format!("{source}-{time}"), "time": at},
        "findings": findings,
    });
    let response = app.post_scan("", token, body.to_string()).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

pub fn now() -> i64 {
    server::timestamps::now_unix()
}

/// Run now, then the run's row once it has ended.
pub async fn run_now(app: &TestApp) -> Value {
    let started = app.call_json("run_now", &[]).await;
    let run_id = started["run_id"].as_i64().expect("a run id");
    wait_for_run(app, run_id).await
}

pub async fn wait_for_run(app: &TestApp, run_id: i64) -> Value {
    for _ in 0..600 {
        let page = app.call_json("load_runs", &[]).await;
        let run = page["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == run_id)
            .cloned()
            .expect("the run is listed");
        if run["outcome"] != "running" {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("run {run_id} did not end within a minute");
}

/// The incidents of the simulator whose short description mentions `text`.
pub fn incidents_about(sim: &SimHandle, text: &str) -> Vec<servicenow_sim::query::Record> {
    sim.incidents()
        .into_iter()
        .filter(|i| i["short_description"].contains(text) || i["description"].contains(text))
        .collect()
}

/// Open incidents (New, In Progress, On Hold) per correlation id prefix (all but the generation).
pub fn open_incidents(sim: &SimHandle) -> Vec<servicenow_sim::query::Record> {
    sim.incidents()
        .into_iter()
        .filter(|i| matches!(i["state"].as_str(), "1" | "2" | "3"))
        .collect()
}

pub fn count(run: &Value, name: &str) -> i64 {
    run[name]
        .as_i64()
        .unwrap_or_else(|| panic!("no count {name} in {run}"))
}

/// A server on a manual clock set at [`now`], connected to a fresh simulator (duplicates:
/// state 6, no days), with one scan of `aws` holding `rows`, taken 100 s before.
pub struct ScannedEngine {
    /// The clock's time at the start (the scan is 100 s older).
    pub start: i64,
    pub clock: Arc<ManualClock>,
    pub sim: SimHandle,
    pub app: TestApp,
    /// The API token the scan was sent with.
    pub token: String,
}

pub async fn engine_with_scan(rows: &[Row<'_>]) -> ScannedEngine {
    let start = now();
    let clock = Arc::new(ManualClock::new(start));
    let sim = start_sim().await;
    let app = spawn_engine_app_on(clock.clone()).await;
    connect(&app, &sim, "6", "0").await;
    let token = app.api_token().await;
    post_scan(&app, &token, "aws", start - 100, rows).await;
    ScannedEngine {
        start,
        clock,
        sim,
        app,
        token,
    }
}

/// The reason [`add_exception`] gives.
pub const EXCEPTION_REASON: &str = "vendor fix due";

/// Adds an accepted risk for `scope` ("pair", "control" or "resource"; an id left out is
/// ""), ending on `until` (`YYYY-MM-DD`); the server function's answer.
pub async fn add_exception(
    app: &TestApp,
    scope: &str,
    control: &str,
    resource: &str,
    until: &str,
) -> Value {
    app.call_json(
        "add_exception",
        &[
            ("form[scope]", scope),
            ("form[control_id]", control),
            ("form[resource_id]", resource),
            ("form[kind]", "accepted_risk"),
            ("form[reason]", EXCEPTION_REASON),
            ("form[expires_on]", until),
        ],
    )
    .await
}
