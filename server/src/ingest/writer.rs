//! The one writer of scans in a process. Uploads are received at the same time, but their
//! chunks take turns (first come, first served) for SQLite's single write lock, each chunk a
//! short transaction; before each turn the other users of the database (sign-in, settings,
//! token checks, the engine) go first, so a queue of scans never starves them. The writer
//! writes on a connection of its own, kept between turns: handing a connection back to a
//! pool costs a round trip to SQLite's thread, a hundred times per million findings.

use super::model::Finding;
use super::store::{self, Completion, Counts, ScanFacts};
use crate::auth::{Clock, SystemClock};
use anyhow::Context;
use sqlx::{SqliteConnection, SqlitePool};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard};
use tokio::time::Instant;

/// The longest a scan's turn waits for the other users of the database. A writer waiting
/// for SQLite's lock retries at least every 100 ms, so it gets in meanwhile; readers (who do
/// not block writers in WAL mode) cannot hold a scan up for longer than this per chunk.
const MOST_DEFERENCE: Duration = Duration::from_millis(250);

pub struct ScanWriter {
    pool: SqlitePool,
    /// The turn, fair (FIFO): the chunks of concurrent uploads are written in the order they
    /// asked. It holds the writer's connection between turns.
    turn: Mutex<Kept>,
    /// Pools whose connections in use go first.
    others: Vec<SqlitePool>,
    /// Read at each write, so `written_at` is the time of the write, never a time computed
    /// before waiting for a turn.
    clock: Arc<dyn Clock>,
}

impl ScanWriter {
    /// A writer on `pool`, which other users may share.
    pub fn new(pool: SqlitePool) -> Self {
        Self {
            others: vec![pool.clone()],
            pool,
            turn: Mutex::new(Kept::Nothing),
            clock: Arc::new(SystemClock),
        }
    }

    /// The clock that dates writes (tests move a manual one).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Unix seconds by this writer's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Also lets the users of `pool` (e.g. the engine's own connections) go first.
    pub fn deferring_to(mut self, pool: SqlitePool) -> Self {
        self.others.push(pool);
        self
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Waits for this writer's turn, then lets any other user of the database go first
    /// (for at most [`MOST_DEFERENCE`]). Waiting here holds no connection of the pool.
    async fn turn(&self) -> anyhow::Result<Turn<'_>> {
        let mut slot = self.turn.lock().await;
        let until = Instant::now() + MOST_DEFERENCE;
        while self.others_busy() && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let now = self.clock.now();
        match std::mem::replace(&mut *slot, Kept::Nothing) {
            Kept::Closed => {
                *slot = Kept::Closed;
                anyhow::bail!("the database is closed: the server is stopping");
            }
            Kept::Open { conn, opened_at }
                if now - opened_at < RENEW_AFTER_SECONDS && !self.pool.is_closed() =>
            {
                return Ok(Turn {
                    conn,
                    opened_at,
                    slot,
                });
            }
            Kept::Open { conn, .. } => {
                let _ = sqlx::Connection::close(conn).await;
            }
            Kept::Nothing => {}
        }
        let conn = self
            .pool
            .acquire()
            .await
            .context("Failed to connect")?
            .detach();
        Ok(Turn {
            conn,
            opened_at: now,
            slot,
        })
    }

    /// Whether some connection of the watched pools is in use.
    fn others_busy(&self) -> bool {
        self.others
            .iter()
            .any(|pool| pool.size() as usize > pool.num_idle())
    }

    /// Closes the writer's connection once the turn under way (if any) has ended, and
    /// refuses every later turn: the server stopping, the `ingest` command done. An upload
    /// still under way then fails, its scan left invisible for a later cleanup.
    pub async fn close(&self) {
        let mut slot = self.turn.lock().await;
        if let Kept::Open { conn, .. } = std::mem::replace(&mut *slot, Kept::Closed) {
            let _ = sqlx::Connection::close(conn).await;
        }
    }

    /// Writes one chunk of a scan in its own transaction, starting the scan (invisible) with
    /// its first chunk; returns the scan's id, and whether a finding of the chunk was merged
    /// into another (the same control and resource twice). `merging`: a finding of the scan
    /// was merged already, so every row is written by the merging statement at once (see
    /// [`store::insert_findings`]). The chunk renews `written_at` with the time its turn
    /// came, so waiting for the turn never makes a live upload look abandoned.
    pub async fn write_chunk(
        &self,
        scan: Option<i64>,
        rows: &[Finding],
        merging: bool,
    ) -> anyhow::Result<(i64, bool)> {
        let mut turn = self.turn().await?;
        let outcome =
            store::write_chunk(&mut turn.conn, scan, rows, merging, self.clock.now()).await;
        turn.end(outcome).await
    }

    /// Notes that the upload of a scan is alive while its body is slow to come.
    pub async fn touch(&self, scan_id: i64) -> anyhow::Result<()> {
        let mut turn = self.turn().await?;
        let outcome = store::touch(&mut turn.conn, scan_id, self.clock.now()).await;
        turn.end(outcome).await
    }

    /// Counts the findings of a received scan (reading them back: for a scan in which some
    /// were merged, whose count is not the number sent).
    pub async fn count(&self, scan_id: i64) -> anyhow::Result<Counts> {
        let _turn = self.turn.lock().await;
        store::count(&self.pool, scan_id).await
    }

    /// Makes a received scan its source's latest, unless one as new or newer is stored; the
    /// scans beyond the `keep` latest are then deleted.
    pub async fn complete(
        &self,
        scan_id: i64,
        facts: ScanFacts<'_>,
        keep: u32,
    ) -> anyhow::Result<Completion> {
        let completion = {
            let mut turn = self.turn().await?;
            let outcome =
                store::complete(&mut turn.conn, scan_id, facts, keep, self.clock.now()).await;
            turn.end(outcome).await?
        };
        if let Completion::Completed { hidden } = &completion {
            for &old in hidden {
                // The scan is stored: its answer is 201 whatever happens here. A hidden scan
                // left behind is claimed for deletion, so a later cleanup removes it.
                if let Err(error) = self.delete_claimed(old).await {
                    tracing::warn!(
                        scan_id = old,
                        error = format!("{error:#}"),
                        "could not delete a scan beyond those kept; a later cleanup will"
                    );
                }
            }
        }
        Ok(completion)
    }

    /// Deletes this upload's own scan (refused or broken), one chunk per turn.
    pub async fn delete(&self, scan_id: i64) -> anyhow::Result<()> {
        self.delete_before(scan_id, i64::MAX).await
    }

    /// Deletes a scan claimed for deletion already (hidden), one chunk per turn; a scan not
    /// claimed (its id reused by a live upload since) is left alone.
    pub async fn delete_claimed(&self, scan_id: i64) -> anyhow::Result<()> {
        loop {
            let mut turn = self.turn().await?;
            let outcome = store::delete_claimed_chunk(&mut turn.conn, scan_id).await;
            if turn.end(outcome).await? {
                return Ok(());
            }
        }
    }

    /// Deletes a scan not completed whose `written_at` is before `cutoff`, one chunk per
    /// turn; stops at once if its upload turns out to be alive.
    async fn delete_before(&self, scan_id: i64, cutoff: i64) -> anyhow::Result<()> {
        loop {
            let mut turn = self.turn().await?;
            let outcome = store::delete_chunk(&mut turn.conn, scan_id, cutoff).await;
            if turn.end(outcome).await? {
                return Ok(());
            }
        }
    }

    /// Deletes the scans whose upload died (their process was killed, say) or that were
    /// hidden and not yet deleted; returns how many.
    pub async fn remove_abandoned(&self, now: i64) -> anyhow::Result<usize> {
        let abandoned = store::abandoned(&self.pool, now).await?;
        let cutoff = now - store::ABANDONED_AFTER_SECONDS;
        for &scan_id in &abandoned {
            self.delete_before(scan_id, cutoff).await?;
        }
        if !abandoned.is_empty() {
            tracing::info!(
                scans = abandoned.len(),
                "removed the rows of scans whose upload did not finish"
            );
        }
        Ok(abandoned.len())
    }
}

/// A connection older than this is closed at the next turn and another opened, as the
/// pool renews its own (sqlx's default `max_lifetime`): a database file replaced under the
/// server is not written to for ever through a connection to the old one.
const RENEW_AFTER_SECONDS: i64 = 30 * 60;

/// The writer's connection between turns: taken out of the pool (so it is never counted
/// as another user's) and kept, since handing a connection back to a pool costs a round
/// trip to SQLite's thread, a hundred times per million findings.
enum Kept {
    /// None open: the next turn opens one.
    Nothing,
    Open {
        conn: SqliteConnection,
        /// Unix seconds, by the writer's clock.
        opened_at: i64,
    },
    /// The writer was closed: no more turns.
    Closed,
}

/// The writer's turn and its connection. The connection is declared first so that a turn
/// dropped before its end (a task given up mid-write) drops it, rolling back what it had
/// not committed, before the next turn may start.
struct Turn<'a> {
    conn: SqliteConnection,
    opened_at: i64,
    slot: MutexGuard<'a, Kept>,
}

impl Turn<'_> {
    /// Ends the turn with the outcome of its work: after a success the connection is kept
    /// for the next turn; after a failure it is closed (what it had not committed rolled
    /// back) before the next turn starts, which opens another: never a connection left in
    /// an unknown state.
    async fn end<T>(self, outcome: anyhow::Result<T>) -> anyhow::Result<T> {
        let Turn {
            conn,
            opened_at,
            mut slot,
        } = self;
        if outcome.is_ok() {
            *slot = Kept::Open { conn, opened_at };
        } else {
            let _ = sqlx::Connection::close(conn).await;
        }
        outcome
    }
}
