//! One engine run, from the lease to the recorded outcome: adopt or drop the intents an
//! earlier run left unknown (looked up by `correlation_id`), read the snapshot, refresh the
//! tracked tickets' states, plan, apply, record. [`Engine`] is what the scheduler, Run now
//! and `itsm-bridge run-once` share; it never runs twice at once, in one process (a mutex)
//! or across processes on one database (the lease).

use super::applier::{Applier, Stop, opened_from};
use super::busy::retry_busy;
use super::content::{self, Recipients};
use super::model::{GroupKey, Rules, TrackedTicket};
use super::planner::Action;
use super::refresh;
use super::run_store::{self, Counts, Outcome, Trigger};
use super::screen;
use super::store;
use crate::auth::Clock;
use crate::servicenow::{ClientSettings, Credentials, Pacer, ServiceNowClient, ServiceNowError};
use crate::settings_store::{SecretsUnreadable, SqliteSettingsStore};
use sqlx::SqlitePool;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;

/// The engine's settings from the configuration.
#[derive(Clone, Debug)]
pub struct EngineSettings {
    /// How long a lease lasts unless renewed (renewed every third of it).
    pub lease: Duration,
    /// Runs older than this are deleted.
    pub keep_runs: Duration,
    pub client: ClientSettings,
    /// Where runs, their duration and the tickets they change are counted.
    pub metrics: crate::metrics::Metrics,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            keep_runs: Duration::from_secs(90 * 86_400),
            client: ClientSettings::default(),
            metrics: Default::default(),
        }
    }
}

/// Why a run did not start.
#[derive(Debug, thiserror::Error)]
pub enum NotStarted {
    #[error("run {0} is in progress; nothing was started")]
    InProgress(i64),
    #[error("another run is in progress; nothing was started")]
    Busy,
    #[error("the ServiceNow connection is not saved; the engine does nothing until it is")]
    NotConnected,
    #[error("the run could not start: {0:#}")]
    Failed(anyhow::Error),
}

/// What a finished run reports.
#[derive(Clone, Debug, PartialEq)]
pub struct RunReport {
    pub run_id: i64,
    pub counts: Counts,
    pub outcome: Outcome,
    pub errors: Vec<String>,
}

/// A run started in the background.
pub struct StartedRun {
    pub run_id: i64,
    pub task: JoinHandle<RunReport>,
}

pub struct Engine {
    pool: SqlitePool,
    settings_store: Arc<SqliteSettingsStore>,
    pacer: Arc<Pacer>,
    clock: Arc<dyn Clock>,
    settings: EngineSettings,
    /// Names this process in the lease.
    holder: String,
    running: Arc<Mutex<()>>,
    shutdown: watch::Receiver<bool>,
}

impl Engine {
    /// `pool` should be the engine's own (a connection scans cannot take), `shutdown` the
    /// process's one shutdown signal.
    pub fn new(
        pool: SqlitePool,
        settings_store: Arc<SqliteSettingsStore>,
        pacer: Arc<Pacer>,
        clock: Arc<dyn Clock>,
        settings: EngineSettings,
        shutdown: watch::Receiver<bool>,
    ) -> Arc<Self> {
        let holder = format!("{}-{}", std::process::id(), crate::random::hex(8));
        Arc::new(Self {
            pool,
            settings_store,
            pacer,
            clock,
            settings,
            holder,
            running: Arc::new(Mutex::new(())),
            shutdown,
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Starts a run in the background, or says why not.
    ///
    /// Secrets that do not open with this key start a run all the same, recorded as failed
    /// with the reason in words: the Runs page and `run-once` say what Test connection says.
    pub async fn start(self: &Arc<Self>, trigger: Trigger) -> Result<StartedRun, NotStarted> {
        let work = match self.settings_store.connection_for_client().await {
            Ok(Some((view, client_secret, password))) => {
                let values = view.values;
                let recipients = Recipients {
                    assignment_group: values.group_sys_id.clone(),
                    caller_id: values.user_sys_id.clone(),
                };
                Ok((
                    Credentials::from_connection(&values, client_secret, password),
                    recipients,
                ))
            }
            Ok(None) => return Err(NotStarted::NotConnected),
            Err(error) => Err(error
                .downcast::<SecretsUnreadable>()
                .map_err(NotStarted::Failed)?),
        };
        let Ok(guard) = self.running.clone().try_lock_owned() else {
            return Err(self.in_progress().await);
        };
        let lease_ms = self.settings.lease.as_millis() as i64;
        // The lease and the run it names in one transaction, so that a process refused
        // the lease always learns which run holds it.
        let started = retry_busy(|| {
            run_store::start_run(
                &self.pool,
                trigger,
                &self.holder,
                self.clock.now(),
                self.clock.now_ms(),
                lease_ms,
            )
        })
        .await
        .map_err(|e| NotStarted::Failed(e.into()))?;
        let Some(run_id) = started else {
            return Err(self.in_progress().await);
        };
        tracing::info!(run_id, trigger = trigger.as_str(), "engine run started");
        let engine = self.clone();
        let task = tokio::spawn(
            async move { engine.run(guard, run_id, work).await }
                .instrument(tracing::info_span!("engine_run", run_id)),
        );
        Ok(StartedRun { run_id, task })
    }

    async fn in_progress(&self) -> NotStarted {
        match run_store::leased_run(&self.pool, self.clock.now_ms()).await {
            Ok(Some(run)) => NotStarted::InProgress(run),
            _ => NotStarted::Busy,
        }
    }

    /// Waits until no run of this process is going on (at shutdown).
    pub async fn wait_idle(&self) {
        let _ = self.running.lock().await;
    }

    async fn run(
        self: Arc<Self>,
        _guard: OwnedMutexGuard<()>,
        run_id: i64,
        work: Result<(Credentials, Recipients), SecretsUnreadable>,
    ) -> RunReport {
        let started = tokio::time::Instant::now();
        // Aborted when the run ends, also by a panic: a lease renewed for ever would block
        // every process.
        let renewal = AbortOnDrop(self.keep_lease_alive());
        let mut counts = Counts::default();
        let result = match work {
            Ok((credentials, recipients)) => {
                self.execute(run_id, credentials, &recipients, &mut counts)
                    .await
            }
            Err(unreadable) => Err(Stop::Secrets(unreadable)),
        };
        drop(renewal);
        let interrupted = matches!(result, Err(Stop::Shutdown));
        let mut errors = Vec::new();
        let stopped_early = result.is_err();
        if let Err(stop) = &result {
            errors.push(match stop {
                Stop::Shutdown => {
                    "The server shut down during the run; the rest was left to the next run."
                        .to_string()
                }
                Stop::Secrets(unreadable) => unreadable.to_string(),
                other => format!("The run stopped: {other}. The rest was left to the next run."),
            });
        }
        if counts.failed > 0 {
            errors.push(format!(
                "{} failed; {} retried next run.",
                plural(counts.failed, "group"),
                if counts.failed == 1 {
                    "it is"
                } else {
                    "they are"
                }
            ));
            let failed = run_store::failed_groups(&self.pool, run_id, 5)
                .await
                .unwrap_or_default();
            for (grouping, key, detail) in failed {
                errors.push(format!("{grouping} {key}: {detail}"));
            }
        }
        let done = counts.opened + counts.noted + counts.resolved;
        let outcome = if interrupted {
            Outcome::Interrupted
        } else if !stopped_early && counts.failed == 0 {
            Outcome::Succeeded
        } else if done > 0 || (!stopped_early && counts.failed < counts.groups) {
            Outcome::Partial
        } else {
            Outcome::Failed
        };
        let now = self.clock.now();
        if let Err(error) =
            retry_busy(|| run_store::finish_run(&self.pool, run_id, &counts, outcome, &errors, now))
                .await
        {
            tracing::error!(run_id, error = %error, "failed to record the run's outcome");
        }
        if outcome == Outcome::Succeeded
            && let Err(error) = retry_busy(|| super::restored::clear(&self.pool)).await
        {
            // Kept: the next run looks its creates up first again, which costs requests only.
            tracing::warn!(error = %error, "failed to clear the restored mark");
        }
        let keep = self.settings.keep_runs.as_secs() as i64;
        if let Err(error) = run_store::prune_runs(&self.pool, now - keep).await {
            tracing::warn!(error = format!("{error:#}"), "failed to delete old runs");
        }
        if let Err(error) = run_store::release_lease(&self.pool, &self.holder).await {
            tracing::warn!(
                error = format!("{error:#}"),
                "failed to release the lease; it lapses"
            );
        }
        self.settings.metrics.engine_run_ended(
            outcome.as_str(),
            started.elapsed(),
            [counts.opened, counts.noted, counts.resolved].map(|n| n.max(0) as u64),
        );
        tracing::info!(
            run_id,
            outcome = outcome.as_str(),
            opened = counts.opened,
            noted = counts.noted,
            resolved = counts.resolved,
            set_aside = counts.set_aside,
            failed = counts.failed,
            skipped = counts.skipped,
            "engine run ended"
        );
        RunReport {
            run_id,
            counts,
            outcome,
            errors,
        }
    }

    /// Renews the lease every third of its length while the run goes on.
    fn keep_lease_alive(self: &Arc<Self>) -> JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            let lease = engine.settings.lease;
            let lease_ms = lease.as_millis() as i64;
            loop {
                tokio::time::sleep(lease / 3).await;
                match run_store::renew_lease(
                    &engine.pool,
                    &engine.holder,
                    engine.clock.now_ms(),
                    lease_ms,
                )
                .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::error!("the engine's lease was lost; creates stop");
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(error = format!("{error:#}"), "failed to renew the lease")
                    }
                }
            }
        })
    }

    fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    async fn execute(
        &self,
        run_id: i64,
        credentials: Credentials,
        recipients: &Recipients,
        counts: &mut Counts,
    ) -> Result<(), Stop> {
        let instance_url = credentials.instance.clone();
        let client = ServiceNowClient::new(
            credentials,
            self.settings.client.clone(),
            self.pacer.clone(),
        )
        .map_err(Stop::Instance)?;
        let install_id = retry_busy(|| store::install_id(&self.pool)).await?;
        let restored = retry_busy(|| super::restored::restored_at(&self.pool)).await?;
        let unconfirmed = self.settle_intents(&client, &instance_url).await?;

        let snapshot = retry_busy(|| store::snapshot(&self.pool, &instance_url)).await?;
        let Some(rules) = snapshot.rules.clone() else {
            return Ok(());
        };
        let mut tickets = snapshot.tickets;
        self.refresh(&client, &mut tickets, &rules).await?;

        let now = self.clock.now();
        let mut decisions = screen::decide(
            &snapshot.findings,
            &snapshot.results,
            &tickets,
            &rules,
            &snapshot.filters,
            &snapshot.exceptions,
            now,
        );
        for decision in &mut decisions {
            // A group that would be acted on waits; one left alone anyway stays as decided
            // (the preview says the same, `preview.rs`).
            if unconfirmed.contains(&decision.key)
                && !matches!(decision.action, Action::Nothing { .. })
            {
                decision.action = Action::Nothing {
                    ticket: decision.ticket(),
                };
                decision.reason = format!(
                    "nothing: a create for {} had no answer and the instance does not show it yet; it is looked up again next run",
                    decision.key.describe()
                );
            }
        }
        counts.groups = decisions.len() as i64;
        let applier = Applier {
            pool: &self.pool,
            client: &client,
            clock: &self.clock,
            run_id,
            holder: &self.holder,
            lease_ms: self.settings.lease.as_millis() as i64,
            install_id: &install_id,
            instance_url: &instance_url,
            recipients,
            rules: &rules,
            close_code: content::close_code(&snapshot.close_codes),
            findings: &snapshot.findings,
            tickets: tickets.iter().map(|t| (t.id, t)).collect(),
            look_up_before_create: restored.is_some(),
        };
        let mut last_progress = std::time::Instant::now();
        for (index, decision) in decisions.iter().enumerate() {
            let deferred = || (decisions.len() - index) as i64;
            if self.shutting_down() {
                counts.skipped += deferred();
                return Err(Stop::Shutdown);
            }
            let span = applier.group_span(decision);
            if let Err(stop) = applier.apply(decision, counts).instrument(span).await {
                counts.skipped += deferred();
                return Err(stop);
            }
            if last_progress.elapsed() >= Duration::from_secs(1)
                && !matches!(decision.action, Action::Nothing { .. })
            {
                last_progress = std::time::Instant::now();
                let _ = run_store::record_progress(&self.pool, run_id, counts).await;
            }
        }
        Ok(())
    }

    /// Intents an earlier run left unknown: adopted when the instance has the ticket (looked
    /// up by `correlation_id`), dropped when it has not (the planner then decides again).
    ///
    /// A create can land on the instance after the client gave up on it (a slow business
    /// rule); the instance cuts a request off after 60 s. So an intent not found is dropped
    /// only once it is older than twice the request timeout and a minute; until then its
    /// group waits (the returned keys), and no second create is sent for it.
    async fn settle_intents(
        &self,
        client: &ServiceNowClient,
        instance_url: &str,
    ) -> Result<HashSet<GroupKey>, Stop> {
        let intents = retry_busy(|| store::pending_intents(&self.pool, instance_url)).await?;
        let grace = super::preview::intent_grace(self.settings.client.timeout);
        let mut unconfirmed = HashSet::new();
        for intent in intents {
            if self.shutting_down() {
                return Err(Stop::Shutdown);
            }
            let found = client
                .incidents_by_correlation_id(&intent.correlation_id)
                .await
                .map_err(Stop::Instance)?;
            let now = self.clock.now();
            match found.first().map(|r| opened_from(r, now)) {
                // Found, but unusable: not "not found" (that would open a second ticket).
                Some(Err(why)) => return Err(Stop::Instance(ServiceNowError::BadAnswer(why))),
                Some(Ok(opened)) => {
                    tracing::info!(number = %opened.number, correlation_id = %intent.correlation_id, "adopted a ticket whose create had no recorded answer");
                    retry_busy(|| store::record_opened(&self.pool, intent.id, &opened, now))
                        .await?;
                }
                None if now - intent.created_at >= grace => {
                    retry_busy(|| store::drop_intent(&self.pool, intent.id)).await?
                }
                None => {
                    unconfirmed.insert(intent.key);
                }
            }
        }
        Ok(unconfirmed)
    }

    /// Reads the states of the tracked tickets of the grouping in use.
    async fn refresh(
        &self,
        client: &ServiceNowClient,
        tickets: &mut [TrackedTicket],
        rules: &Rules,
    ) -> Result<(), Stop> {
        let wanted: Vec<usize> = tickets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.key.grouping == rules.grouping && refresh::needs_refresh(t))
            .map(|(i, _)| i)
            .collect();
        for chunk in wanted.chunks(refresh::BATCH) {
            if self.shutting_down() {
                return Err(Stop::Shutdown);
            }
            let batch: Vec<&TrackedTicket> = chunk.iter().map(|&i| &tickets[i]).collect();
            let seen = refresh::read_batch(client, &batch)
                .await
                .map_err(Stop::Instance)?;
            let now = self.clock.now();
            retry_busy(|| store::record_refresh(&self.pool, &seen, now)).await?;
            for (&i, s) in chunk.iter().zip(&seen) {
                refresh::apply(&mut tickets[i], s, now);
            }
        }
        Ok(())
    }
}

fn plural(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A task aborted when this is dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
