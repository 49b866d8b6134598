//! The preview, worked out once per state of what it depends on. A preview reads a run's
//! whole snapshot (seconds at 100,000 tickets), and the Runs and ITSM settings pages ask
//! for it on every load: a second look with nothing changed costs a few small queries.
//!
//! The key is everything a preview depends on, read before and after the snapshot (a
//! preview is kept only when both agree, so it never stands for a state it did not see): the
//! instance, the settings previewed, the connection's duplicate rule, the latest scan of
//! every source (a completed scan never changes), the tickets' version (bumped in the
//! transaction of every write to the engine's tickets, `store.rs`) and the exceptions
//! (never deleted: how many, and how many ended). Time alone changes a preview too (an
//! exception ends, a ticket passes the age limit, a pending create's wait is over): each
//! kept preview holds until the first such moment (`preview::Worked::valid_until`).

use super::preview::{self, Worked};
use super::store;
use anyhow::Context;
use app::api::PlanPreview;
use app::forms::ItsmSettings;
use sqlx::SqlitePool;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many previews are kept: the saved settings and a few what-ifs of the form.
const KEPT: usize = 8;

#[derive(Clone, Debug, PartialEq)]
struct Key {
    instance_url: String,
    settings: ItsmSettings,
    duplicate_rule: Option<(String, i64)>,
    /// The scans' version and the latest scan of each source.
    latest_scans: (i64, Vec<(String, i64)>),
    tickets_version: i64,
    /// (exceptions granted, exceptions ended).
    exceptions: (i64, i64),
}

pub struct PreviewCache {
    /// As [`preview::intent_grace`].
    grace: i64,
    kept: Mutex<VecDeque<(Key, Worked)>>,
    /// One preview worked out at a time: several at once would hold the pool's
    /// connections that sign-in and the pages need, and the second finds the first's.
    one_at_a_time: tokio::sync::Mutex<()>,
    snapshots_read: AtomicU64,
}

impl PreviewCache {
    /// `grace`: how long a create without an answer may still land ([`preview::intent_grace`]).
    pub fn new(grace: i64) -> Self {
        Self {
            grace,
            kept: Mutex::new(VecDeque::new()),
            one_at_a_time: tokio::sync::Mutex::new(()),
            snapshots_read: AtomicU64::new(0),
        }
    }

    /// How many snapshots the previews read so far (the expensive part).
    pub fn snapshots_read(&self) -> u64 {
        self.snapshots_read.load(Ordering::Relaxed)
    }

    /// The preview for `settings` on `instance_url` at `now`, kept or worked out.
    pub async fn preview(
        &self,
        pool: &SqlitePool,
        instance_url: Option<&str>,
        settings: ItsmSettings,
        now: i64,
    ) -> anyhow::Result<PlanPreview> {
        let Some(url) = instance_url else {
            return Ok(preview::preview(pool, None, settings, now, self.grace)
                .await?
                .preview);
        };
        // How often runs happen changes nothing a run decides: one entry for every interval.
        let settings = ItsmSettings {
            scheduler_interval_minutes: 0,
            ..settings
        };
        let key = read_key(pool, url, settings).await?;
        if let Some(kept) = self.kept(&key, now) {
            return Ok(kept);
        }
        let _turn = self.one_at_a_time.lock().await;
        // Worked out meanwhile by the look this one waited for?
        if let Some(kept) = self.kept(&key, now) {
            return Ok(kept);
        }
        self.snapshots_read.fetch_add(1, Ordering::Relaxed);
        let worked =
            preview::preview(pool, Some(url), key.settings.clone(), now, self.grace).await?;
        let answer = worked.at(now);
        // Kept only when nothing changed while it was worked out: the snapshot then holds
        // exactly the state the key names.
        if read_key(pool, url, key.settings.clone()).await? != key {
            return Ok(answer);
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|(k, _)| *k != key);
        if kept.len() == KEPT {
            kept.pop_front();
        }
        kept.push_back((key, worked));
        Ok(answer)
    }

    /// The kept preview of `key`, if it still holds at `now`; a hit becomes the last to go.
    fn kept(&self, key: &Key, now: i64) -> Option<PlanPreview> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let at = kept
            .iter()
            .position(|(k, w)| k == key && w.valid_until.is_none_or(|until| now < until))?;
        let entry = kept.remove(at)?;
        let answer = entry.1.at(now);
        kept.push_back(entry);
        Some(answer)
    }
}

/// The key's reads, on one connection (each connection taken from the pool and given back
/// costs round trips to SQLite's thread, and a preview reads the key twice).
async fn read_key(pool: &SqlitePool, url: &str, settings: ItsmSettings) -> anyhow::Result<Key> {
    let mut conn = pool.acquire().await.context("Failed to connect")?;
    let duplicate_rule: Option<(String, i64)> = sqlx::query_as(
        "SELECT duplicate_status, duplicate_days FROM connection_settings WHERE id = 1",
    )
    .fetch_optional(&mut *conn)
    .await
    .context("Failed to read the duplicate rule")?;
    let exceptions: (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(ended_at) FROM engine_exceptions")
            .fetch_one(&mut *conn)
            .await
            .context("Failed to count the exceptions")?;
    Ok(Key {
        instance_url: url.to_string(),
        settings,
        duplicate_rule,
        latest_scans: store::latest_scans(&mut conn).await?,
        tickets_version: store::tickets_version(&mut conn).await?,
        exceptions,
    })
}
