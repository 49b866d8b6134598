use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_answers_while_the_process_runs() {
    let app = spawn_app().await;
    assert_eq!(app.get_text("/healthz").await, (200, "ok".to_string()));
}

#[tokio::test]
async fn readyz_answers_when_the_database_does() {
    let app = spawn_app().await;
    assert_eq!(app.get_text("/readyz").await, (200, "ready".to_string()));
}

#[tokio::test]
async fn the_database_file_and_its_key_are_created_on_first_start() {
    let app = spawn_app().await;
    assert!(app.folder.path().join("itsm-bridge.db").exists());
    let key = app.folder.path().join("itsm-bridge.key");
    assert!(key.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[tokio::test]
async fn the_database_runs_in_wal_mode() {
    let app = spawn_app().await;
    let folder = app.stop().await;
    let pool = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        folder.path().join("itsm-bridge.db").display()
    ))
    .await
    .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn readyz_answers_503_with_a_reason_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.take_database_away().await;
    // As a monitor asks: without a session cookie.
    let response = reqwest::get(format!("{}/readyz", app.address))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.text().await.unwrap(), "the database does not answer");
    // The process itself still answers.
    assert_eq!(app.get_text("/healthz").await, (200, "ok".to_string()));
}
