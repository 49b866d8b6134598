//! The engine as the Runs page sees it: the runs with their counts, when the next is due,
//! and Run now.

use super::run::{Engine, NotStarted};
use super::run_store::{self, RunRow, Trigger};
use super::scheduler::next_due;
use crate::settings_store::SqliteSettingsStore;
use crate::timestamps::format_unix;
use app::api::RunView;
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
