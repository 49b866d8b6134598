//! What a scan may claim: a token limited to one source sends only that source; a scan
//! dated in the future, or older than the latest of its source, is refused; sources have a
//! length limit.

use crate::helpers::*;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

fn scan_at(source: &str, time: &str) -> String {
    json!({"schema_version": "1", "source": source, "scan": {"id": "s", "time": time},
        "findings": [{"control": {"id": "c"}, "resource": {"id": "r"}, "status": "fail", "severity": "high"}]})
    .to_string()
}

fn in_minutes(minutes: i64) -> String {
    (OffsetDateTime::now_utc() + Duration::minutes(minutes))
        .format(&Rfc3339)
        .unwrap()
}

async fn scan_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM scans")
        .fetch_one(&app.database().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_token_limited_to_a_source_sends_only_that_source_and_the_list_says_so() {
    let app = spawn_app().await;
    let created = app
        .call_json(
            "create_api_token",
            &[("form[name]", "prowler"), ("form[source]", "prowler-aws-1")],
        )
        .await;
    let limited = created["token"].as_str().unwrap().to_string();
    let open = app
        .call_json("create_api_token", &[("form[name]", "anything")])
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let now = in_minutes(0);

    let own = app
        .post_scan("", &limited, scan_at("prowler-aws-1", &now))
        .await;
    assert_eq!(own.status(), 201);
    for (query, body_source) in [("", "prod-db"), ("?source=prod-db", "prowler-aws-1")] {
        let refused = app
            .post_scan(query, &limited, scan_at(body_source, &now))
            .await;
        assert_eq!(refused.status(), 403, "{query} {body_source}");
        let text = refused.text().await.unwrap();
        assert!(
            text.contains("prowler-aws-1") && text.contains("prod-db"),
            "{text}"
        );
    }
    assert_eq!(scan_count(&app).await, 1, "a refused scan was stored");
    assert_eq!(
        app.post_scan("", &open, scan_at("prod-db", &now))
            .await
            .status(),
        201,
        "an unlimited token sends any source"
    );

    let tokens = app.call_json("load_api_tokens", &[]).await["tokens"].clone();
    let by_name = |name: &str| -> Value {
        tokens
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("prowler")["source"], "prowler-aws-1");
    assert_eq!(by_name("anything")["source"], Value::Null);
    let (_, page) = app.get_text("/settings/tokens").await;
    assert!(
        page.contains("prowler-aws-1") && page.contains("any source"),
        "{page}"
    );
}

#[tokio::test]
async fn a_scan_dated_more_than_five_minutes_ahead_is_refused() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let ahead = app
        .post_scan("", &token, scan_at("ahead", &in_minutes(10)))
        .await;
    assert_eq!(ahead.status(), 400);
    assert!(ahead.text().await.unwrap().contains("in the future"));
    assert_eq!(
        app.post_scan("", &token, scan_at("ahead", "9999-01-01T00:00:00Z"))
            .await
            .status(),
        400
    );
    assert_eq!(scan_count(&app).await, 0);
    // A scanner's clock a little ahead is tolerated.
    assert_eq!(
        app.post_scan("", &token, scan_at("ahead", &in_minutes(2)))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn a_scan_older_than_the_latest_of_its_source_is_refused_naming_the_newer_one() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let newer: Value = app
        .post_scan("", &token, scan_at("db", "2026-11-29T06:00:00Z"))
        .await
        .json()
        .await
        .unwrap();
    let older = app
        .post_scan("", &token, scan_at("db", "2026-11-28T06:00:00Z"))
        .await;
    assert_eq!(older.status(), 409);
    let text = older.text().await.unwrap();
    assert!(
        text.contains(&format!("scan {}", newer["scan_id"]))
            && text.contains("2026-11-29 06:00:00"),
        "{text}"
    );
    assert_eq!(scan_count(&app).await, 1);
    // Other sources are not compared.
    assert_eq!(
        app.post_scan("", &token, scan_at("web", "2026-11-28T06:00:00Z"))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn a_source_longer_than_the_limit_is_refused() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let now = in_minutes(0);
    let long = "s".repeat(201);
    for (query, source) in [
        ("", long.clone()),
        (&*format!("?source={long}"), "s".into()),
    ] {
        let response = app.post_scan(query, &token, scan_at(&source, &now)).await;
        assert_eq!(response.status(), 400);
        assert!(response.text().await.unwrap().contains("at most 200"));
    }
    assert_eq!(scan_count(&app).await, 0);
    let longest = "s".repeat(200);
    assert_eq!(
        app.post_scan("", &token, scan_at(&longest, &now))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn a_second_scan_with_the_same_time_is_refused_and_the_first_stays_the_latest() {
    let app = spawn_app().await;
    let token = app
        .call_json("create_api_token", &[("form[name]", "scanner")])
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let time = in_minutes(-1);
    let first = app.post_scan("", &token, scan_at("tied", &time)).await;
    assert_eq!(first.status(), 201);
    let second = app.post_scan("", &token, scan_at("tied", &time)).await;
    assert_eq!(second.status(), 409);
    let text = second.text().await.unwrap();
    assert!(text.contains("newer scan"), "{text}");
    assert_eq!(scan_count(&app).await, 1);
}

#[tokio::test]
async fn the_future_and_a_scan_without_a_time_are_judged_by_the_servers_clock() {
    // The server's clock is a year behind the machine's: a scan dated by the machine's
    // clock is in the future, and a scan without a time of its own takes the server's.
    let year_ago = OffsetDateTime::now_utc() - Duration::days(365);
    let clock = std::sync::Arc::new(server::auth::ManualClock::new(year_ago.unix_timestamp()));
    let app = spawn_app_with_clock(tempfile::tempdir().unwrap(), clock).await;
    app.create_admin().await;
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    let token = app.api_token().await;
    let now = app
        .post_scan("", &token, scan_at("clocked", &in_minutes(0)))
        .await;
    assert_eq!(now.status(), 400, "the machine's now is a year ahead");
    let undated = json!({"schema_version": "1", "source": "clocked",
        "findings": [{"control": {"id": "c"}, "resource": {"id": "r"}, "status": "fail", "severity": "low"}]});
    let stored = app.post_scan("", &token, undated.to_string()).await;
    assert_eq!(stored.status(), 201, "{}", stored.text().await.unwrap());
    let taken: i64 = sqlx::query_scalar("SELECT scanned_at FROM scans")
        .fetch_one(&app.database().await)
        .await
        .unwrap();
    assert_eq!(taken, year_ago.unix_timestamp());
}
