//! What an unauthenticated visitor can make the server keep: nothing unvalidated in the audit
//! log or the flash store; the audit log kept for a configured age and read a page at a time.

use crate::accounts::refusal;
use crate::helpers::*;
use server::auth::ManualClock;
use std::sync::Arc;

async fn audit_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&app.database().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_oversized_user_name_is_refused_before_it_is_stored_or_audited() {
    let app = spawn_app().await;
    let before = audit_count(&app).await;
    let huge = "a".repeat(100_000);
    let answer = app
        .call(
            "login",
            &[("form[username]", &huge), ("form[password]", "whatever")],
        )
        .await;
    assert_eq!(
        refusal(answer).await,
        (422, "A user name is at most 64 characters.".into())
    );
    let long_password = "p".repeat(100_000);
    let answer = app
        .call(
            "login",
            &[
                ("form[username]", ADMIN),
                ("form[password]", &long_password),
            ],
        )
        .await;
    assert_eq!(
        refusal(answer).await,
        (422, "A password has at most 1024 characters.".into())
    );
    assert_eq!(audit_count(&app).await, before, "the refusals were audited");

    // Without JavaScript the refused form comes back, but not the oversized name.
    let response = app
        .client
        .post(format!("{}/api/login", app.address))
        .header("Accept", "text/html")
        .form(&[
            ("form[username]", huge.as_str()),
            ("form[password]", "x"),
            ("form[next]", huge.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/login?flash="), "{location}");
    let (_, page) = app.get_text(&location).await;
    assert!(
        page.contains("A user name is at most 64 characters."),
        "the page says why"
    );
    assert!(
        !page.contains(&"a".repeat(65)),
        "the oversized name was kept"
    );
}

#[tokio::test]
async fn the_audit_log_keeps_a_year_by_default() {
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let app = spawn_app_with_clock(tempfile::tempdir().unwrap(), clock.clone()).await;
    app.create_admin().await;
    app.sign_in(ADMIN, "a wrong password").await;
    clock.advance(364 * 86_400);
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    let actions = |log: serde_json::Value| -> Vec<String> {
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        actions(app.call_json("load_audit_log", &[]).await),
        ["login", "login.failed", "setup"]
    );
    clock.advance(2 * 86_400);
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(
        actions(app.call_json("load_audit_log", &[]).await),
        ["login", "login"],
        "entries older than 365 days stay"
    );
}

#[tokio::test]
async fn the_audit_log_is_kept_as_long_as_configured() {
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let app = spawn_app_configured(tempfile::tempdir().unwrap(), clock.clone(), |config| {
        let database = config.database_url.clone();
        let site = config.site_root.clone();
        *config = server::configuration::Config::from_flags_only([
            "itsm-bridge",
            "--audit-kept-days",
            "7",
            "--database-url",
            database.as_str(),
            "--listen",
            "127.0.0.1:0",
        ])
        .expect("the flag is known");
        config.site_root = site;
    })
    .await;
    app.create_admin().await;
    clock.advance(8 * 86_400);
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    let log = app.call_json("load_audit_log", &[]).await;
    assert_eq!(log["entries"].as_array().unwrap().len(), 1, "{log}");
}

#[tokio::test]
async fn the_audit_page_shows_a_page_at_a_time_with_links_to_the_others() {
    let app = spawn_app().await;
    let pool = app.database().await;
    for i in 0..250 {
        server::audit::record(
            &pool,
            1_800_000_000 + i,
            Some(ADMIN),
            "test.entry",
            &format!("entry {i}"),
            None,
        )
        .await
        .unwrap();
    }
    // 250 test entries + setup + login = 252: pages of 100.
    let first = app.call_json("load_audit_log", &[]).await;
    assert_eq!(first["page"], 1);
    assert_eq!(first["pages"], 3);
    let entries = first["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 100);
    assert_eq!(entries[0]["detail"], "entry 249", "newest first");
    let last = app.call_json("load_audit_log", &[("page", "3")]).await;
    let entries = last["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 52);
    assert_eq!(entries[51]["action"], "setup");
    let beyond = app.call_json("load_audit_log", &[("page", "9")]).await;
    assert_eq!(beyond["entries"].as_array().unwrap().len(), 0);

    // Without JavaScript: plain links to the other pages.
    let (status, page) = app.get_text("/audit?page=2").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("entry 149") && !page.contains("entry 150<"),
        "page 2 shows entries 149 to 50"
    );
    assert!(page.contains("href=\"/audit?page=1\"") && page.contains("href=\"/audit?page=3\""));
    assert!(page.contains("Page 2 of 3"));
}
