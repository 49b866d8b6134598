use crate::helpers::*;

#[tokio::test]
async fn the_database_files_never_hold_a_secret_in_plain_text() {
    let app = spawn_app().await;
    app.save_connection(&connection_form(&[])).await;
    // Read while running (WAL and all) and after a clean stop.
    assert_no_secret_in(&app.database_files());
    let files = app.database_files();
    let folder = app.stop().await;
    let after: Vec<_> = std::fs::read_dir(folder.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("itsm-bridge.db"))
        .collect();
    assert!(!after.is_empty() && !files.is_empty());
    assert_no_secret_in(&after);
}

fn assert_no_secret_in(files: &[std::path::PathBuf]) {
    for file in files {
        // SQLite removes its -wal and -shm files as the last connection closes.
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        for secret in [CLIENT_SECRET, PASSWORD] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds {secret} in plain text",
                file.display()
            );
        }
    }
}

#[tokio::test]
async fn no_response_ever_contains_a_stored_secret() {
    let app = spawn_app().await;
    let saved = app
        .call("save_connection_settings", &connection_form(&[]))
        .await;
    let mut bodies = vec![saved.text().await.unwrap()];
    bodies.push(
        app.call("load_connection_settings", &[])
            .await
            .text()
            .await
            .unwrap(),
    );
    // A refused save must not echo the secrets it was sent either.
    let refused = app
        .call(
            "save_connection_settings",
            &connection_form(&[("group_sys_id", "x")]),
        )
        .await;
    bodies.push(refused.text().await.unwrap());
    for path in ["/settings/connection", "/settings/itsm", "/"] {
        bodies.push(app.get_text(path).await.1);
    }
    for body in &bodies {
        for secret in [CLIENT_SECRET, PASSWORD] {
            assert!(
                !body.contains(secret),
                "a response contains {secret}: {body}"
            );
        }
    }
    let page = app.get_text("/settings/connection").await.1;
    assert!(
        page.contains("A client secret is stored"),
        "the page does not say a secret is stored"
    );
}
