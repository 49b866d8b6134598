//! The Overview's reads: the connection and when Test connection last passed, the newest
//! run and when the next is due, the groups failing now, the open tickets tracked, and the
//! scans of the last day per source. Each is one small query; none scans the tickets, and
//! the failing groups are counted once per set of latest scans.

use crate::auth::Clock;
use crate::engine::control::run_view;
use crate::engine::run_store;
use crate::engine::scheduler::next_due;
use crate::engine::ticket_list::STATE_CLASS;
use crate::settings_store::SqliteSettingsStore;
use crate::timestamps::format_unix;
use anyhow::Context;
use app::api::{ConnectionSummary, OverviewData, SourceActivity};
use app::backend::{Overview, SettingsStore};
use app::domain::Grouping;
use async_trait::async_trait;
use sqlx::{Row, SqlitePool};
use std::sync::{Arc, Mutex};

/// A day, in seconds: the window of "scans received in the last day".
const DAY: i64 = 86_400;

pub struct SqliteOverview {
    pub pool: SqlitePool,
    pub settings: Arc<SqliteSettingsStore>,
    /// The engine's clock: "the last day" and the next run are counted on it.
    pub clock: Arc<dyn Clock>,
    pub failing: FailingGroups,
}

impl FailingGroups {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(CountKey, i64)>> {
        self.counted.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a count of the failing groups holds for: the grouping, and the latest scan of every
/// source as (source, id).
/// The grouping, the scans' version and the latest scan of each source.
type CountKey = (Grouping, (i64, Vec<(String, i64)>));

/// The failing groups, counted once per set of latest scans: the count reads every failing
/// finding of those scans (seconds at a million findings), and they change only when a
/// scan completes or is deleted.
#[derive(Default)]
pub struct FailingGroups {
    /// The key and the count.
    counted: Mutex<Option<(CountKey, i64)>>,
}

impl SqliteOverview {
    /// Groups of `grouping` with a failing finding in the latest scan of its source.
    async fn failing_groups(&self, grouping: Grouping) -> anyhow::Result<i64> {
        let mut conn = self.pool.acquire().await.context("Failed to connect")?;
        let latest = crate::engine::store::latest_scans(&mut conn).await?;
        drop(conn);
        let key = (grouping, latest);
        let kept = self.failing.lock().clone();
        if let Some((counted, n)) = kept
            && counted == key
        {
            return Ok(n);
        }
        let column = match grouping {
            Grouping::Resources => "f.resource_id",
            Grouping::Controls => "f.control_id",
        };
        // The scans of the key, not the latest again: the count is exactly the key's.
        let ids: Vec<String> = key.1.1.iter().map(|(_, id)| id.to_string()).collect();
        let n = if ids.is_empty() {
            0
        } else {
            sqlx::query_scalar(&format!(
                "SELECT COUNT(DISTINCT {column}) FROM findings f \
                 WHERE f.scan_id IN ({}) AND f.status = 2",
                ids.join(", ")
            ))
            .fetch_one(&self.pool)
            .await
            .context("Failed to count the failing groups")?
        };
        *self.failing.lock() = Some((key, n));
        Ok(n)
    }

    /// Open tickets the engine tracks on `instance_url` for `grouping`.
    async fn open_tickets(&self, instance_url: &str, grouping: Grouping) -> anyhow::Result<i64> {
        sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM engine_tickets \
             WHERE grouping = ? AND {STATE_CLASS} = 'open' AND tracked = 1 AND instance_url = ?"
        ))
        .bind(grouping.value())
        .bind(instance_url)
        .fetch_one(&self.pool)
        .await
        .context("Failed to count the open tickets")
    }

    /// Every source with a kept scan: scans received since `since`, and its latest receipt.
    async fn sources(&self, since: i64) -> anyhow::Result<Vec<SourceActivity>> {
        let rows = sqlx::query(
            "SELECT source, SUM(CASE WHEN received_at >= ? THEN 1 ELSE 0 END) AS last_day, \
                    MAX(received_at) AS latest \
             FROM scans WHERE completed_at IS NOT NULL \
             GROUP BY source ORDER BY latest DESC, source",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .context("Failed to count the scans per source")?;
        Ok(rows
            .into_iter()
            .map(|r| SourceActivity {
                source: r.get("source"),
                last_day: r.get("last_day"),
                latest_received_at: format_unix(r.get("latest")),
            })
            .collect())
    }

    async fn live_tokens(&self) -> anyhow::Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL")
            .fetch_one(&self.pool)
            .await
            .context("Failed to count the API tokens")
    }
}

#[async_trait]
impl Overview for SqliteOverview {
    async fn overview(&self) -> anyhow::Result<OverviewData> {
        let connection = self.settings.connection().await?;
        let saved = connection.updated_at.is_some();
        let instance_url = saved.then(|| connection.values.instance_url.clone());
        let last_test_passed = match &instance_url {
            Some(url) => crate::connection_checks::last_pass(&self.pool, url)
                .await?
                .map(format_unix),
            None => None,
        };
        let grouping = self.settings.itsm_settings().await?.grouping;
        let last_run = run_store::runs(&self.pool, 1)
            .await?
            .into_iter()
            .next()
            .map(run_view);
        let next_due = if saved {
            Some(format_unix(
                next_due(&self.pool, self.clock.as_ref(), self.settings.as_ref()).await?,
            ))
        } else {
            None
        };
        let open_tickets = match &instance_url {
            Some(url) => self.open_tickets(url, grouping).await?,
            None => 0,
        };
        let sources = self.sources(self.clock.now() - DAY).await?;
        Ok(OverviewData {
            connection: ConnectionSummary {
                saved,
                instance_url,
                last_test_passed,
            },
            last_run,
            next_due,
            grouping,
            failing_groups: self.failing_groups(grouping).await?,
            open_tickets,
            any_scan: !sources.is_empty(),
            sources,
            live_tokens: self.live_tokens().await?,
        })
    }
}
