//! The engine as the Runs pages see it: the runs with their counts, when the next is due,
//! one run with what it did per group, and Run now.

use super::run::{Engine, NotStarted};
use super::run_store::{self, RunRow, Trigger};
use super::scheduler::next_due;
use crate::settings_store::SqliteSettingsStore;
use crate::timestamps::format_unix;
use app::api::{RunDetail, RunGroupView, RunView};
use app::backend::{EngineControl, RunNowOutcome, RunsOverview, SettingsStore};
use async_trait::async_trait;
use sqlx::SqlitePool;
use std::sync::Arc;

pub struct EngineRuns {
    pub engine: Arc<Engine>,
    pub settings: Arc<SqliteSettingsStore>,
    /// The main pool: the page's reads (polled while a run goes on) stay off the engine's
    /// own connections.
    pub pool: SqlitePool,
}

pub fn run_view(row: RunRow) -> RunView {
    RunView {
        id: row.id,
        trigger: row.started_by,
        started_at: format_unix(row.started_at),
        ended_at: row.ended_at.map(format_unix),
        duration_seconds: row.ended_at.map(|end| (end - row.started_at).max(0)),
        outcome: row.outcome,
        groups: row.counts.groups,
        opened: row.counts.opened,
        noted: row.counts.noted,
        resolved: row.counts.resolved,
        unchanged: row.counts.unchanged,
        set_aside: row.counts.set_aside,
        skipped: row.counts.skipped,
        failed: row.counts.failed,
        errors: row.errors,
    }
}

#[async_trait]
impl EngineControl for EngineRuns {
    async fn runs(&self, limit: u32) -> anyhow::Result<RunsOverview> {
        let runs = run_store::runs(&self.pool, limit)
            .await?
            .into_iter()
            .map(run_view)
            .collect();
        let connected = self.settings.connection().await?.updated_at.is_some();
        let next_due = if connected {
            Some(format_unix(
                next_due(
                    &self.pool,
                    self.engine.clock().as_ref(),
                    self.settings.as_ref(),
                )
                .await?,
            ))
        } else {
            None
        };
        Ok(RunsOverview {
            runs,
            next_due,
            connected,
        })
    }

    async fn run(&self, id: i64, page: u32, per_page: u32) -> anyhow::Result<Option<RunDetail>> {
        let Some(row) = run_store::run(&self.pool, id).await? else {
            return Ok(None);
        };
        let listed = run_store::count_run_groups(&self.pool, id).await?;
        let per_page = per_page.max(1);
        let pages = u32::try_from(listed.max(0))
            .unwrap_or(u32::MAX)
            .div_ceil(per_page)
            .max(1);
        let page = page.clamp(1, pages);
        let offset = u64::from(page - 1) * u64::from(per_page);
        let groups = run_store::run_groups_page(&self.pool, id, per_page, offset)
            .await?
            .into_iter()
            .map(|(grouping, key, action, number, detail)| RunGroupView {
                grouping,
                key,
                action,
                number,
                detail,
            })
            .collect();
        Ok(Some(RunDetail {
            run: run_view(row),
            groups,
            listed,
            page,
            pages,
        }))
    }

    async fn run_now(&self) -> anyhow::Result<RunNowOutcome> {
        match self.engine.start(Trigger::RunNow).await {
            Ok(run) => Ok(RunNowOutcome::Started { run_id: run.run_id }),
            Err(NotStarted::InProgress(run_id)) => Ok(RunNowOutcome::InProgress { run_id }),
            Err(NotStarted::Busy) => {
                let run_id = run_store::runs(&self.pool, 1)
                    .await?
                    .first()
                    .map_or(0, |r| r.id);
                Ok(RunNowOutcome::InProgress { run_id })
            }
            Err(NotStarted::NotConnected) => Ok(RunNowOutcome::NotConnected),
            Err(NotStarted::Failed(error)) => Err(error),
        }
    }
}
