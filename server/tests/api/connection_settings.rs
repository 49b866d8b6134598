use crate::helpers::*;
use secrecy::ExposeSecret;
use serde_json::json;
use server::database::Readers;
use server::secrets::SecretCipher;
use server::settings_store::SqliteSettingsStore;
use std::sync::Arc;

#[tokio::test]
async fn a_valid_connection_is_saved_normalised_and_loaded_back_without_secrets() {
    let app = spawn_app().await;
    let answer = app.save_connection(&connection_form(&[])).await;
    assert_eq!(answer, json!("Saved"));

    let page = app.load_connection().await;
    let view = &page["view"];
    assert_eq!(
        view["values"]["instance_url"],
        "https://acme.service-now.com"
    );
    assert_eq!(view["values"]["client_id"], "itsm-bridge-client");
    assert_eq!(view["values"]["group_sys_id"], GROUP);
    assert_eq!(view["values"]["user_sys_id"], USER);
    assert_eq!(view["values"]["user_id"], "svc.itsm");
    assert_eq!(view["values"]["duplicate_status"], "7");
    assert_eq!(view["values"]["duplicate_days"], "30");
    assert_eq!(view["values"]["client_secret"], "");
    assert_eq!(view["values"]["password"], "");
    assert_eq!(
        view["stored"],
        json!({"client_secret": true, "password": true, "unreadable": false})
    );
    assert!(view["updated_at"].is_string());
}

#[tokio::test]
async fn a_first_visit_shows_the_defaults() {
    let app = spawn_app().await;
    let view = &app.load_connection().await["view"];
    assert_eq!(
        view["values"]["duplicate_status"], "6",
        "default status is Resolved"
    );
    assert_eq!(view["values"]["duplicate_days"], "0");
    assert_eq!(
        view["stored"],
        json!({"client_secret": false, "password": false, "unreadable": false})
    );
    assert!(view["updated_at"].is_null());
}

#[tokio::test]
async fn invalid_fields_each_get_a_message_and_nothing_is_saved() {
    let app = spawn_app().await;
    let form = connection_form(&[
        ("instance_url", "http://acme.service-now.com/now"),
        ("group_sys_id", "123"),
        ("duplicate_days", "3651"),
    ]);
    let answer = app.save_connection(&form).await;
    let errors = answer["Invalid"].as_object().expect("an Invalid answer");
    let mut fields: Vec<_> = errors.keys().cloned().collect();
    fields.sort();
    assert_eq!(fields, ["duplicate_days", "group_sys_id", "instance_url"]);

    let view = &app.load_connection().await["view"];
    assert!(view["updated_at"].is_null(), "something was saved: {view}");
}

#[tokio::test]
async fn an_invalid_save_leaves_the_previous_settings_untouched() {
    let app = spawn_app().await;
    app.save_connection(&connection_form(&[])).await;
    let before = app.load_connection().await;
    let answer = app
        .save_connection(&connection_form(&[
            ("client_id", ""),
            ("user_sys_id", "zz"),
        ]))
        .await;
    assert!(answer["Invalid"].is_object());
    assert_eq!(app.load_connection().await, before);
}

#[tokio::test]
async fn secrets_are_required_on_the_first_save() {
    let app = spawn_app().await;
    let answer = app
        .save_connection(&connection_form(&[("client_secret", ""), ("password", "")]))
        .await;
    assert!(answer["Invalid"]["client_secret"].is_string(), "{answer}");
    assert!(answer["Invalid"]["password"].is_string(), "{answer}");
}

#[tokio::test]
async fn a_blank_secret_on_a_later_save_keeps_the_stored_one() {
    let app = spawn_app().await;
    app.save_connection(&connection_form(&[])).await;
    let answer = app
        .save_connection(&connection_form(&[
            ("client_secret", ""),
            ("password", ""),
            ("duplicate_days", "45"),
        ]))
        .await;
    assert_eq!(answer, json!("Saved"));
    assert_eq!(
        app.load_connection().await["view"]["values"]["duplicate_days"],
        "45"
    );

    let (client_secret, password) = stored_secrets(app).await;
    assert_eq!(client_secret, CLIENT_SECRET);
    assert_eq!(password, PASSWORD);
}

#[tokio::test]
async fn a_new_secret_replaces_the_stored_one() {
    let app = spawn_app().await;
    app.save_connection(&connection_form(&[])).await;
    app.save_connection(&connection_form(&[
        ("password", "a-brand-new-password"),
        ("client_secret", ""),
    ]))
    .await;
    let (client_secret, password) = stored_secrets(app).await;
    assert_eq!(client_secret, CLIENT_SECRET);
    assert_eq!(password, "a-brand-new-password");
}

#[tokio::test]
async fn settings_survive_a_restart() {
    let app = spawn_app().await;
    app.save_connection(&connection_form(&[])).await;
    let before = app.load_connection().await;
    let app = app.restart().await;
    assert_eq!(app.load_connection().await, before);
    let (client_secret, _) = stored_secrets(app).await;
    assert_eq!(client_secret, CLIENT_SECRET, "the key file was not reused");
}

/// Stops the app and decrypts the stored secrets with its key file, as the ServiceNow
/// client will.
async fn stored_secrets(app: TestApp) -> (String, String) {
    let folder = app.stop().await;
    let pool = server::database::open(&folder.path().join("itsm-bridge.db"))
        .await
        .unwrap();
    let cipher = SecretCipher::load(None, &folder.path().join("itsm-bridge.key")).unwrap();
    let store = SqliteSettingsStore::new(pool.clone(), Readers::new(pool, 1), Arc::new(cipher));
    let (client_secret, password) = store
        .connection_secrets()
        .await
        .unwrap()
        .expect("secrets stored");
    (
        client_secret.expose_secret().to_string(),
        password.expose_secret().to_string(),
    )
}

#[tokio::test]
async fn changing_the_url_the_client_id_or_the_user_id_requires_both_secrets_again() {
    let app = spawn_app().await;
    app.save_connection(&connection_form(&[])).await;
    let before = app.load_connection().await;
    for (change, named) in [
        (
            ("instance_url", "https://elsewhere.example.com"),
            "ServiceNow URL",
        ),
        (("client_id", "another-client"), "client ID"),
        (("user_id", "another.user"), "user ID"),
    ] {
        let answer = app
            .save_connection(&connection_form(&[
                change,
                ("client_secret", ""),
                ("password", ""),
            ]))
            .await;
        for field in ["client_secret", "password"] {
            let message = answer["Invalid"][field]
                .as_str()
                .unwrap_or_else(|| panic!("{change:?} kept the {field}: {answer}"));
            assert!(
                message.contains("again") && message.contains(named),
                "{message}"
            );
        }
        // One secret given is not enough: the other is asked for too.
        let answer = app
            .save_connection(&connection_form(&[change, ("password", "")]))
            .await;
        assert!(answer["Invalid"]["password"].is_string(), "{answer}");
        assert!(answer["Invalid"].get("client_secret").is_none(), "{answer}");
    }
    assert_eq!(app.load_connection().await, before, "something was saved");
    // The same URL written differently is no change; with both secrets, a new URL is saved.
    let same = app
        .save_connection(&connection_form(&[
            ("instance_url", "https://ACME.service-now.com/"),
            ("client_secret", ""),
            ("password", ""),
        ]))
        .await;
    assert_eq!(same, json!("Saved"));
    let moved = app
        .save_connection(&connection_form(&[(
            "instance_url",
            "https://elsewhere.example.com",
        )]))
        .await;
    assert_eq!(moved, json!("Saved"));
}
