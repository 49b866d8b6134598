//! What `/setup` and `/login` say (issue 13, item 8): the setup page names the setup-token
//! file of this database, and each page leads to the other when it is not the one to use.

use crate::helpers::*;
use server::auth::SystemClock;
use std::sync::Arc;

/// `GET path` without following a redirect: the status and where it leads.
async fn visit(app: &TestApp, path: &str) -> (u16, Option<String>) {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (response.status().as_u16(), location)
}

#[tokio::test]
async fn the_setup_page_names_the_setup_token_file_of_this_database() {
    let folder = tempfile::tempdir().unwrap();
    let database = folder.path().join("prod.db");
    let token_file = folder.path().join("prod.setup-token");
    let app = spawn_app_configured(folder, Arc::new(SystemClock), |config| {
        config.database_url = database.display().to_string();
    })
    .await;
    assert!(token_file.exists(), "no {}", token_file.display());
    let (status, page) = app.get_text("/setup").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&token_file.display().to_string()),
        "the page does not name {}",
        token_file.display()
    );
    assert!(!page.contains("itsm-bridge.setup-token"), "{page}");
}

#[tokio::test]
async fn login_leads_to_setup_before_the_admin_exists_and_setup_to_login_after() {
    let app = spawn_app_without_admin().await;
    assert_eq!(visit(&app, "/login").await, (303, Some("/setup".into())));
    assert_eq!(
        visit(&app, "/login?next=%2Fruns").await,
        (303, Some("/setup".into()))
    );
    let data = app.call_json("load_login_page", &[]).await;
    assert_eq!(data["admin_exists"], false, "{data}");

    app.create_admin().await;
    assert_eq!(visit(&app, "/setup").await, (303, Some("/login".into())));
    let (status, page) = app.get_text("/login").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("autocomplete=\"current-password\""),
        "no sign-in form"
    );
    let data = app.call_json("load_setup_page", &[]).await;
    assert_eq!(data["admin_exists"], true, "{data}");
    assert_eq!(data["setup_token_file"], serde_json::Value::Null, "{data}");

    // Signed in, the guard lets /setup through: the page itself says where to go.
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    let (status, page) = app.get_text("/setup").await;
    assert_eq!(status, 200);
    assert!(page.contains("The admin account exists already."), "{page}");
    assert!(!page.contains("has no admin yet"), "{page}");
}
