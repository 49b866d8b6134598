//! A lost or changed key (issue 13, item 5): the stored secrets no longer open. The page,
//! Test connection and the engine say so in the same words, nothing is sent to ServiceNow,
//! and entering both secrets again brings everything back. An empty ITSM_BRIDGE_SECRET_KEY
//! is refused instead of falling back to a new key file.

use crate::engine_support::{connect, now, post_scan, run_now, start_sim};
use crate::helpers::*;
use app::forms::SecretsStored;
use server::auth::SystemClock;
use std::sync::Arc;

#[tokio::test]
async fn after_the_key_is_lost_every_place_says_to_enter_the_secrets_again_and_saving_them_works() {
    let sim = start_sim().await;
    let folder = tempfile::tempdir().unwrap();
    let engine_config = |config: &mut server::configuration::Config| {
        config.no_scheduler = true;
        config.servicenow_requests_per_second = 10_000;
    };
    let app = spawn_app_configured(folder, Arc::new(SystemClock), engine_config).await;
    app.create_admin().await;
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    connect(&app, &sim, "6", "0").await;
    let folder = app.stop().await;
    // The key file is lost: the server makes a new one at start.
    std::fs::remove_file(folder.path().join("itsm-bridge.key")).unwrap();
    let app = spawn_app_configured(folder, Arc::new(SystemClock), engine_config).await;
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    sim.clear_log();

    let view = app.load_connection().await;
    assert_eq!(view["view"]["stored"]["unreadable"], true, "{view}");
    let (status, page) = app.get_text("/settings/connection").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("cannot be read with this server")
            && page.contains("Enter both again on the ITSM integrations page and save."),
        "the page does not say the secrets must be entered again"
    );

    let steps = app.call_json("test_connection", &[]).await;
    let steps = steps.as_array().unwrap();
    assert_eq!(steps.len(), 4, "{steps:?}");
    assert_eq!(steps[0]["passed"], false);
    assert_eq!(steps[0]["detail"], SecretsStored::UNREADABLE);
    for later in &steps[1..] {
        assert_eq!(later["detail"], "Not run: the token request failed.");
    }

    let token = app.api_token().await;
    post_scan(
        &app,
        &token,
        "aws",
        now() - 60,
        &[("c1", "r1", "fail", "high")],
    )
    .await;
    // The preview lists no action the run could not take: it says the run would fail,
    // and why, in the same words.
    let preview = app.call_json("preview_itsm_settings", &[]).await;
    assert_eq!(
        preview["Preview"]["run_would_fail"],
        SecretsStored::UNREADABLE,
        "{preview}"
    );
    assert_eq!(
        preview["Preview"]["rows"],
        serde_json::json!([]),
        "{preview}"
    );
    let (_, runs_page) = app.get_text("/settings/itsm").await;
    assert!(
        !runs_page.contains("data-action="),
        "the ITSM page previews no action"
    );

    let run = run_now(&app).await;
    assert_eq!(run["outcome"], "failed", "{run}");
    assert_eq!(
        run["errors"],
        serde_json::json!([SecretsStored::UNREADABLE])
    );
    assert!(sim.log().is_empty(), "something was sent to ServiceNow");

    // Keeping the unreadable secrets is refused, field by field.
    let url = sim.url();
    let mut blank = vec![
        ("form[instance_url]", url.as_str()),
        ("form[client_id]", servicenow_sim::CLIENT_ID),
        ("form[client_secret]", ""),
        ("form[group_sys_id]", servicenow_sim::GROUP_SYS_ID),
        ("form[user_sys_id]", servicenow_sim::USER_SYS_ID),
        ("form[user_id]", servicenow_sim::USER_NAME),
        ("form[password]", ""),
        ("form[duplicate_status]", "6"),
        ("form[duplicate_days]", "0"),
    ];
    let refused = app.save_connection(&blank).await;
    assert_eq!(
        refused["Invalid"]["client_secret"],
        "Enter the client secret again: the stored one cannot be read with this server's key.",
        "{refused}"
    );
    assert!(refused["Invalid"]["password"].is_string(), "{refused}");

    // Both entered again: saved, and the connection works.
    blank[2].1 = servicenow_sim::CLIENT_SECRET;
    blank[6].1 = servicenow_sim::USER_PASSWORD;
    assert_eq!(app.save_connection(&blank).await, "Saved");
    assert_eq!(
        app.load_connection().await["view"]["stored"]["unreadable"],
        false
    );
    let steps = app.call_json("test_connection", &[]).await;
    assert!(
        steps
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["passed"] == true),
        "{steps}"
    );
}

#[test]
fn an_empty_secret_key_variable_is_refused_and_makes_no_key_file() {
    let folder = tempfile::tempdir().unwrap();
    let output = itsm_bridge_command()
        .env("ITSM_BRIDGE_SECRET_KEY", "")
        .arg("--database-url")
        .arg(folder.path().join("itsm-bridge.db"))
        .arg("run-once")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("ITSM_BRIDGE_SECRET_KEY is set but empty"),
        "{stderr}"
    );
    assert!(
        !folder.path().join("itsm-bridge.key").exists(),
        "an empty key fell back to a new key file"
    );
}
