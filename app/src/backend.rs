//! What the server functions need from the backend. `app` declares it, `server` implements
//! it over SQLite and provides it in Leptos context, so a server function stays a few lines.

use crate::api::{
    ConnectionStep, OverviewData, RunDetail, RunView, ScanFindingsPage, ScanView, TicketQuery,
    TicketsPage, TokenView,
};
use crate::forms::{ConnectionUpdate, ConnectionView, ItsmSettings};
use async_trait::async_trait;
use std::sync::Arc;

#[async_trait]
pub trait SettingsStore: Send + Sync + 'static {
    /// The stored connection (defaults when nothing was saved yet), without secrets.
    async fn connection(&self) -> anyhow::Result<ConnectionView>;
    /// Saves the connection; a secret that is `None` keeps the stored one.
    async fn save_connection(&self, update: ConnectionUpdate) -> anyhow::Result<()>;
    /// The stored ITSM settings (defaults when nothing was saved yet).
    async fn itsm_settings(&self) -> anyhow::Result<ItsmSettings>;
    async fn save_itsm_settings(&self, settings: ItsmSettings) -> anyhow::Result<()>;
}

/// The form in which the store is put into Leptos context.
pub type SharedSettingsStore = Arc<dyn SettingsStore>;

/// Scans and the scanner API's tokens, for their pages.
#[async_trait]
pub trait ScanStore: Send + Sync + 'static {
    async fn tokens(&self) -> anyhow::Result<Vec<TokenView>>;
    /// Creates a token, limited to `source` unless it is `None`; returns it (it is not kept).
    async fn create_token(&self, name: &str, source: Option<&str>) -> anyhow::Result<String>;
    /// Revokes a token; returns its name if it was live.
    async fn revoke_token(&self, id: i64) -> anyhow::Result<Option<String>>;
    /// Every kept scan, by source, each source's newest first.
    async fn scans(&self) -> anyhow::Result<Vec<ScanView>>;
    /// Deletes every scan of `source` (a scan of it still being received is left to
    /// complete whole), audited as done by `actor` from `address` in the same transaction
    /// as the scans are hidden; how many, `None` when it has none.
    async fn retire_source(
        &self,
        source: &str,
        actor: &str,
        address: Option<String>,
    ) -> anyhow::Result<Option<u64>>;
    /// One page of a scan's failing findings; `None` for no such scan.
    async fn failing_findings(
        &self,
        scan_id: i64,
        page: u32,
        per_page: u32,
    ) -> anyhow::Result<Option<ScanFindingsPage>>;
}

pub type SharedScanStore = Arc<dyn ScanStore>;

/// Test connection: runs the steps against the saved connection.
#[async_trait]
pub trait ConnectionTester: Send + Sync + 'static {
    async fn test_connection(&self) -> anyhow::Result<Vec<ConnectionStep>>;
}

pub type SharedConnectionTester = Arc<dyn ConnectionTester>;

/// Runs of the ticket engine, for the Runs page.
#[async_trait]
pub trait EngineControl: Send + Sync + 'static {
    /// The latest `limit` runs, newest first, and when the next is due.
    async fn runs(&self, limit: u32) -> anyhow::Result<RunsOverview>;
    /// One run and one page (1-based, clamped) of what it did per group; `None` for no
    /// such run.
    async fn run(&self, id: i64, page: u32, per_page: u32) -> anyhow::Result<Option<RunDetail>>;
    /// Starts a run at once, in the background; never two at once.
    async fn run_now(&self) -> anyhow::Result<RunNowOutcome>;
}

/// What the Runs page shows of the engine.
#[derive(Clone, Debug, PartialEq)]
pub struct RunsOverview {
    /// Newest first.
    pub runs: Vec<RunView>,
    /// When the scheduler starts the next run, "YYYY-MM-DD HH:MM:SS" UTC; `None` while no
    /// connection is saved.
    pub next_due: Option<String>,
    /// Whether a ServiceNow connection is saved: the engine does nothing until it is.
    pub connected: bool,
}

/// What Run now did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunNowOutcome {
    /// A run was started (its row exists, as "running").
    Started { run_id: i64 },
    /// Nothing was started: this run is under way.
    InProgress { run_id: i64 },
    /// Nothing was started: no ServiceNow connection is saved.
    NotConnected,
}

pub type SharedEngineControl = Arc<dyn EngineControl>;

/// The overview (`/`): the connection, the last and next run, failing groups, open tickets
/// and the scans of the last day.
#[async_trait]
pub trait Overview: Send + Sync + 'static {
    async fn overview(&self) -> anyhow::Result<OverviewData>;
}

pub type SharedOverview = Arc<dyn Overview>;

/// Every ticket the engine opened, for the Tickets page.
#[async_trait]
pub trait TicketList: Send + Sync + 'static {
    /// One page of at most `per_page` tickets, newest first, from the query's cursor.
    async fn tickets(&self, query: TicketQuery, per_page: u32) -> anyhow::Result<TicketsPage>;
}

pub type SharedTicketList = Arc<dyn TicketList>;
/// What decides which findings become tickets, for the ITSM settings and Exceptions pages:
/// the sources seen, the preview of the next run, and the exceptions.
#[async_trait]
pub trait EngineRules: Send + Sync + 'static {
    /// Every source a kept scan came from, sorted.
    async fn sources_seen(&self) -> anyhow::Result<Vec<String>>;
    /// What the next run would do with `settings` (the saved ones when `None`), computed
    /// on the ticket states stored by the last refresh; sends nothing to ServiceNow.
    async fn preview(
        &self,
        settings: Option<crate::forms::ItsmSettings>,
    ) -> anyhow::Result<crate::api::PlanPreview>;
    /// Today's date (UTC) by the server's clock.
    fn today(&self) -> crate::domain::CivilDate;
    /// Every exception, those that hold first.
    async fn exceptions(&self) -> anyhow::Result<Vec<crate::api::ExceptionView>>;
    /// Grants an exception; returns its id.
    async fn add_exception(
        &self,
        exception: &crate::forms::NewException,
        by: &str,
    ) -> anyhow::Result<i64>;
    /// Ends an exception that holds; `None` when it does not (ended, expired, unknown).
    async fn end_exception(
        &self,
        id: i64,
        by: &str,
    ) -> anyhow::Result<Option<crate::api::ExceptionView>>;
}

pub type SharedEngineRules = Arc<dyn EngineRules>;
