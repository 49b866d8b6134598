//! The scanner API: formats, counts, refusals that store nothing, and the latest-scan rule.

use crate::helpers::*;
use serde_json::{Value, json};

/// A native scan; each one a second later than the one before, since a scan with the same
/// time as its source's latest is refused (409).
fn native(source: &str, findings: Value) -> String {
    static SECONDS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let second = SECONDS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let time = format!(
        "2026-11-29T{:02}:{:02}:{:02}Z",
        6 + second / 3600,
        second / 60 % 60,
        second % 60
    );
    json!({"schema_version": "1", "source": source, "scan": {"id": "s", "time": time}, "findings": findings}).to_string()
}

fn finding(control: &str, resource: &str, status: &str) -> Value {
    json!({"control": {"id": control, "title": "t"}, "resource": {"id": resource}, "status": status, "severity": "high"})
}

async fn counts(app: &TestApp) -> (i64, i64) {
    let pool = app.database().await;
    let scans: i64 = sqlx::query_scalar("SELECT count(*) FROM scans")
        .fetch_one(&pool)
        .await
        .unwrap();
    let findings: i64 = sqlx::query_scalar("SELECT count(*) FROM findings")
        .fetch_one(&pool)
        .await
        .unwrap();
    (scans, findings)
}

async fn failing(app: &TestApp) -> Vec<(String, String, String)> {
    server::ingest::store::current_failing(&app.database().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn each_fixture_gives_exactly_the_counts_it_holds() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    // Counted by hand from the files: see tests/fixtures/README.md.
    for (file, format, findings, failing, passing, other) in [
        ("prowler_example_output_aws.ocsf.json", "ocsf", 5, 2, 0, 3),
        (
            "prowler_example_output_kubernetes.ocsf.json",
            "ocsf",
            6,
            5,
            1,
            0,
        ),
        ("trivy_dockerfile.json.golden", "trivy", 1, 1, 0, 0),
    ] {
        // The Kubernetes example names no cluster: it needs `?source=`.
        let query = format!("?source=counts-{file}");
        let response = app.post_scan(&query, &token, fixture(file)).await;
        assert_eq!(response.status(), 201, "{file}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["format"], format, "{file}");
        assert_eq!(
            (
                body["findings"].as_i64(),
                body["failing"].as_i64(),
                body["passing"].as_i64(),
                body["other"].as_i64()
            ),
            (Some(findings), Some(failing), Some(passing), Some(other)),
            "{file}: {body}"
        );
    }
}

#[tokio::test]
async fn sources_come_from_the_file_or_the_query() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let aws: Value = app
        .post_scan("", &token, fixture("prowler_example_output_aws.ocsf.json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(aws["source"], "prowler-aws-<account_uid>");
    let trivy: Value = app
        .post_scan("", &token, fixture("trivy_dockerfile.json.golden"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(trivy["source"], "trivy-testdata/fixtures/repo/dockerfile");
    let named: Value = app
        .post_scan(
            "?source=k8s-prod&format=ocsf",
            &token,
            fixture("prowler_example_output_kubernetes.ocsf.json"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(named["source"], "k8s-prod");
}

#[tokio::test]
async fn ocsf_and_native_findings_may_come_as_ndjson() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let array: Vec<Value> =
        serde_json::from_slice(&fixture("prowler_example_output_kubernetes.ocsf.json")).unwrap();
    let lines: String = array.iter().map(|v| format!("{v}\n")).collect();
    let body: Value = app
        .post_scan("?source=k8s", &token, lines)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (body["findings"].as_i64(), body["failing"].as_i64()),
        (Some(6), Some(5)),
        "{body}"
    );

    let lines = format!(
        "{}\n{}\n",
        finding("c1", "r1", "fail"),
        finding("c2", "r1", "pass")
    );
    let response = app.post_scan("?source=lines", &token, lines).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["format"].as_str(), body["failing"].as_i64()),
        (Some("native"), Some(1))
    );
}

#[tokio::test]
async fn the_same_pair_twice_in_a_scan_is_merged_and_fail_wins() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let body = native(
        "dup",
        json!([
            finding("c", "r", "pass"),
            finding("c", "r", "fail"),
            finding("c", "r", "manual")
        ]),
    );
    let answer: Value = app.post_scan("", &token, body).await.json().await.unwrap();
    assert_eq!(
        (answer["findings"].as_i64(), answer["failing"].as_i64()),
        (Some(1), Some(1)),
        "{answer}"
    );
}

#[tokio::test]
async fn a_pair_repeated_in_another_chunk_is_merged_and_the_scan_counted_as_stored() {
    // Ingestion counts a scan from what it sent unless a finding was merged into one
    // stored before: here a repeat in the next statement of the first chunk (fail over
    // pass), and one two chunks later, past 20,000 others (pass under fail).
    let app = spawn_app().await;
    let token = app.api_token().await;
    let others = 2 * server::ingest::ROWS_PER_CHUNK;
    let mut findings = vec![finding("c", "r", "pass")];
    findings.extend((0..others).map(|n| finding("c", &format!("other-{n}"), "pass")));
    findings.insert(600, finding("c", "r", "fail"));
    findings.push(finding("c", "r", "pass"));
    let answer: Value = app
        .post_scan("", &token, native("far", Value::from(findings)))
        .await
        .json()
        .await
        .unwrap();
    let expected = others as i64 + 1;
    assert_eq!(
        (
            answer["findings"].as_i64(),
            answer["failing"].as_i64(),
            answer["passing"].as_i64()
        ),
        (Some(expected), Some(1), Some(expected - 1)),
        "{answer}"
    );
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(failing(&app).await, [s("far", "c", "r")]);
}

#[tokio::test]
async fn the_latest_scan_of_a_source_decides_what_fails() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let post = |source: &'static str, findings: Value| {
        let app = &app;
        let token = token.clone();
        async move {
            assert_eq!(
                app.post_scan("", &token, native(source, findings))
                    .await
                    .status(),
                201
            )
        }
    };
    post(
        "a",
        json!([finding("c1", "r1", "fail"), finding("c2", "r1", "fail")]),
    )
    .await;
    post("b", json!([finding("c1", "r9", "fail")])).await;
    post(
        "a",
        json!([finding("c2", "r1", "fail"), finding("c3", "r1", "pass")]),
    )
    .await;
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        failing(&app).await,
        [s("a", "c2", "r1"), s("b", "c1", "r9")]
    );
}

#[tokio::test]
async fn older_scans_beyond_the_number_kept_are_deleted() {
    let app = spawn_app_with(|c| c.scans_kept_per_source = 2).await;
    let token = app.api_token().await;
    let at = |source: &str, day: u32| {
        json!({"schema_version": "1", "source": source, "scan": {"id": format!("{source}-{day}"), "time": format!("2026-11-{day:02}T06:00:00Z")},
            "findings": [finding("c", "r", "fail")]}).to_string()
    };
    for day in [1, 2, 3] {
        assert_eq!(
            app.post_scan("", &token, at("kept", day)).await.status(),
            201
        );
    }
    assert_eq!(
        app.post_scan("", &token, at("other", 1)).await.status(),
        201
    );
    let remaining: Vec<(String, String)> =
        sqlx::query_as("SELECT source, external_id FROM scans ORDER BY source, scanned_at")
            .fetch_all(&app.database().await)
            .await
            .unwrap();
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        remaining,
        [
            pair("kept", "kept-2"),
            pair("kept", "kept-3"),
            pair("other", "other-1")
        ],
        "the two latest of each source stay"
    );
    assert_eq!(
        counts(&app).await,
        (3, 3),
        "the deleted scans left findings"
    );
}

/// Each bad input gets its clear answer, and nothing of it is stored.
#[tokio::test]
async fn bad_and_hostile_input_is_refused_and_stores_nothing() {
    let app = spawn_app_with(|c| c.max_scan_bytes = 12 * 1024 * 1024).await;
    let token = app.api_token().await;
    let good = native("s", json!([finding("c", "r", "fail")]));
    let deep = format!(
        r#"{{"source":"s","findings":[{{"control":{{"id":"c"}},"resource":{{"id":"r"}},"status":"fail","severity":"low","detail":{}{}}}]}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let huge = native(
        "s",
        json!([{"control": {"id": "c"}, "resource": {"id": "r"}, "status": "fail", "severity": "low", "detail": "x".repeat(10 * 1024 * 1024)}]),
    );
    let long = native(
        "s",
        json!([{"control": {"id": "c"}, "resource": {"id": "r"}, "status": "fail", "severity": "low", "detail": "x".repeat(100 * 1024)}]),
    );
    let mut invalid_utf8 = native("s", json!([finding("c", "r", "fail")])).into_bytes();
    let at = invalid_utf8.iter().position(|&b| b == b't').unwrap();
    invalid_utf8[at] = 0xff;
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("truncated JSON", good.as_bytes()[..good.len() - 5].to_vec(), 400, "line 1"),
        ("a wrong type", native("s", json!([{"control": {"id": 5}, "resource": {"id": "r"}, "status": "fail", "severity": "low"}])).into_bytes(), 400, "/findings/0/control/id"),
        ("a missing required field", native("s", json!([finding("c", "r", "fail"), {"control": {"id": "c"}, "status": "fail", "severity": "low"}])).into_bytes(), 400, "/findings/1/resource"),
        ("an unknown status", native("s", json!([finding("c", "r", "failed")])).into_bytes(), 400, "/findings/0/status"),
        ("deeply nested arrays", deep.into_bytes(), 400, "recursion limit"),
        ("a 10 MB string", huge.into_bytes(), 400, "larger than the limit of 1048576 bytes for one finding"),
        ("a 100 KB detail", long.into_bytes(), 400, "at most 65536"),
        ("invalid UTF-8", invalid_utf8, 400, "line 1"),
        ("an empty findings list", native("s", json!([])).into_bytes(), 400, "no findings"),
        ("no source", json!({"findings": [finding("c", "r", "fail")]}).to_string().into_bytes(), 400, "names no source"),
        ("HTML", b"<html>asleep</html>".to_vec(), 415, "none of the formats"),
        ("an unknown format name", good.clone().into_bytes(), 400, "unknown format"),
    ];
    for (what, body, status, says) in cases {
        let query = if what == "an unknown format name" {
            "?format=xml"
        } else {
            ""
        };
        let response = app.post_scan(query, &token, body).await;
        assert_eq!(response.status(), status, "{what}");
        let text = response.text().await.unwrap();
        assert!(text.contains(says), "{what}: {text}");
        assert_eq!(counts(&app).await, (0, 0), "{what} stored something");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_with_or_without_a_length() {
    let app = spawn_app_with(|c| c.max_scan_bytes = 2000).await;
    let token = app.api_token().await;
    let findings: Vec<Value> = (0..100)
        .map(|i| finding(&format!("c{i}"), "r", "fail"))
        .collect();
    let body = native("s", json!(findings));
    assert!(body.len() > 2000);
    assert_eq!(app.post_scan("", &token, body.clone()).await.status(), 413);
    // Streamed without Content-Length: the limit is enforced while reading.
    let stream = futures_util::stream::iter(
        body.into_bytes()
            .chunks(300)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let response = app
        .post_scan("", &token, reqwest::Body::wrap_stream(stream))
        .await;
    assert_eq!(response.status(), 413);
    assert_eq!(counts(&app).await, (0, 0));
}

/// The limit is inclusive: a body of exactly `--max-scan-bytes` is stored, one byte more is
/// refused, whether the length is declared or only found while reading.
#[tokio::test]
async fn a_body_of_exactly_the_limit_is_accepted_and_one_byte_more_gets_413() {
    const LIMIT: usize = 2000;
    let app = spawn_app_with(|c| c.max_scan_bytes = LIMIT as u64).await;
    let token = app.api_token().await;
    // JSON allows whitespace after the document: pad to exactly the limit. Each body is a
    // new scan (a later time), so the second is not refused as the same scan again.
    let body = || {
        let mut body = native("s", json!([finding("c", "r", "fail")])).into_bytes();
        body.resize(LIMIT, b' ');
        body
    };
    let streamed = |bytes: Vec<u8>| {
        let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
            bytes.chunks(300).map(|c| Ok(c.to_vec())).collect();
        reqwest::Body::wrap_stream(futures_util::stream::iter(pieces))
    };
    assert_eq!(
        app.post_scan("", &token, body()).await.status(),
        201,
        "with a length"
    );
    assert_eq!(
        app.post_scan("", &token, streamed(body())).await.status(),
        201,
        "without a length"
    );
    let mut over = body();
    over.push(b' ');
    assert_eq!(
        app.post_scan("", &token, over.clone()).await.status(),
        413,
        "with a length"
    );
    assert_eq!(
        app.post_scan("", &token, streamed(over)).await.status(),
        413,
        "without a length"
    );
    assert_eq!(counts(&app).await, (2, 2));
}

#[tokio::test]
async fn a_missing_wrong_or_revoked_token_gets_401() {
    let app = spawn_app().await;
    let body = native("s", json!([finding("c", "r", "fail")]));
    let anonymous = app
        .client
        .post(format!("{}/api/v1/scans", app.address))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        app.post_scan("", "itsmb_not-a-token", body.clone())
            .await
            .status(),
        401
    );
    let token = app.api_token().await;
    let pool = app.database().await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM api_tokens")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(server::ingest::tokens::revoke(&pool, id, 1).await.unwrap());
    assert_eq!(app.post_scan("", &token, body).await.status(), 401);
    assert_eq!(counts(&app).await, (0, 0));
}

#[tokio::test]
async fn the_ingest_command_takes_the_same_path_and_fails_loudly() {
    let folder = tempfile::tempdir().unwrap();
    let database = folder.path().join("cli.db");
    // The command needs the database the server creates.
    create_database(&database).await;
    let file = folder.path().join("aws.json");
    std::fs::write(&file, fixture("prowler_example_output_aws.ocsf.json")).unwrap();
    let output = ingest_command(&database, &["--source", "cli-aws", file.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (summary["source"].as_str(), summary["failing"].as_i64()),
        (Some("cli-aws"), Some(2))
    );

    let bad = folder.path().join("bad.json");
    std::fs::write(&bad, native("s", json!([finding("c", "r", "broken")]))).unwrap();
    let output = ingest_command(&database, &["--source", "cli-bad", bad.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/findings/0/status"));

    let output = ingest_command(
        &database,
        &["--source", "x", "--format", "trivy", file.to_str().unwrap()],
    );
    assert!(
        !output.status.success(),
        "an OCSF array was taken for Trivy"
    );
    let output = ingest_command(
        &database,
        &[
            "--source",
            "x",
            folder.path().join("missing.json").to_str().unwrap(),
        ],
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("Failed to open"));

    let pool = server::database::open(&database).await.unwrap();
    let scans: i64 = sqlx::query_scalar("SELECT count(*) FROM scans")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(scans, 1, "a refused file left a scan behind");
}

#[tokio::test]
async fn the_ingest_command_takes_the_source_from_the_file_without_source() {
    let folder = tempfile::tempdir().unwrap();
    let database = folder.path().join("cli.db");
    // The command needs the database the server creates.
    create_database(&database).await;
    let file = folder.path().join("aws.json");
    std::fs::write(&file, fixture("prowler_example_output_aws.ocsf.json")).unwrap();
    let output = ingest_command(&database, &[file.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["source"], "prowler-aws-<account_uid>");

    // A file that names no source still needs --source, and says so.
    let anonymous = folder.path().join("anonymous.json");
    std::fs::write(
        &anonymous,
        json!({"findings": [finding("c", "r", "fail")]}).to_string(),
    )
    .unwrap();
    let output = ingest_command(&database, &[anonymous.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("names no source"));
}
