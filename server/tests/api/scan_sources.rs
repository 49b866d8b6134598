//! Which source a scan belongs to: the account or cluster its file names, never a name two
//! of them would share; `?source=` when the file does not say; and retiring a source that
//! is no longer sent.

use crate::helpers::*;
use serde_json::{Value, json};

const AWS: &str = "prowler_example_output_aws.ocsf.json";
const KUBERNETES: &str = "prowler_example_output_kubernetes.ocsf.json";
const TRIVY: &str = "trivy_dockerfile.json.golden";

/// The Kubernetes example as Prowler writes it for `cluster`: the example has placeholders
/// where Prowler writes each finding's uid, `prowler-kubernetes-{check}-{cluster}-namespace:
/// {namespace}-{resource}`, the only place a Kubernetes finding names its cluster. With
/// `status`, every finding has that status instead of its own.
fn kubernetes_of(cluster: &str, status: Option<&str>) -> String {
    let mut findings: Vec<Value> = serde_json::from_slice(&fixture(KUBERNETES)).unwrap();
    for finding in &mut findings {
        let check = finding["metadata"]["event_code"]
            .as_str()
            .unwrap()
            .to_string();
        let resource = finding["resources"][0]["name"]
            .as_str()
            .unwrap()
            .to_string();
        finding["finding_info"]["uid"] = json!(format!(
            "prowler-kubernetes-{check}-{cluster}-namespace: kube-system-{resource}"
        ));
        if let Some(status) = status {
            finding["status_code"] = json!(status);
        }
    }
    Value::from(findings).to_string()
}

async fn failing_of(app: &TestApp, source: &str) -> usize {
    server::ingest::store::current_failing(&app.database().await)
        .await
        .unwrap()
        .iter()
        .filter(|(s, _, _)| s == source)
        .count()
}

async fn stored_scans(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM scans")
        .fetch_one(&app.database().await)
        .await
        .unwrap()
}

async fn posted(app: &TestApp, token: &str, query: &str, body: impl Into<reqwest::Body>) -> Value {
    let response = app.post_scan(query, token, body).await;
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{query}: {answer}");
    answer
}

/// Posts a body that must be refused for naming no source; the message it got.
async fn refused(
    app: &TestApp,
    token: &str,
    query: &str,
    body: impl Into<reqwest::Body>,
) -> String {
    let response = app.post_scan(query, token, body).await;
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(status, 400, "{query}: {answer}");
    assert_eq!(answer["problems"][0]["at"], "/source", "{answer}");
    answer["problems"][0]["message"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn each_fixture_gets_a_source_naming_its_account_cluster_or_artifact() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let aws = posted(&app, &token, "", fixture(AWS)).await;
    assert_eq!(aws["source"], "prowler-aws-<account_uid>");
    let trivy = posted(&app, &token, "", fixture(TRIVY)).await;
    assert_eq!(trivy["source"], "trivy-testdata/fixtures/repo/dockerfile");
    // The Kubernetes example as copied has placeholders for its findings' uids: it does not
    // say which cluster it is of, so it is refused rather than given a shared name.
    let message = refused(&app, &token, "", fixture(KUBERNETES)).await;
    assert!(message.contains("?source="), "{message}");
    assert!(message.contains("cluster"), "{message}");
    let kubernetes = posted(&app, &token, "", kubernetes_of("prod-eu", None)).await;
    assert_eq!(kubernetes["source"], "prowler-kubernetes-prod-eu");
    assert_eq!(stored_scans(&app).await, 3);
}

#[tokio::test]
async fn two_kubernetes_clusters_keep_separate_failing_state() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let east = posted(&app, &token, "", kubernetes_of("east", None)).await;
    let west = posted(&app, &token, "", kubernetes_of("west", None)).await;
    assert_eq!(east["source"], "prowler-kubernetes-east");
    assert_eq!(west["source"], "prowler-kubernetes-west");
    assert_eq!(failing_of(&app, "prowler-kubernetes-east").await, 5);
    assert_eq!(failing_of(&app, "prowler-kubernetes-west").await, 5);
    // East is fixed: its next scan passes everything; west still fails as it did.
    posted(&app, &token, "", kubernetes_of("east", Some("PASS"))).await;
    assert_eq!(failing_of(&app, "prowler-kubernetes-east").await, 0);
    assert_eq!(failing_of(&app, "prowler-kubernetes-west").await, 5);
}

#[tokio::test]
async fn a_scan_that_does_not_say_where_it_comes_from_is_refused_asking_for_source() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let native_finding = json!({"control": {"id": "c"}, "resource": {"id": "r"}, "status": "fail", "severity": "high"});
    let ocsf_finding = json!({"class_uid": 2004, "metadata": {"event_code": "c", "product": {"name": "Prowler"}},
        "status_code": "FAIL", "resources": [{"uid": "r"}]});
    let compliance_finding = json!({"class_uid": 2003, "metadata": {"product": {"name": "Prowler"}},
        "compliance": {"control": "1.1", "status_id": 3}, "resources": [{"uid": "r"}]});
    let trivy = json!({"SchemaVersion": 2, "Results": [{"Target": "t", "Type": "alpine",
        "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "p", "InstalledVersion": "1", "Severity": "LOW"}]}]});
    let bodies = [
        (
            "a native document",
            json!({"findings": [native_finding]}).to_string(),
        ),
        (
            "native NDJSON",
            format!("{native_finding}\n{native_finding}\n"),
        ),
        ("OCSF detection findings", json!([ocsf_finding]).to_string()),
        ("OCSF as NDJSON", format!("{ocsf_finding}\n")),
        (
            "OCSF compliance findings",
            json!([compliance_finding]).to_string(),
        ),
        ("Trivy without ArtifactName", trivy.to_string()),
    ];
    for (what, body) in &bodies {
        let message = refused(&app, &token, "", body.clone()).await;
        assert!(message.contains("?source="), "{what}: {message}");
    }
    // A source the file gives must be one a source may be: else `?source=` is asked for.
    let too_long = json!([{"class_uid": 2004, "metadata": {"event_code": "c"}, "status_code": "FAIL",
        "resources": [{"uid": "r"}], "cloud": {"provider": "aws", "account": {"uid": "9".repeat(300)}}}]);
    let control = json!({"source": "prod\u{7}db", "findings": [{"control": {"id": "c"}, "resource": {"id": "r"},
        "status": "fail", "severity": "high"}]});
    for body in [too_long.to_string(), control.to_string()] {
        let message = refused(&app, &token, "", body).await;
        assert!(message.contains("?source="), "{message}");
        assert!(message.contains("200 characters"), "{message}");
    }
    assert_eq!(stored_scans(&app).await, 0);
    // `?source=` names each of them, and wins over what a file says.
    for (n, (what, body)) in bodies.into_iter().enumerate() {
        let source = format!("named-{n}");
        let answer = posted(&app, &token, &format!("?source={source}"), body).await;
        assert_eq!(answer["source"], source, "{what}");
    }
    let answer = posted(&app, &token, "?source=aws-prod", fixture(AWS)).await;
    assert_eq!(answer["source"], "aws-prod");
}

#[tokio::test]
async fn the_ingest_command_asks_for_source_the_same_way() {
    let folder = tempfile::tempdir().unwrap();
    let database = folder.path().join("cli.db");
    create_database(&database).await;
    let file = folder.path().join("k8s.json");
    std::fs::write(&file, fixture(KUBERNETES)).unwrap();
    let ingest = |args: &[&str]| ingest_command(&database, args);
    let output = ingest(&[file.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--source"), "{stderr}");
    let output = ingest(&["--source", "k8s-prod", file.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["source"], "k8s-prod");
}

fn listed_sources(scans: &Value) -> Vec<String> {
    let mut sources: Vec<String> = scans["scans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap().to_string())
        .collect();
    sources.dedup();
    sources
}

#[tokio::test]
async fn retiring_a_source_deletes_its_scans_audits_and_drops_it_from_the_list() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    posted(&app, &token, "", kubernetes_of("old", None)).await;
    posted(&app, &token, "", kubernetes_of("old", Some("PASS"))).await;
    posted(&app, &token, "", kubernetes_of("old", None)).await;
    posted(&app, &token, "", kubernetes_of("kept", None)).await;
    let page = app.call_json("load_scans_page", &[]).await;
    assert_eq!(
        listed_sources(&page),
        ["prowler-kubernetes-kept", "prowler-kubernetes-old"]
    );

    let retired = app
        .call_json("retire_source", &[("source", "prowler-kubernetes-old")])
        .await;
    assert_eq!(retired["scans"], 3, "{retired}");
    let page = app.call_json("load_scans_page", &[]).await;
    assert_eq!(listed_sources(&page), ["prowler-kubernetes-kept"]);
    assert_eq!(failing_of(&app, "prowler-kubernetes-old").await, 0);
    assert_eq!(failing_of(&app, "prowler-kubernetes-kept").await, 5);
    let rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM findings f JOIN scans s ON s.id = f.scan_id WHERE s.source = ?",
    )
    .bind("prowler-kubernetes-old")
    .fetch_one(&app.database().await)
    .await
    .unwrap();
    assert_eq!(rows, 0, "the retired scans' findings are deleted");

    let log = app.call_json("load_audit_log", &[]).await;
    let entry = &log["entries"][0];
    assert_eq!(entry["action"], "source.retired", "{log}");
    assert_eq!(entry["actor"], ADMIN);
    let detail = entry["detail"].as_str().unwrap();
    assert!(
        detail.contains("prowler-kubernetes-old") && detail.contains("3 scans"),
        "{detail}"
    );

    // Once retired, or never sent: refused, saying so.
    let response = app
        .call("retire_source", &[("source", "prowler-kubernetes-old")])
        .await;
    assert_eq!(response.status(), 404);
    let text = response.text().await.unwrap();
    assert!(text.contains("No scan of the source"), "{text}");
    assert_eq!(stored_scans(&app).await, 1);
}

#[tokio::test]
async fn the_retire_button_works_without_javascript() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    posted(&app, &token, "?source=gone", fixture(AWS)).await;
    let (_, page) = app.get_text("/scans").await;
    assert!(page.contains("Retire"), "{page}");
    let plain_post = |source: &'static str| {
        app.client
            .post(format!("{}/api/retire_source", app.address))
            .header("Accept", "text/html,application/xhtml+xml")
            .header("Origin", &app.address)
            .form(&[("source", source)])
            .send()
    };
    for (source, says) in [
        (
            "gone",
            "Source \u{201c}gone\u{201d} retired: its 1 scan was deleted",
        ),
        ("gone", "No scan of the source"),
    ] {
        let response = plain_post(source).await.unwrap();
        assert_eq!(response.status(), 302);
        let location = response.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with("/scans?flash="), "{location}");
        let (status, page) = app.get_text(&location).await;
        assert_eq!(status, 200);
        assert!(page.contains(says), "{page}");
    }
}

#[tokio::test]
async fn a_scan_being_received_while_its_source_is_retired_is_stored_whole() {
    use server::ingest::store::{Completion, Counts, ScanFacts};
    use server::ingest::{Finding, ScanWriter, Severity, Status};
    let app = spawn_app().await;
    let token = app.api_token().await;
    posted(&app, &token, "?source=busy", fixture(AWS)).await;
    // An upload of the same source is under way: its first chunk is written, invisible.
    let writer = ScanWriter::new(app.database().await);
    let finding = |n: usize| Finding {
        control_id: "c".into(),
        control_title: String::new(),
        resource_id: format!("r{n}"),
        resource_name: String::new(),
        resource_type: String::new(),
        status: Status::Fail,
        severity: Severity(3),
        time: None,
        detail: String::new(),
    };
    let first: Vec<Finding> = (0..3).map(finding).collect();
    let (scan, _) = writer.write_chunk(None, &first, false).await.unwrap();

    let retired = app.call_json("retire_source", &[("source", "busy")]).await;
    assert_eq!(retired["scans"], 1, "only the completed scan is retired");

    // The upload goes on and completes: all of it, as the source's only scan.
    let rest: Vec<Finding> = (3..5).map(finding).collect();
    writer.write_chunk(Some(scan), &rest, false).await.unwrap();
    let counts = writer.count(scan).await.unwrap();
    assert_eq!(
        counts,
        Counts {
            findings: 5,
            failing: 5,
            passing: 0,
            other: 0
        }
    );
    let facts = ScanFacts {
        source: "busy",
        format: "native",
        external_id: None,
        tool: None,
        scanned_at: server::timestamps::now_unix(),
        own_time: false,
        counts,
    };
    let completion = writer.complete(scan, facts, 10).await.unwrap();
    assert_eq!(completion, Completion::Completed { hidden: vec![] });
    assert_eq!(failing_of(&app, "busy").await, 5);
}

#[tokio::test]
async fn a_cluster_by_a_name_many_clusters_share_is_refused_asking_for_source() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    // Prowler run inside a cluster writes `in-cluster`; kind's default context `kind-kind`.
    for cluster in ["in-cluster", "kind-kind"] {
        let message = refused(&app, &token, "", kubernetes_of(cluster, None)).await;
        assert!(message.contains("?source="), "{message}");
        assert!(message.contains(&format!("{cluster:?}")), "{message}");
    }
    assert_eq!(stored_scans(&app).await, 0);
    let named = posted(
        &app,
        &token,
        "?source=k8s-lab",
        kubernetes_of("in-cluster", None),
    )
    .await;
    assert_eq!(named["source"], "k8s-lab");
}

/// The AWS example with its findings split between accounts `1` and `2`.
fn aws_of_two_accounts() -> Vec<Value> {
    let mut findings: Vec<Value> = serde_json::from_slice(&fixture(AWS)).unwrap();
    for (n, finding) in findings.iter_mut().enumerate() {
        finding["cloud"]["account"]["uid"] = json!(if n == 0 { "1" } else { "2" });
    }
    findings
}

#[tokio::test]
async fn a_file_of_several_accounts_is_refused_unless_source_names_one() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let findings = aws_of_two_accounts();
    let array = Value::from(findings.clone()).to_string();
    let lines: String = findings.iter().map(|f| format!("{f}\n")).collect();
    for body in [&array, &lines] {
        let message = refused(&app, &token, "", body.clone()).await;
        assert!(message.contains("?source="), "{message}");
        assert!(
            message.contains("\"prowler-aws-1\" and \"prowler-aws-2\""),
            "{message}"
        );
    }
    assert_eq!(stored_scans(&app).await, 0);
    for (n, body) in [array, lines].into_iter().enumerate() {
        let answer = posted(&app, &token, &format!("?source=aws-all-{n}"), body).await;
        assert_eq!(answer["findings"], 5, "{answer}");
    }
}

#[tokio::test]
async fn a_trivy_report_of_the_current_folder_is_refused_asking_for_source() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let mut report: Value = serde_json::from_slice(&fixture(TRIVY)).unwrap();
    for artifact in [".", "", "./service"] {
        report["ArtifactName"] = json!(artifact);
        let message = refused(&app, &token, "", report.to_string()).await;
        assert!(message.contains("?source="), "{artifact:?}: {message}");
        assert!(message.contains("ArtifactName"), "{artifact:?}: {message}");
    }
    assert_eq!(stored_scans(&app).await, 0);
    let answer = posted(&app, &token, "?source=repo-a", report.to_string()).await;
    assert_eq!(answer["source"], "repo-a");
    report["ArtifactName"] = json!("/srv/repo-b");
    let answer = posted(&app, &token, "", report.to_string()).await;
    assert_eq!(answer["source"], "trivy-/srv/repo-b");
}

#[tokio::test]
async fn a_retire_that_cannot_write_is_refused_whole_with_nothing_hidden() {
    use sqlx::Connection;
    let app = spawn_app().await;
    let token = app.api_token().await;
    posted(&app, &token, "?source=held", fixture(AWS)).await;
    // Another writer holds SQLite's write lock for longer than the busy timeout (5 s).
    let path = app.folder.path().join("itsm-bridge.db");
    let mut holder = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let response = app.call("retire_source", &[("source", "held")]).await;
    assert_eq!(response.status(), 500);
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();

    // Nothing happened: the source is listed still, and nothing was audited.
    let page = app.call_json("load_scans_page", &[]).await;
    assert_eq!(listed_sources(&page), ["held"]);
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'source.retired'")
            .fetch_one(&app.database().await)
            .await
            .unwrap();
    assert_eq!(audited, 0);
    // Retired once the lock is free: hidden, audited and deleted together.
    let retired = app.call_json("retire_source", &[("source", "held")]).await;
    assert_eq!(retired["scans"], 1, "{retired}");
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'source.retired'")
            .fetch_one(&app.database().await)
            .await
            .unwrap();
    assert_eq!(audited, 1);
    assert_eq!(stored_scans(&app).await, 0);
}

/// Scan ids are reused once the highest scan row is deleted: a deleter late with a hidden
/// scan's id must not delete the rows of the live upload that took the id since.
#[tokio::test]
async fn a_late_deleter_of_a_hidden_scan_leaves_a_live_upload_with_the_same_id_alone() {
    use server::ingest::store;
    use server::ingest::{Finding, Severity, Status};
    let app = spawn_app().await;
    let pool = app.database().await;
    let mut conn = pool.acquire().await.unwrap();
    let now = server::timestamps::now_unix();
    let rows: Vec<Finding> = (0..3)
        .map(|n| Finding {
            control_id: "c".into(),
            control_title: String::new(),
            resource_id: format!("r{n}"),
            resource_name: String::new(),
            resource_type: String::new(),
            status: Status::Fail,
            severity: Severity(3),
            time: None,
            detail: String::new(),
        })
        .collect();
    let old = store::start_scan(&mut conn, now).await.unwrap();
    store::insert_findings(&mut conn, old, &rows, false)
        .await
        .unwrap();
    let counts = store::count(&pool, old).await.unwrap();
    let facts = |source| store::ScanFacts {
        source,
        format: "native",
        external_id: None,
        tool: None,
        scanned_at: now,
        own_time: false,
        counts,
    };
    store::complete(&mut conn, old, facts("s"), 10, now)
        .await
        .unwrap();
    assert_eq!(store::hide_source(&mut conn, "s").await.unwrap(), [old]);
    // One deleter finishes the hidden scan...
    while !store::delete_claimed_chunk(&mut conn, old).await.unwrap() {}
    // ...a new upload gets its id...
    let live = store::start_scan(&mut conn, now).await.unwrap();
    assert_eq!(live, old, "the id is reused: the race is real");
    store::insert_findings(&mut conn, live, &rows, false)
        .await
        .unwrap();
    // ...and a second deleter of the hidden scan comes late: it leaves the upload alone.
    assert!(store::delete_claimed_chunk(&mut conn, old).await.unwrap());
    assert_eq!(store::count(&pool, live).await.unwrap().findings, 3);
    let completion = store::complete(&mut conn, live, facts("t"), 10, now)
        .await
        .unwrap();
    assert_eq!(completion, store::Completion::Completed { hidden: vec![] });
}
