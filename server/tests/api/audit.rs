use crate::helpers::*;

#[tokio::test]
async fn sign_ins_and_settings_changes_are_audited_without_secret_values() {
    let app = spawn_app().await;
    app.sign_in(ADMIN, "a wrong password here").await;
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    app.save_connection(&connection_form(&[])).await;
    app.save_itsm(&[
        ("form[grouping]", "controls"),
        ("form[scheduler_interval_minutes]", "15"),
    ])
    .await;

    let log = app.call_json("load_audit_log", &[]).await;
    let entries = log["entries"].as_array().unwrap();
    let actions: Vec<_> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "settings.itsm",
            "settings.connection",
            "login",
            "login.failed",
            "login",
            "setup"
        ],
        "newest first"
    );
    let connection = &entries[1];
    assert_eq!(connection["actor"], ADMIN);
    assert!(
        connection["detail"]
            .as_str()
            .unwrap()
            .contains("Client secret")
    );
    assert_eq!(
        entries[0]["detail"],
        "changed: grouping By resources -> By controls, interval 60 -> 15 minutes"
    );
    assert_eq!(entries[3]["address"], "127.0.0.1");
    assert_eq!(
        (log["page"].as_u64(), log["pages"].as_u64()),
        (Some(1), Some(1))
    );
    let text = log.to_string();
    for secret in [CLIENT_SECRET, PASSWORD, ADMIN_PASSWORD] {
        assert!(!text.contains(secret));
    }
    let (_, page) = app.get_text("/audit").await;
    assert!(page.contains("settings.connection"));
}
