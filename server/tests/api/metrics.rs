//! `GET /metrics`: Prometheus's text format, read with a parser (every line must be a
//! comment, a type, a help text or a sample), readable with any live API token and with
//! nothing else; its counters move after an ingestion, a refused scan, engine runs (tickets
//! opened, noted and resolved, a 429 waited out) and sign-ins.

use crate::engine_support::*;
use crate::helpers::*;
use prometheus_parse::{LineInfo, Scrape, Value};
use servicenow_sim::Fault;

/// The `/metrics` text, read with `token`.
async fn metrics_text(app: &TestApp, token: &str) -> String {
    let response = reqwest::Client::new()
        .get(format!("{}/metrics", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"].to_str().unwrap();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    response.text().await.unwrap()
}

/// The text parsed; a line that is neither a comment, a type, a help text nor a sample
/// fails the test (the parser alone skips what it cannot read).
fn parsed(text: &str) -> Scrape {
    for line in text.lines() {
        let known = !matches!(LineInfo::parse(line), LineInfo::Ignored);
        // OpenMetrics' end marker and units are comments to Prometheus's text parser.
        let openmetrics_comment = line == "# EOF" || line.starts_with("# UNIT ");
        assert!(
            known || openmetrics_comment,
            "not Prometheus text: {line:?}"
        );
    }
    assert!(text.ends_with("# EOF\n"), "no end marker: {text}");
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap()
}

/// The value of the sample `name` with exactly these labels; 0 when it is not there yet (a
/// labelled counter appears once it is first counted).
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = scrape.samples.iter().find(|sample| {
        sample.metric == name
            && labels.len() == sample.labels.len()
            && labels.iter().all(|(k, v)| sample.labels.get(k) == Some(*v))
    });
    match found.map(|s| &s.value) {
        None => 0.0,
        Some(Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v)) => *v,
        Some(other) => panic!("{name} is not a number: {other:?}"),
    }
}

/// How many observations the histogram `name` holds (its `+Inf` bucket).
fn observations(scrape: &Scrape, name: &str) -> f64 {
    let histogram = scrape
        .samples
        .iter()
        .find(|s| s.metric == name)
        .unwrap_or_else(|| panic!("no histogram {name}"));
    let Value::Histogram(buckets) = &histogram.value else {
        panic!("{name} is not a histogram: {:?}", histogram.value);
    };
    buckets
        .iter()
        .find(|b| b.less_than.is_infinite())
        .map_or(0.0, |b| b.count)
}

#[tokio::test]
async fn metrics_parse_and_move_after_an_ingestion_a_run_and_sign_ins() {
    let sim = start_sim().await;
    let app = spawn_engine_app().await;
    connect(&app, &sim, "6", "0").await;
    set_rules(&app, "resources", true).await;
    let token = app.api_token().await;
    let before = parsed(&metrics_text(&app, &token).await);
    assert_eq!(
        observations(&before, "itsm_bridge_engine_run_duration_seconds"),
        0.0
    );

    post_scan(
        &app,
        &token,
        "aws",
        now() - 60,
        &[
            ("c1", "r1", "fail", "high"),
            ("c2", "r1", "fail", "low"),
            ("c1", "r2", "fail", "low"),
        ],
    )
    .await;
    let unreadable = r#"{"source": "aws", "findings": [{"status": "fail"}]}"#;
    let refused = app.post_scan("", &token, unreadable).await;
    assert_eq!(refused.status(), 400);
    let run = run_now(&app).await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    assert_eq!(count(&run, "opened"), 2, "{run}");
    let stranger = sign_in_from_elsewhere(&app, "not the password").await;
    assert_eq!(stranger, 401);

    let after = parsed(&metrics_text(&app, &token).await);
    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    assert_eq!(moved("itsm_bridge_scans_ingested_total", &[]), 1.0);
    assert_eq!(moved("itsm_bridge_findings_ingested_total", &[]), 3.0);
    assert_eq!(
        moved("itsm_bridge_scans_refused_total", &[("status", "400")]),
        1.0
    );
    assert_eq!(
        moved("itsm_bridge_engine_runs_total", &[("outcome", "succeeded")]),
        1.0
    );
    assert_eq!(
        observations(&after, "itsm_bridge_engine_run_duration_seconds"),
        1.0
    );
    assert_eq!(
        moved("itsm_bridge_tickets_total", &[("action", "opened")]),
        2.0
    );
    // A token request, the lookups by correlation id and the two creates at least.
    let sent = moved(
        "itsm_bridge_servicenow_requests_total",
        &[("outcome", "success")],
    );
    assert!(sent >= 3.0, "{sent} ServiceNow requests counted");
    assert!(
        observations(&after, "itsm_bridge_servicenow_request_duration_seconds") >= sent,
        "every request is timed"
    );
    assert_eq!(
        moved("itsm_bridge_sign_ins_total", &[("outcome", "refused")]),
        1.0
    );
    // The helper signed the test's client in before the first scrape.
    assert_eq!(
        value(
            &after,
            "itsm_bridge_sign_ins_total",
            &[("outcome", "succeeded")]
        ),
        1.0
    );

    // A finding fixed on r1 (a work note) and everything on r2 passing (resolved), while the
    // instance answers one request with a 429 whose Retry-After is waited out.
    post_scan(
        &app,
        &token,
        "aws",
        now() - 30,
        &[
            ("c1", "r1", "fail", "high"),
            ("c2", "r1", "pass", "low"),
            ("c1", "r2", "pass", "low"),
        ],
    )
    .await;
    sim.inject(Fault::RateLimited { retry_after: 1 }, 1);
    let second = run_now(&app).await;
    assert_eq!(second["outcome"], "succeeded", "{second}");
    assert_eq!(
        (count(&second, "noted"), count(&second, "resolved")),
        (1, 1),
        "{second}"
    );
    let last = parsed(&metrics_text(&app, &token).await);
    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&last, name, labels) - value(&after, name, labels)
    };
    assert_eq!(
        moved("itsm_bridge_tickets_total", &[("action", "noted")]),
        1.0
    );
    assert_eq!(
        moved("itsm_bridge_tickets_total", &[("action", "resolved")]),
        1.0
    );
    assert_eq!(
        moved(
            "itsm_bridge_servicenow_rate_limit_waits_total",
            &[("by", "instance")]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "itsm_bridge_servicenow_requests_total",
            &[("outcome", "rate_limited")]
        ),
        1.0
    );
}

/// Signs in as the admin with `password` from a client of its own; the status.
async fn sign_in_from_elsewhere(app: &TestApp, password: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/api/login", app.address))
        .form(&[
            ("form[username]", ADMIN),
            ("form[password]", password),
            ("form[next]", "/"),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn metrics_are_refused_without_a_live_api_token() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let pool = app.database().await;
    let (revoked_id, revoked) = server::ingest::tokens::create(&pool, "old scanner", 0)
        .await
        .unwrap();
    server::ingest::tokens::revoke(&pool, revoked_id, 1)
        .await
        .unwrap();

    let anonymous = reqwest::Client::new();
    let url = format!("{}/metrics", app.address);
    let cases = [
        ("no token", anonymous.get(&url)),
        ("a revoked token", anonymous.get(&url).bearer_auth(&revoked)),
        (
            "a made-up token",
            anonymous.get(&url).bearer_auth("itsmb_madeUp"),
        ),
        ("the session alone", app.client.get(&url)),
    ];
    for (what, request) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{what}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer"), "{what}: {challenge}");
        let body = response.text().await.unwrap();
        assert!(body.contains("API token"), "{what}: {body}");
        assert!(!body.contains("itsm_bridge_"), "{what}: {body}");
    }
    assert!(metrics_text(&app, &token).await.contains("itsm_bridge_"));
}
