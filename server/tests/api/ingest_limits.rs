//! One finding may not cost more than its share: each finding (an OCSF element, an NDJSON
//! line, a Trivy vulnerability or misconfiguration) is capped at 1 MiB, refused with a 400
//! naming where and the cap; what the parsers skip costs nothing and is not capped.

use crate::helpers::*;
use serde_json::{Value, json};

/// The cap on one finding, as the answer names it.
const CAP: &str = "1048576";

/// Padding that makes one finding larger than the cap, in a field no format uses.
fn padding() -> String {
    "x".repeat(2 * 1024 * 1024)
}

fn native_finding(extra: &str) -> Value {
    json!({"control": {"id": "c"}, "resource": {"id": "r"}, "status": "fail", "severity": "low", "padding": extra})
}

fn ocsf_finding(extra: &str) -> Value {
    json!({"class_uid": 2004, "metadata": {"event_code": "check"}, "status_code": "FAIL", "severity_id": 3,
        "resources": [{"uid": "r", "data": {"padding": extra}}], "cloud": {"provider": "aws", "account": {"uid": "1"}}})
}

fn trivy_report(vulnerability_extra: &str) -> Value {
    json!({"SchemaVersion": 2, "ArtifactName": "alpine:3.18", "Results": [{"Target": "alpine", "Type": "alpine",
    "Vulnerabilities": [
        {"VulnerabilityID": "CVE-1", "PkgName": "musl", "InstalledVersion": "1", "Severity": "LOW"},
        {"VulnerabilityID": "CVE-2", "PkgName": "openssl", "InstalledVersion": "3", "Severity": "HIGH", "Description": vulnerability_extra}
    ]}]})
}

async fn stored(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM findings")
        .fetch_one(&app.database().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_finding_over_the_cap_is_refused_in_every_format_naming_where() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let big = padding();
    let small = native_finding("");
    let cases: Vec<(&str, &str, String, &str)> = vec![
        (
            "a native document",
            "",
            json!({"source": "s", "findings": [small.clone(), native_finding(&big)]}).to_string(),
            "/findings/1",
        ),
        (
            "native NDJSON",
            "?source=s",
            format!("{small}\n{small}\n{}\n", native_finding(&big)),
            "line 3",
        ),
        (
            "an OCSF array",
            "",
            json!([ocsf_finding(""), ocsf_finding(&big)]).to_string(),
            "/1",
        ),
        (
            "OCSF NDJSON",
            "",
            format!("{}\n{}\n", ocsf_finding(&big), ocsf_finding("")),
            "line 1",
        ),
        (
            "a Trivy report",
            "",
            trivy_report(&big).to_string(),
            "/Results/0/Vulnerabilities/1",
        ),
    ];
    for (what, query, body, at) in cases {
        let response = app.post_scan(query, &token, body).await;
        assert_eq!(response.status(), 400, "{what}");
        let answer: Value = response.json().await.unwrap();
        let problem = &answer["problems"][0];
        assert_eq!(problem["at"], at, "{what}: {answer}");
        assert!(
            problem["message"].as_str().unwrap().contains(CAP),
            "{what}: the cap is not named: {answer}"
        );
        assert_eq!(stored(&app).await, 0, "{what} stored something");
    }
}

#[tokio::test]
async fn a_finding_under_the_cap_with_much_unused_data_is_stored() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let unused = "y".repeat(900 * 1024);
    let body = json!([ocsf_finding(&unused), ocsf_finding("")]).to_string();
    let response = app.post_scan("", &token, body).await;
    assert_eq!(response.status(), 201);
    assert_eq!(stored(&app).await, 1, "the two are the same pair");
}

/// A Trivy report's parts that hold no finding (its packages, its metadata) are skipped
/// whatever their size: only what becomes a finding is capped.
#[tokio::test]
async fn a_trivy_report_with_large_unused_parts_is_stored() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let packages: Vec<Value> = (0..40_000)
        .map(|i| json!({"ID": format!("package-{i}@1.0.0"), "Name": format!("package-{i}"), "Version": "1.0.0"}))
        .collect();
    let mut report = trivy_report("a short description");
    report["Metadata"] = json!({"ImageConfig": {"history": "z".repeat(3 * 1024 * 1024)}});
    report["Results"][0]["Packages"] = json!(packages);
    let body = report.to_string();
    assert!(body.len() > 4 * 1024 * 1024);
    let response = app.post_scan("", &token, body).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    assert_eq!(stored(&app).await, 2);
}

/// Trivy writes `ArtifactName` before `Results`; a report that has it after them (rewritten
/// by another tool) gives the same findings, without holding its results in memory.
#[tokio::test]
async fn a_trivy_artifact_named_after_its_results_gives_the_same_findings() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let report = trivy_report("d");
    let results = report["Results"].to_string();
    let body = format!(r#"{{"SchemaVersion":2,"Results":{results},"ArtifactName":"alpine:3.18"}}"#);
    let response = app.post_scan("", &token, body).await;
    assert_eq!(response.status(), 201);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["source"], "trivy-alpine:3.18");
    let resources: Vec<String> =
        sqlx::query_scalar("SELECT resource_id FROM findings ORDER BY resource_id")
            .fetch_all(&app.database().await)
            .await
            .unwrap();
    assert_eq!(resources, ["alpine:3.18:musl@1", "alpine:3.18:openssl@3"]);
}
