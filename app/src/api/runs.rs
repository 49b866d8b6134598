//! Server functions of the Runs page and a run's page: the engine's latest runs, Run now,
//! and what one run did per group.

use super::FormFlash;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One engine run as the Runs page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    pub id: i64,
    /// "schedule", "run now" or "command".
    pub trigger: String,
    /// "YYYY-MM-DD HH:MM:SS" UTC.
    pub started_at: String,
    pub ended_at: Option<String>,
    pub duration_seconds: Option<i64>,
    /// "running", "succeeded", "partial", "failed" or "interrupted".
    pub outcome: String,
    pub groups: i64,
    pub opened: i64,
    pub noted: i64,
    pub resolved: i64,
    pub unchanged: i64,
    /// Groups whose every failing finding is set aside by the filters or an exception.
    pub set_aside: i64,
    /// Groups left to the next run (the run stopped before them).
    pub skipped: i64,
    pub failed: i64,
    /// Each error in words.
    pub errors: Vec<String>,
}

impl RunView {
    pub fn is_running(&self) -> bool {
        self.outcome == "running"
    }
}

/// Everything the Runs page needs to render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunsPageData {
    /// Newest first.
    pub runs: Vec<RunView>,
    /// When the scheduler will start the next run, "YYYY-MM-DD HH:MM:SS" UTC; None when the
    /// connection is not saved.
    pub next_due: Option<String>,
    /// Whether a ServiceNow connection is saved (the engine does nothing until it is).
    pub connected: bool,
    /// After a plain (JavaScript-less) Run now post: what happened.
    pub flash: Option<FormFlash<()>>,
}

/// The answer to Run now when a run was started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunStarted {
    pub run_id: i64,
}

impl RunStarted {
    /// What the page says; the same words with and without JavaScript.
    pub fn message(&self) -> String {
        format!("Run {} started.", self.run_id)
    }
}

/// Runs listed on the page.
pub const RUNS_SHOWN: u32 = 100;

/// What a run did to one group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunGroupView {
    /// "resources" or "controls".
    pub grouping: String,
    pub key: String,
    /// "opened", "noted", "resolved", "failed" or "set aside".
    pub action: String,
    /// The ticket it concerns, when there is one.
    pub number: Option<String>,
    /// The reason from the rules, or the error in words.
    pub detail: String,
}

/// One run and one page of what it did per group (the groups it left unchanged are
/// counted, not listed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    pub run: RunView,
    /// In the order the run handled them.
    pub groups: Vec<RunGroupView>,
    /// Groups listed in all, over every page.
    pub listed: i64,
    /// 1-based.
    pub page: u32,
    pub pages: u32,
}

/// Groups per page of a run's page.
pub const RUN_GROUPS_PER_PAGE: u32 = 100;

#[server(endpoint = "load_run")]
pub async fn load_run(id: i64, page: u32) -> Result<Option<RunDetail>, ServerFnError> {
    use super::plumbing::*;
    require_admin()?;
    engine_control()?
        .run(id, page.max(1), RUN_GROUPS_PER_PAGE)
        .await
        .map_err(internal("read the run"))
}

#[server(endpoint = "load_runs")]
pub async fn load_runs(flash: Option<String>) -> Result<RunsPageData, ServerFnError> {
    use super::plumbing::*;
    require_admin()?;
    let overview = engine_control()?
        .runs(RUNS_SHOWN)
        .await
        .map_err(internal("list the engine's runs"))?;
    Ok(RunsPageData {
        runs: overview.runs,
        next_due: overview.next_due,
        connected: overview.connected,
        flash: take_flash(flash),
    })
}

#[server(endpoint = "run_now")]
pub async fn run_now() -> Result<RunStarted, ServerFnError> {
    use super::plumbing::*;
    use crate::backend::RunNowOutcome;
    use crate::forms::Notice;
    use http::StatusCode;
    let admin = require_admin()?;
    // A refusal carries its status for a script: 409, since the engine's state (a run under
    // way, no connection) is what stands in the way, not the request.
    let result = match engine_control()?.run_now().await {
        Ok(RunNowOutcome::Started { run_id }) => {
            audit(&admin, "engine.run_now", &format!("started run {run_id}")).await;
            Ok(RunStarted { run_id })
        }
        Ok(RunNowOutcome::InProgress { run_id }) => Err((
            Some(StatusCode::CONFLICT),
            format!("Run {run_id} is in progress; nothing was started."),
        )),
        Ok(RunNowOutcome::NotConnected) => Err((
            Some(StatusCode::CONFLICT),
            "Save the ServiceNow connection first (ITSM integrations); the engine does nothing \
             until it is saved."
                .to_string(),
        )),
        Err(error) => Err((None, super::error_text(&internal("start a run")(error)))),
    };
    if plain_form_post() {
        // The redirect's 302 must win over a refusal's status, or the browser stays on it.
        let notice = match &result {
            Ok(started) => Notice::Done(started.message()),
            Err((_, message)) => Notice::Failed(message.clone()),
        };
        redirect_with_flash("/runs", (), notice);
    } else if let (Err((Some(status), _)), Some(response)) =
        (&result, use_context::<leptos_axum::ResponseOptions>())
    {
        response.set_status(*status);
    }
    result.map_err(|(_, message)| ServerFnError::new(message))
}
