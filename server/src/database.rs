//! The SQLite database: one pool opened at start, in WAL mode, with the embedded migrations
//! applied before anything else touches it, and a small pool of the engine's own.

use crate::private_file;
use anyhow::Context;
use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Opens (creating it and its folder if needed) the database at `path` and migrates it.
pub async fn open(path: &Path) -> anyhow::Result<SqlitePool> {
    let pool = connect(path, 8).await?;
    MIGRATOR
        .run(&pool)
        .await
        .with_context(|| format!("Failed to migrate the database {}", path.display()))?;
    Ok(pool)
}

/// Opens the database at `path` for a command (`ingest`, `run-once`, `admin
/// reset-password`) and migrates it; one that does not exist is refused, never created: a
/// mistyped path would otherwise get a new empty database and the command would report a
/// success that nothing will ever see. Only the server creates the database.
pub async fn open_existing(path: &Path) -> anyhow::Result<SqlitePool> {
    if !tokio::fs::try_exists(path).await.unwrap_or(false) {
        anyhow::bail!(
            "No database at {}: check --database-url (or DATABASE_URL); the server creates \
             the database on its first start",
            path.display()
        );
    }
    open(path).await
}

/// The ticket engine's own two connections to a database `open` has migrated: a queue of
/// scan uploads waiting for the main pool can never hold the engine up.
pub async fn open_for_engine(path: &Path) -> anyhow::Result<SqlitePool> {
    connect(path, 2).await
}

async fn connect(path: &Path, max_connections: u32) -> anyhow::Result<SqlitePool> {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::private_file::create_folder(folder).with_context(|| {
            format!("Failed to create the database folder {}", folder.display())
        })?;
    }
    make_private(path)?;
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable in WAL mode except for the last transactions on power loss.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(max_connections)
        // One connection stays open for the process's life: its shared lock is how
        // `itsm-bridge admin restore` tells that the database is in use.
        .min_connections(1)
        // A connection to SQLite is a file opened by this process, not a socket that a
        // server may have closed: testing it before each use (sqlx's default) only costs a
        // round trip to its thread, one per query on a busy page.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .with_context(|| format!("Failed to open the database {}", path.display()))?;
    Ok(pool)
}

/// The database holds the session and token hashes and the audit log: only its owner may
/// read it, like the key file. SQLite creates the `-wal` and `-shm` files with the mode of
/// the database file, so the file is created 0600 before SQLite opens it; the files of a
/// database made by an earlier release (0644) are tightened.
fn make_private(path: &Path) -> anyhow::Result<()> {
    private_file::create_empty_if_missing(path)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        private_file::restrict(Path::new(&name))?;
    }
    Ok(())
}
