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
