//! Test connection, from the page's server function to the simulator.

use crate::engine_support::start_sim;
use crate::helpers::*;
use serde_json::Value;
use servicenow_sim::{
    CLIENT_ID, CLIENT_SECRET, GROUP_SYS_ID, USER_NAME, USER_PASSWORD, USER_SYS_ID,
};

/// The connection form that works against the simulator at `url`, both secrets entered.
fn working_form(url: &str) -> Vec<(&'static str, &str)> {
    vec![
        ("form[instance_url]", url),
        ("form[client_id]", CLIENT_ID),
        ("form[client_secret]", CLIENT_SECRET),
        ("form[group_sys_id]", GROUP_SYS_ID),
        ("form[user_sys_id]", USER_SYS_ID),
        ("form[user_id]", USER_NAME),
        ("form[password]", USER_PASSWORD),
        ("form[duplicate_status]", "6"),
        ("form[duplicate_days]", "0"),
    ]
}

async fn save_sim_connection(
    app: &TestApp,
    sim: &servicenow_sim::SimHandle,
    secret: &str,
    group: &str,
) {
    let url = sim.url();
    let fields = [
        ("form[instance_url]", url.as_str()),
        ("form[client_id]", CLIENT_ID),
        ("form[client_secret]", secret),
        ("form[group_sys_id]", group),
        ("form[user_sys_id]", USER_SYS_ID),
        ("form[user_id]", USER_NAME),
        ("form[password]", USER_PASSWORD),
        ("form[duplicate_status]", "6"),
        ("form[duplicate_days]", "0"),
    ];
    assert_eq!(
        app.save_connection(&fields).await,
        serde_json::json!("Saved")
    );
}

fn verdicts(steps: &Value) -> Vec<(String, bool)> {
    steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["passed"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_step_passes_against_a_working_instance_and_its_states_are_offered() {
    let sim = start_sim().await;
    let app = spawn_app().await;
    save_sim_connection(&app, &sim, CLIENT_SECRET, GROUP_SYS_ID).await;
    let steps = app.call_json("test_connection", &[]).await;
    assert_eq!(
        verdicts(&steps),
        [
            ("Token request".into(), true),
            ("Assignment group".into(), true),
            ("Caller".into(), true),
            ("Incident states".into(), true)
        ],
        "{steps}"
    );
    assert!(
        steps[1]["detail"]
            .as_str()
            .unwrap()
            .contains("Security Operations")
    );
    assert!(
        steps[3]["detail"]
            .as_str()
            .unwrap()
            .contains("resolved with the close code \u{201c}Solved (Permanently)\u{201d}"),
        "{steps}"
    );
    let codes: Vec<String> =
        sqlx::query_scalar("SELECT value FROM instance_close_codes ORDER BY position")
            .fetch_all(&app.database().await)
            .await
            .unwrap();
    assert_eq!(
        codes.len(),
        4,
        "the simulator's close codes are kept: {codes:?}"
    );
    let states = &app.load_connection().await["view"]["states"];
    assert_eq!(states.as_array().unwrap().len(), 6);
    assert_eq!(
        states[3],
        serde_json::json!({"value": "6", "label": "Resolved"})
    );
}

#[tokio::test]
async fn a_wrong_secret_names_the_token_step_and_why() {
    let sim = start_sim().await;
    let app = spawn_app().await;
    save_sim_connection(&app, &sim, "not-the-secret", GROUP_SYS_ID).await;
    let steps = app.call_json("test_connection", &[]).await;
    assert_eq!(steps[0]["passed"], false);
    let detail = steps[0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("access_denied") && detail.contains("client ID and secret"),
        "{detail}"
    );
    assert!(
        !steps.to_string().contains("not-the-secret"),
        "the secret was echoed"
    );
    assert_eq!(steps[1]["detail"], "Not run: the token request failed.");
}

#[tokio::test]
async fn an_unknown_group_fails_its_step_only() {
    let sim = start_sim().await;
    let app = spawn_app().await;
    save_sim_connection(
        &app,
        &sim,
        CLIENT_SECRET,
        "ffffffffffffffffffffffffffffffff",
    )
    .await;
    let steps = app.call_json("test_connection", &[]).await;
    assert_eq!(
        verdicts(&steps),
        [
            ("Token request".into(), true),
            ("Assignment group".into(), false),
            ("Caller".into(), true),
            ("Incident states".into(), true)
        ]
    );
    assert!(
        steps[1]["detail"]
            .as_str()
            .unwrap()
            .contains("no group with sys_id ffffffffffffffffffffffffffffffff")
    );
}

#[tokio::test]
async fn testing_before_saving_says_to_save_first() {
    let app = spawn_app().await;
    let steps = app.call_json("test_connection", &[]).await;
    assert!(
        steps[0]["detail"]
            .as_str()
            .unwrap()
            .contains("Save the connection settings first")
    );
}

#[tokio::test]
async fn kept_secrets_are_never_sent_to_a_new_url() {
    let sim = start_sim().await;
    let elsewhere = start_sim().await;
    let app = spawn_app().await;
    save_sim_connection(&app, &sim, CLIENT_SECRET, GROUP_SYS_ID).await;
    let url = elsewhere.url();
    let answer = app
        .save_connection(&[
            ("form[instance_url]", url.as_str()),
            ("form[client_id]", CLIENT_ID),
            ("form[client_secret]", ""),
            ("form[group_sys_id]", GROUP_SYS_ID),
            ("form[user_sys_id]", USER_SYS_ID),
            ("form[user_id]", USER_NAME),
            ("form[password]", ""),
            ("form[duplicate_status]", "6"),
            ("form[duplicate_days]", "0"),
        ])
        .await;
    assert!(answer["Invalid"]["client_secret"].is_string(), "{answer}");
    let steps = app.call_json("test_connection", &[]).await;
    assert!(
        elsewhere.log().is_empty(),
        "the kept secrets went to the new URL: {:?}",
        elsewhere.log()
    );
    assert_eq!(steps[0]["passed"], true, "{steps}");
    assert_eq!(sim.count("POST", "/oauth_token.do"), 1);
}

/// Whether the overview says when Test connection last passed.
async fn last_pass_shown(app: &TestApp) -> bool {
    let overview = app.call_json("load_overview", &[]).await;
    overview["connection"]["last_test_passed"].is_string()
}

#[tokio::test]
async fn a_change_of_credentials_clears_when_test_connection_last_passed() {
    let sim = start_sim().await;
    let app = spawn_app().await;
    let url = sim.url();
    let base = working_form(&url);
    // Each change of what the test proved: a secret entered again, another user, another
    // client (the instance URL is covered by the overview's own test).
    let changes: [(&str, &str); 4] = [
        ("form[password]", "another-password"),
        ("form[client_secret]", "another-secret"),
        ("form[user_id]", "someone.else"),
        ("form[client_id]", "another-client"),
    ];
    for (field, value) in changes {
        assert_eq!(app.save_connection(&base).await, serde_json::json!("Saved"));
        let steps = app.call_json("test_connection", &[]).await;
        assert!(
            verdicts(&steps).iter().all(|(_, passed)| *passed),
            "{steps}"
        );
        assert!(last_pass_shown(&app).await, "the pass is shown");
        let mut changed: Vec<(&str, &str)> = base.to_vec();
        for pair in &mut changed {
            if pair.0 == field {
                pair.1 = value;
            }
        }
        assert_eq!(
            app.save_connection(&changed).await,
            serde_json::json!("Saved")
        );
        assert!(
            !last_pass_shown(&app).await,
            "a pass survived a change of {field}"
        );
    }
    // Another group or user sys_id (what the test's second and third steps proved), the
    // stored secrets kept: the pass goes too.
    for field in ["form[group_sys_id]", "form[user_sys_id]"] {
        assert_eq!(app.save_connection(&base).await, serde_json::json!("Saved"));
        app.call_json("test_connection", &[]).await;
        assert!(last_pass_shown(&app).await, "the pass is shown");
        let changed: Vec<(&str, &str)> = base
            .iter()
            .map(|&(name, value)| match name {
                "form[client_secret]" | "form[password]" => (name, ""),
                _ if name == field => (name, "0123456789abcdef0123456789abcdef"),
                _ => (name, value),
            })
            .collect();
        assert_eq!(
            app.save_connection(&changed).await,
            serde_json::json!("Saved")
        );
        assert!(
            !last_pass_shown(&app).await,
            "a pass survived a change of {field}"
        );
    }
    // Saving the same credentials again (no secret entered: the stored ones are kept)
    // keeps the pass: nothing it proved changed.
    assert_eq!(app.save_connection(&base).await, serde_json::json!("Saved"));
    app.call_json("test_connection", &[]).await;
    let mut kept: Vec<(&str, &str)> = base.to_vec();
    for pair in &mut kept {
        if pair.0 == "form[client_secret]" || pair.0 == "form[password]" {
            pair.1 = "";
        }
        if pair.0 == "form[duplicate_days]" {
            pair.1 = "30";
        }
    }
    assert_eq!(app.save_connection(&kept).await, serde_json::json!("Saved"));
    assert!(last_pass_shown(&app).await, "the pass was kept");
}

#[tokio::test]
async fn a_pass_that_cannot_be_recorded_is_still_answered_as_a_pass() {
    let sim = start_sim().await;
    let app = spawn_app().await;
    save_sim_connection(&app, &sim, CLIENT_SECRET, GROUP_SYS_ID).await;
    // The record of the pass cannot be written (its table is gone).
    sqlx::query("DROP TABLE connection_checks")
        .execute(&app.database().await)
        .await
        .unwrap();
    let response = app.call("test_connection", &[]).await;
    assert_eq!(response.status(), 200);
    let steps: Value = response.json().await.unwrap();
    assert!(
        verdicts(&steps).iter().all(|(_, passed)| *passed),
        "{steps}"
    );
}

#[tokio::test]
async fn a_save_while_the_test_runs_leaves_its_pass_unrecorded() {
    let sim = start_sim().await;
    let app = spawn_app().await;
    let url = sim.url();
    let mut form = working_form(&url);
    assert_eq!(app.save_connection(&form).await, serde_json::json!("Saved"));
    // The group check (the first Table API request) answers late: a save lands meanwhile,
    // once the token request is done.
    sim.inject(servicenow_sim::Fault::Delay { millis: 1500 }, 1);
    for pair in &mut form {
        if pair.0 == "form[password]" {
            pair.1 = "a-password-entered-again";
        }
    }
    let test = app.call_json("test_connection", &[]);
    let save = async {
        while !sim
            .log()
            .iter()
            .any(|entry| entry.path.contains("oauth_token"))
        {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        app.save_connection(&form).await
    };
    let (steps, saved) = tokio::join!(test, save);
    assert_eq!(saved, serde_json::json!("Saved"));
    assert!(
        verdicts(&steps).iter().all(|(_, passed)| *passed),
        "the test ran on what was stored when it began: {steps}"
    );
    assert!(
        !last_pass_shown(&app).await,
        "a pass was recorded for a password the test never used"
    );
}
