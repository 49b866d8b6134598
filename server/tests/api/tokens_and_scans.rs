//! The API tokens page and the scans pages, through their server functions and HTML.

use crate::helpers::*;
use serde_json::{Value, json};

async fn create_token(app: &TestApp, name: &str) -> String {
    let created = app
        .call_json("create_api_token", &[("form[name]", name)])
        .await;
    assert_eq!(created["name"], name);
    created["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_created_token_works_once_listed_by_prefix_only_and_revoked_stops_working() {
    let app = spawn_app().await;
    let token = create_token(&app, "prowler-prod").await;
    assert!(token.starts_with("itsmb_") && token.len() > 40);

    let body = json!({"source": "s", "findings": [{"control": {"id": "c"}, "resource": {"id": "r"}, "status": "fail", "severity": "low"}]}).to_string();
    assert_eq!(app.post_scan("", &token, body.clone()).await.status(), 201);

    let page = app.call_json("load_api_tokens", &[]).await;
    let listed = &page["tokens"][0];
    assert_eq!(listed["name"], "prowler-prod");
    assert!(token.starts_with(listed["prefix"].as_str().unwrap()));
    assert!(listed["last_used_at"].is_string(), "the use was not noted");
    assert!(
        !page.to_string().contains(&token),
        "the list shows the whole token"
    );
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_all(&app.database().await)
        .await
        .unwrap();
    assert!(
        !stored[0]
            .windows(10)
            .any(|w| token.as_bytes().windows(10).any(|t| t == w))
    );

    let id = listed["id"].to_string();
    assert_eq!(
        app.call("revoke_api_token", &[("id", id.as_str())])
            .await
            .status(),
        200
    );
    assert_eq!(app.post_scan("", &token, body).await.status(), 401);
    let log = app.call_json("load_audit_log", &[]).await.to_string();
    assert!(log.contains("token.created") && log.contains("token.revoked"));
}

#[tokio::test]
async fn a_token_needs_a_name() {
    let app = spawn_app().await;
    let response = app.call("create_api_token", &[("form[name]", "  ")]).await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("name of 1 to 100"));
    assert_eq!(
        app.call_json("load_api_tokens", &[]).await["tokens"],
        json!([])
    );
}

#[tokio::test]
async fn without_javascript_the_new_token_is_shown_after_the_redirect() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/create_api_token", app.address))
        .header("Accept", "text/html")
        .form(&[("form[name]", "trivy-ci")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let (_, page) = app.get_text(&location).await;
    assert!(
        page.contains("itsmb_") && page.contains("not shown again"),
        "{page}"
    );
    let (_, again) = app.get_text(&location).await;
    assert!(
        !again.contains("not shown again"),
        "the token was shown twice"
    );
}

#[tokio::test]
async fn the_scans_pages_show_counts_and_failing_findings_paged() {
    let app = spawn_app().await;
    let token = create_token(&app, "t").await;
    let findings: Vec<Value> = (0..120)
        .map(|i| json!({"control": {"id": format!("c{i:03}")}, "resource": {"id": "r"}, "status": if i < 60 { "fail" } else { "pass" }, "severity": "high"}))
        .collect();
    let answer: Value = app
        .post_scan(
            "",
            &token,
            json!({"source": "paged", "findings": findings}).to_string(),
        )
        .await
        .json()
        .await
        .unwrap();
    let scan_id = answer["scan_id"].as_i64().unwrap();

    let (status, list) = app.get_text("/scans").await;
    assert_eq!(status, 200);
    assert!(
        list.contains("paged") && list.contains("(latest)"),
        "{list}"
    );

    let first = app
        .call_json(
            "load_scan_findings",
            &[("scan_id", &scan_id.to_string()), ("page", "1")],
        )
        .await;
    assert_eq!(first["pages"], 2);
    assert_eq!(first["findings"].as_array().unwrap().len(), 50);
    let second = app
        .call_json(
            "load_scan_findings",
            &[("scan_id", &scan_id.to_string()), ("page", "2")],
        )
        .await;
    assert_eq!(second["findings"].as_array().unwrap().len(), 10);
    let (_, page) = app.get_text(&format!("/scans/{scan_id}?page=2")).await;
    assert!(
        page.contains("Page 2 of 2") && page.contains("c059"),
        "{page}"
    );
    let none = app
        .call_json("load_scan_findings", &[("scan_id", "99999"), ("page", "1")])
        .await;
    assert!(none.is_null());
}

#[tokio::test]
async fn a_wrong_token_is_refused_while_another_writer_holds_the_database() {
    let app = spawn_app().await;
    let database = app.database().await;
    // Another process writes (a long transaction holds SQLite's write lock).
    let mut writer = database.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *writer)
        .await
        .unwrap();
    // Checking a token only reads: the answer is 401, not 503 after the busy timeout.
    let response = app
        .post_scan("", "itsm_0000000000000000000000000000", "{}".to_string())
        .await;
    assert_eq!(response.status(), 401);
    sqlx::query("ROLLBACK").execute(&mut *writer).await.unwrap();
}
