//! OCSF as NDJSON, one finding a line, as Prowler's own examples turn into it: told from the
//! body or named with `?format=ocsf`, through the API and the `ingest` command; a bad line
//! is refused by its number.

use crate::helpers::*;
use serde_json::Value;

/// A fixture's JSON array as NDJSON: each finding on a line of its own.
fn as_ndjson(name: &str) -> String {
    let array: Vec<Value> = serde_json::from_slice(&fixture(name)).unwrap();
    array.iter().map(|finding| format!("{finding}\n")).collect()
}

/// Each Prowler fixture with the counts it holds (see tests/fixtures/README.md).
const FIXTURES: [(&str, [i64; 4]); 2] = [
    ("prowler_example_output_aws.ocsf.json", [5, 2, 0, 3]),
    ("prowler_example_output_kubernetes.ocsf.json", [6, 5, 1, 0]),
];

fn counts(summary: &Value) -> [i64; 4] {
    ["findings", "failing", "passing", "other"].map(|k| summary[k].as_i64().unwrap_or(-1))
}

async fn stored_scans(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM scans")
        .fetch_one(&app.database().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn each_prowler_fixture_as_ndjson_is_taken_with_and_without_format_ocsf() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    for (file, expected) in FIXTURES {
        let body = as_ndjson(file);
        assert!(body.lines().count() > 1, "{file} became one line");
        for (n, format) in ["", "&format=ocsf"].into_iter().enumerate() {
            // The Kubernetes example names no cluster: its source is given.
            let query = format!("?source=ndjson-{n}-{file}{format}");
            let response = app.post_scan(&query, &token, body.clone()).await;
            let status = response.status();
            let summary: Value = response.json().await.unwrap();
            assert_eq!(status, 201, "{file} {query}: {summary}");
            assert_eq!(summary["format"], "ocsf", "{file} {query}");
            assert_eq!(counts(&summary), expected, "{file} {query}: {summary}");
        }
    }
    // The AWS example names its account: as NDJSON it gets the same source as the array.
    let response = app.post_scan("", &token, as_ndjson(FIXTURES[0].0)).await;
    let summary: Value = response.json().await.unwrap();
    assert_eq!(summary["source"], "prowler-aws-<account_uid>", "{summary}");
}

#[tokio::test]
async fn the_ingest_command_takes_each_prowler_fixture_as_ndjson() {
    let folder = tempfile::tempdir().unwrap();
    let database = folder.path().join("cli.db");
    // The command needs the database the server creates.
    create_database(&database).await;
    for (file, expected) in FIXTURES {
        let lines = folder.path().join(format!("{file}.ndjson"));
        std::fs::write(&lines, as_ndjson(file)).unwrap();
        for (n, format) in [&[][..], &["--format", "ocsf"][..]].into_iter().enumerate() {
            let source = format!("cli-{n}-{file}");
            let mut args = vec!["--source", &source];
            args.extend_from_slice(format);
            args.push(lines.to_str().unwrap());
            let output = ingest_command(&database, &args);
            assert!(
                output.status.success(),
                "{file} {format:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(summary["format"], "ocsf");
            assert_eq!(counts(&summary), expected, "{file} {format:?}: {summary}");
        }
    }
}

#[tokio::test]
async fn a_bad_ndjson_line_is_refused_by_its_number_and_nothing_is_stored() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let good: Vec<String> = as_ndjson(FIXTURES[0].0)
        .lines()
        .map(str::to_string)
        .collect();
    let cut = &good[2][..good[2].len() / 2];
    let cases = [
        // A line cut in the middle, as a truncated copy leaves it.
        (
            format!("{}\n{}\n{cut}\n{}\n", good[0], good[1], good[3]),
            "line 3",
            "NDJSON",
        ),
        // A line that is JSON but no finding.
        (format!("{}\n[1, 2]\n", good[0]), "line 2", "JSON object"),
    ];
    for (body, at, says) in cases {
        for query in ["?source=bad", "?source=bad&format=ocsf"] {
            let response = app.post_scan(query, &token, body.clone()).await;
            assert_eq!(response.status(), 400, "{at} {query}");
            let answer: Value = response.json().await.unwrap();
            let problem = &answer["problems"][0];
            assert_eq!(problem["at"], at, "{query}: {answer}");
            assert!(
                problem["message"].as_str().unwrap().contains(says),
                "{query}: {answer}"
            );
        }
    }
    assert_eq!(stored_scans(&app).await, 0);
}
