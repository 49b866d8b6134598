//! The one writer of scans in a process. Uploads are received at the same time, but their
//! chunks take turns (first come, first served) for SQLite's single write lock, each chunk a
//! short transaction; before each turn the other users of the database (sign-in, settings,
//! token checks, the engine) go first, so a queue of scans never starves them.

use super::model::Finding;
use super::store::{self, Completion, Counts, ScanFacts};
use anyhow::Context;
use sqlx::SqlitePool;
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard};
use tokio::time::Instant;

/// The longest a scan's turn waits for the other users of the database. A writer waiting
/// for SQLite's lock retries at least every 100 ms, so it gets in meanwhile; readers (who do
/// not block writers in WAL mode) cannot hold a scan up for longer than this per chunk.
const MOST_DEFERENCE: Duration = Duration::from_millis(250);

pub struct ScanWriter {
    pool: SqlitePool,
    /// Fair (FIFO): the chunks of concurrent uploads are written in the order they asked.
    turn: Mutex<()>,
    /// Pools whose connections in use, beyond the writer's own, go first.
    others: Vec<SqlitePool>,
}

impl ScanWriter {
    /// A writer on `pool`, which other users may share.
    pub fn new(pool: SqlitePool) -> Self {
        Self {
            others: vec![pool.clone()],
            pool,
            turn: Mutex::new(()),
        }
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
    /// (for at most [`MOST_DEFERENCE`]). Waiting here holds no connection.
    async fn turn(&self) -> MutexGuard<'_, ()> {
        let turn = self.turn.lock().await;
        let until = Instant::now() + MOST_DEFERENCE;
        while self.others_busy() && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        turn
    }

    /// Whether some connection of the watched pools is in use (the writer holds none
    /// between its turns).
    fn others_busy(&self) -> bool {
        self.others
            .iter()
            .any(|pool| pool.size() as usize > pool.num_idle())
    }

    /// Writes one chunk of a scan in its own transaction, starting the scan (invisible) with
    /// its first chunk; returns the scan's id.
    pub async fn write_chunk(
        &self,
        scan: Option<i64>,
        rows: &[Finding],
        now: i64,
    ) -> anyhow::Result<i64> {
        let _turn = self.turn().await;
        let mut tx = self
            .pool
            .begin()
            .await
            .context("Failed to begin a chunk of the scan")?;
        let scan_id = match scan {
            Some(id) => {
                store::touch(&mut tx, id, now).await?;
                id
            }
            None => store::start_scan(&mut tx, now).await?,
        };
        store::insert_findings(&mut tx, scan_id, rows).await?;
        tx.commit()
            .await
            .context("Failed to commit a chunk of the scan")?;
        Ok(scan_id)
    }

    /// Notes that the upload of a scan is alive while its body is slow to come.
    pub async fn touch(&self, scan_id: i64, now: i64) -> anyhow::Result<()> {
        let _turn = self.turn().await;
        let mut conn = self.pool.acquire().await.context("Failed to connect")?;
        store::touch(&mut conn, scan_id, now).await
    }

    /// Counts the findings of a received scan.
    pub async fn count(&self, scan_id: i64) -> anyhow::Result<Counts> {
        let _turn = self.turn.lock().await;
        store::count(&self.pool, scan_id).await
    }

    /// Makes a received scan its source's latest, unless a newer one is stored; the scans
    /// beyond the `keep` latest are then deleted.
    pub async fn complete(
        &self,
        scan_id: i64,
        facts: ScanFacts<'_>,
        keep: u32,
        now: i64,
    ) -> anyhow::Result<Completion> {
        let completion = {
            let _turn = self.turn().await;
            let mut conn = self.pool.acquire().await.context("Failed to connect")?;
            store::complete(&mut conn, scan_id, facts, keep, now).await?
        };
        if let Completion::Completed { hidden } = &completion {
            for &old in hidden {
                self.delete(old).await?;
            }
        }
        Ok(completion)
    }

    /// Deletes a scan that is not completed, one chunk per turn.
    pub async fn delete(&self, scan_id: i64) -> anyhow::Result<()> {
        loop {
            let _turn = self.turn().await;
            let mut conn = self.pool.acquire().await.context("Failed to connect")?;
            if store::delete_chunk(&mut conn, scan_id).await? {
                return Ok(());
            }
        }
    }

    /// Deletes the scans whose upload died (their process was killed, say) or that were
    /// hidden and not yet deleted; returns how many.
    pub async fn remove_abandoned(&self, now: i64) -> anyhow::Result<usize> {
        let abandoned = store::abandoned(&self.pool, now).await?;
        for &scan_id in &abandoned {
            self.delete(scan_id).await?;
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
