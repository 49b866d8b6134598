//! The logs and the metrics never carry a secret, and the logs tie a run's lines together.
//!
//! The real binary runs at `RUST_LOG=debug`, in both log formats, against the simulator,
//! through everything that handles a secret: the admin's sign-in (and a wrong password),
//! a connection saved with its client secret and password, Test connection, an API token
//! created and used for a scan and for `/metrics`, and an engine run that opens incidents
//! with the instance's OAuth tokens. None of those secrets (nor the session cookie, nor the
//! key that seals secrets at rest) may appear on standard error or in `/metrics`. The same
//! lines must show the spans that tie a run together: `engine_run{run_id}`, `group{key}`
//! with the incident's number, `servicenow_request{method, table, status}` and
//! `ingestion{scan_id, source}`.

use crate::engine_support::start_sim;
use crate::helpers::{ADMIN, ADMIN_PASSWORD};
use crate::log_capture::LoggedServer;
use serde_json::{Value, json};
use servicenow_sim::{CLIENT_ID, GROUP_SYS_ID, USER_NAME, USER_PASSWORD, USER_SYS_ID};
use std::path::Path;
use std::time::Duration;

const SECRET_KEY: &str = "bG9nLXNlY3JldHMtdGVzdC1rZXktb2YtMzItYnl0ZXM=";

/// A wrong password someone typed: as secret as the right one (it may be a near miss).
const WRONG_PASSWORD: &str = "Wrong-Guess-Of-The-Admin-7731";

/// The server at `RUST_LOG=debug`, its requests to the simulator unpaced.
fn server(folder: &Path, log_format: &str) -> LoggedServer {
    LoggedServer::start(
        folder,
        log_format,
        "debug",
        SECRET_KEY,
        &["--servicenow-requests-per-second", "1000"],
    )
}

/// Calls a server function as a hydrated page does; the answer's JSON.
async fn call(
    client: &reqwest::Client,
    server: &LoggedServer,
    name: &str,
    form: &[(&str, &str)],
) -> Value {
    let response = client
        .post(format!("{}/api/{name}", server.url))
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{name}");
    response.json().await.unwrap()
}

/// Everything that handles a secret, once; the secrets it used, and the `/metrics` text.
async fn handle_every_secret(server: &LoggedServer, folder: &Path) -> (Vec<String>, String) {
    let sim = start_sim().await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let setup_token = std::fs::read_to_string(folder.join("data/itsm-bridge.setup-token"))
        .unwrap()
        .trim()
        .to_string();
    call(
        &client,
        server,
        "setup_admin",
        &[
            ("form[setup_token]", setup_token.as_str()),
            ("form[username]", ADMIN),
            ("form[password]", ADMIN_PASSWORD),
            ("form[password_confirm]", ADMIN_PASSWORD),
        ],
    )
    .await;
    let wrong = reqwest::Client::new()
        .post(format!("{}/api/login", server.url))
        .form(&[
            ("form[username]", ADMIN),
            ("form[password]", WRONG_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let login = client
        .post(format!("{}/api/login", server.url))
        .form(&[
            ("form[username]", ADMIN),
            ("form[password]", ADMIN_PASSWORD),
            ("form[next]", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap();
    let session = cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, value)| value.to_string())
        .unwrap();

    let url = sim.url();
    let saved = call(
        &client,
        server,
        "save_connection_settings",
        &[
            ("form[instance_url]", url.as_str()),
            ("form[client_id]", CLIENT_ID),
            ("form[client_secret]", servicenow_sim::CLIENT_SECRET),
            ("form[group_sys_id]", GROUP_SYS_ID),
            ("form[user_sys_id]", USER_SYS_ID),
            ("form[user_id]", USER_NAME),
            ("form[password]", USER_PASSWORD),
            ("form[duplicate_status]", "6"),
            ("form[duplicate_days]", "0"),
        ],
    )
    .await;
    assert_eq!(saved, json!("Saved"));
    let steps = call(&client, server, "test_connection", &[]).await;
    assert!(
        steps
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["passed"] == true),
        "{steps}"
    );
    let rules = call(
        &client,
        server,
        "save_itsm_settings",
        &[
            ("form[grouping]", "resources"),
            ("form[scheduler_interval_minutes]", "60"),
        ],
    )
    .await;
    assert_eq!(rules, json!("Saved"));
    let created = call(
        &client,
        server,
        "create_api_token",
        &[("form[name]", "nightly scanner"), ("form[source]", "")],
    )
    .await;
    let api_token = created["token"].as_str().unwrap().to_string();

    let scan = json!({"source": "aws", "findings": [
        {"control": {"id": "c1"}, "resource": {"id": "r1"}, "status": "fail", "severity": "high"},
        {"control": {"id": "c1"}, "resource": {"id": "r2"}, "status": "fail", "severity": "low"},
    ]});
    let stored = reqwest::Client::new()
        .post(format!("{}/api/v1/scans", server.url))
        .bearer_auth(&api_token)
        .body(scan.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 201);

    let started = call(&client, server, "run_now", &[]).await;
    let run_id = started["run_id"].as_i64().expect("a run id");
    let mut outcome = Value::Null;
    for _ in 0..600 {
        let runs = call(&client, server, "load_runs", &[]).await;
        outcome = runs["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == run_id)
            .map(|r| r["outcome"].clone())
            .unwrap();
        if outcome != "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(outcome, "succeeded");
    assert_eq!(sim.incidents().len(), 2);

    let metrics = reqwest::Client::new()
        .get(format!("{}/metrics", server.url))
        .bearer_auth(&api_token)
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    let metrics = metrics.text().await.unwrap();

    let mut secrets = vec![
        ADMIN_PASSWORD.to_string(),
        WRONG_PASSWORD.to_string(),
        servicenow_sim::CLIENT_SECRET.to_string(),
        USER_PASSWORD.to_string(),
        SECRET_KEY.to_string(),
        session,
        // The log may name a token by its first 12 characters, as the tokens page does.
        api_token[12..].to_string(),
    ];
    let issued = sim.issued_tokens();
    assert!(!issued.is_empty(), "the simulator handed out no token");
    secrets.extend(issued);
    (secrets, metrics)
}

/// Every secret is absent from `text`, wherever it is.
fn assert_no_secret(text: &str, secrets: &[String], what: &str) {
    for secret in secrets {
        assert!(secret.len() >= 8, "{secret:?} is too short to look for");
        assert!(
            !text.contains(secret.as_str()),
            "{what} shows a secret: {secret:?}"
        );
    }
}

#[tokio::test]
async fn no_secret_reaches_the_text_log_or_the_metrics() {
    let folder = tempfile::tempdir().unwrap();
    let server = server(folder.path(), "text");
    let (secrets, metrics) = handle_every_secret(&server, folder.path()).await;
    let lines = server.stop();
    for line in &lines {
        assert_no_secret(line, &secrets, "a log line");
    }
    assert_no_secret(&metrics, &secrets, "/metrics");

    let with = |words: &[&str]| {
        lines
            .iter()
            .find(|l| words.iter().all(|w| l.contains(w)))
            .unwrap_or_else(|| panic!("no line with {words:?}"))
    };
    // A create, inside its group, inside its run; then the group's line with its number.
    with(&[
        "engine_run{run_id=",
        "group{key=",
        "servicenow_request{method=POST table=\"incident\" status=201}",
    ]);
    with(&[
        "engine_run{run_id=",
        "group{key=",
        "number=\"INC",
        "opened a ticket",
    ]);
    with(&["ingestion{", "scan_id=", "source=\"aws\"", "scan stored"]);
}

#[tokio::test]
async fn no_secret_reaches_the_json_log_and_its_spans_carry_the_ids() {
    let folder = tempfile::tempdir().unwrap();
    let server = server(folder.path(), "json");
    let (secrets, metrics) = handle_every_secret(&server, folder.path()).await;
    let lines = server.stop();
    for line in &lines {
        assert_no_secret(line, &secrets, "a log line");
    }
    assert_no_secret(&metrics, &secrets, "/metrics");

    let events: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let span = |event: &Value, name: &str| -> Option<Value> {
        event["spans"]
            .as_array()?
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
    };
    let create = events
        .iter()
        .find(|e| {
            span(e, "servicenow_request").is_some_and(|s| {
                s["method"] == "POST" && s["table"] == "incident" && s["status"] == 201
            })
        })
        .expect("a line of an incident's create");
    assert!(
        span(create, "engine_run").unwrap()["run_id"].is_i64(),
        "{create}"
    );
    assert!(
        span(create, "group").unwrap()["key"].is_string(),
        "{create}"
    );
    let opened = events
        .iter()
        .find(|e| e["fields"]["message"] == "opened a ticket")
        .expect("an opened line");
    assert!(
        span(opened, "engine_run").unwrap()["run_id"].is_i64(),
        "{opened}"
    );
    let number = &span(opened, "group").unwrap()["number"];
    assert!(
        number.as_str().is_some_and(|n| n.starts_with("INC")),
        "{opened}"
    );
    let stored = events
        .iter()
        .find(|e| e["fields"]["message"] == "scan stored")
        .expect("a scan stored line");
    let ingestion = span(stored, "ingestion").expect("an ingestion span");
    assert!(ingestion["scan_id"].is_i64(), "{stored}");
    assert_eq!(ingestion["source"], "aws", "{stored}");
}
