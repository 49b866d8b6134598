//! The scheduler: starts a run when one is due (the last run's start plus the interval from
//! the ITSM settings, read from the database each time, so a changed interval takes effect
//! without a restart). It looks again at least every few seconds, so a lapsed lease of a
//! dead process is taken over soon after it lapses. It stops on the process's shutdown
//! signal, after the run under way has finished its step and been recorded.

use super::run::{Engine, NotStarted};
use super::run_store::{self, Trigger};
use crate::auth::Clock;
use app::backend::SettingsStore;
use sqlx::SqlitePool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The longest the scheduler sleeps before looking again.
const LOOK_AGAIN: Duration = Duration::from_secs(30);

/// When the next run is due (Unix seconds): the last run's start plus the interval, or now
/// when no run has happened yet. Runs cut short by a crash or shutdown do not count.
pub async fn next_due(
    pool: &SqlitePool,
    clock: &dyn Clock,
    settings: &dyn SettingsStore,
) -> anyhow::Result<i64> {
    let interval = i64::from(settings.itsm_settings().await?.scheduler_interval_minutes) * 60;
    let last = run_store::last_run_start(pool).await?;
    Ok(last.map_or_else(|| clock.now(), |start| start + interval))
}

/// Runs the schedule until `shutdown` turns true.
pub async fn run_scheduler(
    engine: Arc<Engine>,
    settings: Arc<dyn SettingsStore>,
    mut shutdown: watch::Receiver<bool>,
) {
    let clock = engine.clock().clone();
    let poll = LOOK_AGAIN
        .min(engine.settings().lease / 2)
        .max(Duration::from_millis(200));
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Every time, not only at start: a process restarted while the lease of the one
        // that died is still live finds that run "running"; once the lease has lapsed it is
        // marked interrupted here, so it no longer counts as the last run and is taken over.
        if let Ok(marked) =
            run_store::mark_dead_runs(engine.pool(), clock.now(), clock.now_ms()).await
            && marked > 0
        {
            tracing::warn!(
                marked,
                "runs left running by a stopped process were marked interrupted"
            );
        }
        let wait = match next_due(engine.pool(), clock.as_ref(), settings.as_ref()).await {
            Ok(due) if due <= clock.now() => match engine.start(Trigger::Schedule).await {
                Ok(run) => {
                    let _ = run.task.await;
                    Duration::ZERO
                }
                Err(NotStarted::NotConnected | NotStarted::InProgress(_) | NotStarted::Busy) => {
                    poll
                }
                Err(error) => {
                    tracing::error!(error = %error, "the scheduler could not start a run");
                    poll
                }
            },
            Ok(due) => Duration::from_secs((due - clock.now()).max(1) as u64).min(poll),
            Err(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    "the scheduler could not read the schedule"
                );
                poll
            }
        };
        if wait.is_zero() {
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => {}
        }
    }
    engine.wait_idle().await;
}
