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
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

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
/// switches a request before, about 4.7 after.
///
/// Only reads go through these: a write belongs on the pool, in a transaction where it needs
/// one. A read that fails closes its connection, as the pool would, and a later read takes
/// a fresh one from the pool. Once these are closed, or the pool is, every read fails as the
/// pool's own would.
#[derive(Clone)]
pub struct Readers(Arc<ReadersInner>);

struct ReadersInner {
    pool: SqlitePool,
    /// One permit for each connection there may be: a read waits for any one to be free.
    permits: Semaphore,
    count: u32,
    /// The connections no read holds; fewer than `count` until each is first needed.
    idle: std::sync::Mutex<Vec<SqliteConnection>>,
    closed: AtomicBool,
}

impl Readers {
    /// Up to `count` (at least one) connections of `pool`, taken when first needed.
    pub fn new(pool: SqlitePool, count: u32) -> Self {
        let count = count.max(1);
        Self(Arc::new(ReadersInner {
            pool,
            permits: Semaphore::new(count as usize),
            count,
            idle: std::sync::Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        }))
    }

    /// Runs `read` (one query, or a few that need no transaction) on a connection, once one
    /// is free.
    pub async fn read<T, E: From<sqlx::Error>>(
        &self,
        read: impl AsyncFnOnce(&mut SqliteConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let inner = &*self.0;
        let _permit = inner
            .permits
            .acquire()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        if inner.closed.load(Ordering::Acquire) || inner.pool.is_closed() {
            // They end with the pool: the idle ones are closed now, not when the last handle
            // to them goes.
            inner.close_idle().await;
            return Err(sqlx::Error::PoolClosed.into());
        }
        let connection = match inner.take_idle() {
            Some(connection) => connection,
            None => inner.pool.acquire().await?.detach(),
        };
        // Given back when the read ends, or when its caller stops waiting for it: the
        // connection's thread finishes the query, and runs the next read's after it.
        let mut lent = Lent {
            readers: inner,
            connection: Some(connection),
        };
        let result = read(lent.connection.as_mut().expect("lent just above")).await;
        if result.is_err()
            && let Some(connection) = lent.connection.take()
        {
            let _ = connection.close().await;
        }
        result
    }

    /// Closes the connections, once the reads under way have ended; any read after this
    /// fails. The server calls it as it stops, before it closes the pool, which does not
    /// wait for these.
    pub async fn close(&self) {
        let inner = &*self.0;
        inner.closed.store(true, Ordering::Release);
        // All the permits: no read holds a connection any more.
        let all = inner.permits.acquire_many(inner.count).await;
        inner.close_idle().await;
        drop(all);
    }
}

impl ReadersInner {
    fn idle_list(&self) -> std::sync::MutexGuard<'_, Vec<SqliteConnection>> {
        // The list is only pushed to and popped from: a panic elsewhere leaves it whole.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn take_idle(&self) -> Option<SqliteConnection> {
        self.idle_list().pop()
    }

    async fn close_idle(&self) {
        let idle = std::mem::take(&mut *self.idle_list());
        for connection in idle {
            let _ = connection.close().await;
        }
    }
}

/// A connection lent to one read, back in the idle list when dropped.
struct Lent<'a> {
    readers: &'a ReadersInner,
    connection: Option<SqliteConnection>,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            self.readers.idle_list().push(connection);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn readers_of_a_new_database(count: u32) -> (tempfile::TempDir, SqlitePool, Readers) {
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

    /// A read (`SELECT 1`) that holds its connection until the sender is used or dropped.
    async fn a_read_held(
        readers: &Readers,
    ) -> (
        tokio::task::JoinHandle<sqlx::Result<i64>>,
        tokio::sync::oneshot::Sender<()>,
    ) {
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let (holding, held) = tokio::sync::oneshot::channel::<()>();
        let read = tokio::spawn({
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
        held.await.expect("the read holds a connection");
        (read, release)
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
        let (first, release) = a_read_held(&readers).await;
        let second = tokio::spawn({
            let readers = readers.clone();
            async move { count_admins(&readers).await }
        });
        // A bound on how long to watch it wait: a read that did not wait would be done in
        // well under a millisecond.
        let mut second = second;
        let waited = tokio::time::timeout(Duration::from_millis(200), &mut second).await;
        assert!(waited.is_err(), "the second read waits its turn");
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
        assert!(
            readers.0.idle_list().is_empty(),
            "the idle connection was closed with the pool"
        );
    }

    #[tokio::test]
    async fn closing_waits_for_the_read_under_way_and_refuses_the_next() {
        let (_folder, _pool, readers) = readers_of_a_new_database(2).await;
        let (under_way, release) = a_read_held(&readers).await;
        let mut closing = tokio::spawn({
            let readers = readers.clone();
            async move { readers.close().await }
        });
        let waited = tokio::time::timeout(Duration::from_millis(200), &mut closing).await;
        assert!(waited.is_err(), "closing waits for the read under way");
        let _ = release.send(());
        assert_eq!(under_way.await.expect("the read").ok(), Some(1));
        closing.await.expect("closing ends");
        assert!(matches!(
            count_admins(&readers).await,
            Err(sqlx::Error::PoolClosed)
        ));
    }
}
