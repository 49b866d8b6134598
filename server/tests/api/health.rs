use crate::helpers::{spawn_app, spawn_app_in};

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
    assert_eq!(
        response.text().await.unwrap(),
        "the database does not answer"
    );
    // The process itself still answers.
    assert_eq!(app.get_text("/healthz").await, (200, "ok".to_string()));
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Session and token hashes and the audit log are in the database: only its owner reads it.
#[cfg(unix)]
#[tokio::test]
async fn the_database_and_its_wal_files_are_readable_by_their_owner_only() {
    let app = spawn_app().await;
    let files = app.database_files();
    let names: Vec<_> = files.iter().map(|f| f.display().to_string()).collect();
    for suffix in [".db", ".db-wal", ".db-shm"] {
        assert!(
            names.iter().any(|n| n.ends_with(suffix)),
            "no {suffix} in {names:?}"
        );
    }
    for file in files {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

/// A database made by an earlier release (0644) is tightened at start, its WAL files too.
#[cfg(unix)]
#[tokio::test]
async fn an_existing_database_readable_by_all_is_tightened_at_start() {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
    use std::os::unix::fs::PermissionsExt;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("itsm-bridge.db");
    // Another process holds the database open, so its -wal and -shm files exist too.
    let other = sqlx::SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal),
    )
    .await
    .unwrap();
    sqlx::query("CREATE TABLE earlier (x)")
        .execute(&other)
        .await
        .unwrap();
    let suffixes = ["", "-wal", "-shm"];
    let files: Vec<_> = suffixes
        .iter()
        .map(|s| folder.path().join(format!("itsm-bridge.db{s}")))
        .collect();
    for file in &files {
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }

    let app = spawn_app_in(folder).await;
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    assert_eq!(app.get_text("/readyz").await.0, 200);
    other.close().await;
}

#[tokio::test]
async fn readyz_answers_503_when_the_database_file_was_deleted_under_the_server() {
    let app = spawn_app().await;
    assert_eq!(app.get_text("/readyz").await.0, 200);
    // SQLite goes on writing to the deleted file, which is lost at the next start.
    std::fs::remove_file(app.folder.path().join("itsm-bridge.db")).unwrap();
    let response = reqwest::get(format!("{}/readyz", app.address))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.text().await.unwrap(),
        "the database file was deleted or replaced"
    );
}

/// The database's folder also holds the key file and set-aside uploads.
#[cfg(unix)]
#[tokio::test]
async fn a_database_folder_the_server_creates_is_readable_by_its_owner_only() {
    let folder = tempfile::tempdir().unwrap();
    let data = folder.path().join("data").join("itsm");
    server::database::open(&data.join("itsm-bridge.db"))
        .await
        .unwrap()
        .close()
        .await;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&folder.path().join("data")), 0o700);
}
