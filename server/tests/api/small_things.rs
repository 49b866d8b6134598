//! Issue 13, item 14: a CA file that cannot be used stops the start naming its flag; Test
//! connection always lists its four steps; live token names are unique; revoking an unknown
//! token and asking for an unknown scan answer 404.

use crate::helpers::*;
use server::configuration::Config;
use server::startup::Application;

const STEPS: [&str; 4] = [
    "Token request",
    "Assignment group",
    "Caller",
    "Incident states",
];

fn assert_four_steps_stopped_at_the_first(steps: &serde_json::Value, reason: &str) {
    let steps = steps.as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, STEPS, "{steps:?}");
    assert_eq!(steps[0]["passed"], false);
    assert!(
        steps[0]["detail"].as_str().unwrap().contains(reason),
        "{steps:?}"
    );
    for later in &steps[1..] {
        assert_eq!(later["passed"], false);
        assert_eq!(later["detail"], "Not run: the token request failed.");
    }
}

#[tokio::test]
async fn a_ca_file_that_is_missing_or_not_pem_stops_the_start_naming_the_flag() {
    let folder = tempfile::tempdir().unwrap();
    let not_pem = folder.path().join("not.pem");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    for ca_file in [folder.path().join("missing.pem"), not_pem] {
        let mut config =
            Config::with_database(folder.path().join("itsm-bridge.db").display().to_string());
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.servicenow_ca_file = Some(ca_file.clone());
        let Err(error) = Application::build(&config).await else {
            panic!("started with the CA file {}", ca_file.display());
        };
        let error = format!("{error:#}");
        assert!(
            error.contains("--servicenow-ca-file (ITSM_BRIDGE_SERVICENOW_CA_FILE)")
                && error.contains(&ca_file.display().to_string()),
            "{error}"
        );
    }
}

#[tokio::test]
async fn test_connection_lists_its_four_steps_when_the_first_cannot_even_be_sent() {
    // Nothing saved yet.
    let app = spawn_app().await;
    let steps = app.call_json("test_connection", &[]).await;
    assert_four_steps_stopped_at_the_first(&steps, "Save the connection settings first");

    // A CA file that was fine at start and has gone since.
    let (_sim, certificate) = servicenow_sim::start_https("127.0.0.1:0".parse().unwrap(), 1800)
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let ca_file = folder.path().join("sim.pem");
    std::fs::write(&ca_file, certificate).unwrap();
    let app = spawn_app_with(|config| config.servicenow_ca_file = Some(ca_file.clone())).await;
    app.save_connection(&connection_form(&[])).await;
    std::fs::remove_file(&ca_file).unwrap();
    let steps = app.call_json("test_connection", &[]).await;
    assert_four_steps_stopped_at_the_first(&steps, "cannot read the CA file");
}

#[tokio::test]
async fn a_live_token_name_cannot_be_taken_twice_and_an_unknown_token_is_not_revoked() {
    let app = spawn_app().await;
    let created = app
        .call("create_api_token", &[("form[name]", "prowler")])
        .await;
    assert_eq!(created.status(), 200);
    let again = app
        .call("create_api_token", &[("form[name]", "Prowler")])
        .await;
    assert_eq!(again.status(), 409);
    let refusal = again.text().await.unwrap();
    assert!(
        refusal.contains("A live token is named") && refusal.contains("Prowler"),
        "the refusal does not say why: {refusal}"
    );
    let page = app.call_json("load_api_tokens", &[]).await;
    let tokens = page["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let id = tokens[0]["id"].to_string();

    let revoked = app.call("revoke_api_token", &[("id", id.as_str())]).await;
    assert_eq!(revoked.status(), 200);
    // Its name is free again once it is revoked.
    let replaced = app
        .call("create_api_token", &[("form[name]", "prowler")])
        .await;
    assert_eq!(replaced.status(), 200);

    for unknown in ["9999", id.as_str()] {
        let response = app.call("revoke_api_token", &[("id", unknown)]).await;
        assert_eq!(response.status(), 404, "revoking {unknown}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains(&format!("There is no live API token {unknown}")),
        );
    }
}

#[tokio::test]
async fn an_unknown_scan_is_a_404_that_says_so() {
    let app = spawn_app().await;
    for path in ["/scans/9999", "/scans/abc"] {
        let (status, page) = app.get_text(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(page.contains("No such scan"), "{path}: {page}");
    }
    assert_eq!(app.get_text("/scans").await.0, 200);
}
