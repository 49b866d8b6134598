//! The SQLite database: one pool opened at start, in WAL mode, with the embedded migrations
//! applied before anything else touches it, a small pool of the engine's own, and the
//! [`Readers`] that the reads of every page go through.

use crate::private_file;
use anyhow::Context;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection, SqlitePool};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard};

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

/// A few connections taken out of the pool for the short reads that every page makes: its
/// session, its settings.
///
/// sqlx's pool tests each connection it is given back with a round trip to the connection's
/// thread (its `ping`, which sqlx 0.8 always makes), so a page's two short reads made four
/// round trips, each two thread switches. Here a read is one round trip. Measured on the
/// connection page under `wrk -c32` (README, "Server-side rendering benchmark"): about 8 thread
/// switches a request before, about 4 after.
///
/// Only reads go through these: a write belongs on the pool, in a transaction where it needs
/// one. A connection whose read failed is closed, as the pool would close it, and the next
/// read takes a fresh one from the pool; once the pool is closed, every read fails as the
/// pool's own would.
#[derive(Clone)]
pub struct Readers(Arc<ReadersInner>);

struct ReadersInner {
    pool: SqlitePool,
    /// Filled from the pool on first use; `None` again after a failed read.
    connections: Vec<Mutex<Option<SqliteConnection>>>,
    /// Which connection a read waits for when all are busy: each in turn.
    next: AtomicUsize,
}

impl Readers {
    /// Up to `count` (at least one) connections of `pool`, taken when first needed.
    pub fn new(pool: SqlitePool, count: usize) -> Self {
        Self(Arc::new(ReadersInner {
            pool,
            connections: (0..count.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        }))
    }

    /// Runs `read` (one query, or a few that need no transaction) on a free connection, or
    /// on the next in turn once it is free.
    pub async fn read<T, E: From<sqlx::Error>>(
        &self,
        read: impl AsyncFnOnce(&mut SqliteConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let inner = &*self.0;
        let mut slot = match inner.connections.iter().find_map(|c| c.try_lock().ok()) {
            Some(free) => free,
            None => {
                let turn = inner.next.fetch_add(1, Ordering::Relaxed) % inner.connections.len();
                inner.connections[turn].lock().await
            }
        };
        // They live and end with the pool: once it is closed, nothing is read.
        if inner.pool.is_closed() {
            close(&mut slot).await;
            return Err(sqlx::Error::PoolClosed.into());
        }
        let connection = match slot.as_mut() {
            Some(connection) => connection,
            None => slot.insert(inner.pool.acquire().await?.detach()),
        };
        let result = read(connection).await;
        if result.is_err() {
            close(&mut slot).await;
        }
        result
    }

    /// Closes the connections (the server, as it stops, before it closes the pool, which
    /// does not wait for them).
    pub async fn close(&self) {
        for connection in &self.0.connections {
            close(&mut connection.lock().await).await;
        }
    }
}

async fn close(slot: &mut MutexGuard<'_, Option<SqliteConnection>>) {
    if let Some(connection) = slot.take() {
        let _ = connection.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn readers_of_a_new_database(count: usize) -> (tempfile::TempDir, SqlitePool, Readers) {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let pool = open(&folder.path().join("itsm-bridge.db"))
            .await
            .expect("the database opens");
        let readers = Readers::new(pool.clone(), count);
        (folder, pool, readers)
    }

    async fn count_admins(readers: &Readers) -> sqlx::Result<i64> {
        readers
            .read(async |connection| {
                sqlx::query_scalar("SELECT count(*) FROM admins")
                    .fetch_one(connection)
                    .await
            })
            .await
    }

    #[tokio::test]
    async fn a_read_sees_what_the_pool_wrote_just_before() {
        let (_folder, pool, readers) = readers_of_a_new_database(2).await;
        assert_eq!(count_admins(&readers).await.ok(), Some(0));
        sqlx::query(
            "INSERT INTO admins (username, password_hash, created_at) VALUES ('a', 'h', 0)",
        )
        .execute(&pool)
        .await
        .expect("the insert");
        assert_eq!(count_admins(&readers).await.ok(), Some(1));
    }

    #[tokio::test]
    async fn after_a_failed_read_the_next_one_works_on_a_fresh_connection() {
        let (_folder, _pool, readers) = readers_of_a_new_database(1).await;
        // A temporary table lives as long as its connection: it marks the one that failed.
        let failed = readers
            .read(async |connection| {
                sqlx::query("CREATE TEMP TABLE marker (x)")
                    .execute(&mut *connection)
                    .await?;
                sqlx::query("SELECT * FROM no_such_table")
                    .fetch_all(connection)
                    .await
            })
            .await;
        assert!(failed.is_err());
        let marked: i64 = readers
            .read(async |connection| {
                sqlx::query_scalar("SELECT count(*) FROM sqlite_temp_master WHERE name = 'marker'")
                    .fetch_one(connection)
                    .await
            })
            .await
            .expect("the next read works");
        assert_eq!(marked, 0, "the connection that failed was closed, not kept");
    }

    #[tokio::test]
    async fn a_read_waits_for_a_busy_connection_then_runs() {
        let (_folder, _pool, readers) = readers_of_a_new_database(1).await;
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let (holding, held) = tokio::sync::oneshot::channel::<()>();
        let first = tokio::spawn({
            let readers = readers.clone();
            async move {
                readers
                    .read(async |connection| {
                        let _ = holding.send(());
                        let _ = released.await;
                        sqlx::query_scalar::<_, i64>("SELECT 1")
                            .fetch_one(connection)
                            .await
                    })
                    .await
            }
        });
        held.await.expect("the first read holds the one connection");
        let second = tokio::spawn({
            let readers = readers.clone();
            async move { count_admins(&readers).await }
        });
        tokio::task::yield_now().await;
        assert!(!second.is_finished(), "the second read waits its turn");
        let _ = release.send(());
        assert_eq!(first.await.expect("the first read").ok(), Some(1));
        assert_eq!(second.await.expect("the second read").ok(), Some(0));
    }

    #[tokio::test]
    async fn nothing_is_read_once_the_pool_is_closed() {
        let (_folder, pool, readers) = readers_of_a_new_database(1).await;
        assert!(count_admins(&readers).await.is_ok());
        pool.close().await;
        assert!(matches!(
            count_admins(&readers).await,
            Err(sqlx::Error::PoolClosed)
        ));
    }
}
