//! Server function of the Overview (`/`): what the engine did, what it does next, and what a
//! first-time admin still has to set up.

use super::RunView;
use crate::domain::Grouping;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The ServiceNow connection as the overview shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionSummary {
    /// Whether a connection is saved: the engine does nothing until it is.
    pub saved: bool,
    pub instance_url: Option<String>,
    /// When Test connection last passed every step for the instance saved now,
    /// "YYYY-MM-DD HH:MM:SS" UTC.
    pub last_test_passed: Option<String>,
}

/// The scans of one source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceActivity {
    pub source: String,
    /// Scans received in the last 24 hours.
    pub last_day: i64,
    /// When its latest scan was received, "YYYY-MM-DD HH:MM:SS" UTC.
    pub latest_received_at: String,
}

/// Everything the overview shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverviewData {
    pub connection: ConnectionSummary,
    /// The newest run (it may be under way).
    pub last_run: Option<RunView>,
    /// When the scheduler starts the next run, "YYYY-MM-DD HH:MM:SS" UTC; `None` while no
    /// connection is saved.
    pub next_due: Option<String>,
    pub grouping: Grouping,
    /// Groups of the grouping in use with a failing finding in a latest scan (before the
    /// ticket rules decide what to do with them).
    pub failing_groups: i64,
    /// Tickets the engine tracks (this instance, this grouping) that are open.
    pub open_tickets: i64,
    /// Every source with a kept scan, most recent first.
    pub sources: Vec<SourceActivity>,
    /// Live API tokens: without one no scanner can send a scan.
    pub live_tokens: i64,
    /// Whether any scan was ever kept.
    pub any_scan: bool,
}

/// A first-run step still to do: what, why, and the page that does it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NextStep {
    pub title: &'static str,
    pub why: &'static str,
    pub href: &'static str,
    pub link: &'static str,
}

impl OverviewData {
    /// The first-run steps not done yet, in the order to do them.
    pub fn missing_steps(&self) -> Vec<NextStep> {
        let mut steps = Vec::new();
        if !self.connection.saved {
            steps.push(NextStep {
                title: "Connect ServiceNow",
                why: "The engine opens no ticket until a ServiceNow connection is saved.",
                href: "/settings/connection",
                link: "ITSM integrations",
            });
        }
        if self.live_tokens == 0 && !self.any_scan {
            steps.push(NextStep {
                title: "Create an API token",
                why: "Scanners send their results with a token.",
                href: "/settings/tokens",
                link: "API tokens",
            });
        }
        if !self.any_scan {
            steps.push(NextStep {
                title: "Send a scan",
                why: "Tickets come from the failing findings of the latest scans: POST one to /api/v1/scans, or run itsm-bridge ingest.",
                href: "/scans",
                link: "Scans",
            });
        }
        steps
    }
}

#[server(endpoint = "load_overview")]
pub async fn load_overview() -> Result<OverviewData, ServerFnError> {
    use super::plumbing::*;
    use crate::backend::SharedOverview;
    require_admin()?;
    use_context::<SharedOverview>()
        .ok_or_else(|| internal("reach the overview")(anyhow::anyhow!("not in context")))?
        .overview()
        .await
        .map_err(internal("read the overview"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> OverviewData {
        OverviewData {
            connection: ConnectionSummary::default(),
            last_run: None,
            next_due: None,
            grouping: Grouping::Resources,
            failing_groups: 0,
            open_tickets: 0,
            sources: Vec::new(),
            live_tokens: 0,
            any_scan: false,
        }
    }

    #[test]
    fn a_fresh_install_shows_the_three_steps_in_order() {
        let titles: Vec<_> = fresh().missing_steps().iter().map(|s| s.title).collect();
        assert_eq!(
            titles,
            ["Connect ServiceNow", "Create an API token", "Send a scan"]
        );
    }

    #[test]
    fn each_step_goes_once_done() {
        let mut data = fresh();
        data.connection.saved = true;
        data.live_tokens = 1;
        let titles: Vec<_> = data.missing_steps().iter().map(|s| s.title).collect();
        assert_eq!(titles, ["Send a scan"]);
        data.any_scan = true;
        assert!(data.missing_steps().is_empty());
        // Scans arrive (e.g. by `ingest`) with every token revoked: nothing is missing.
        data.live_tokens = 0;
        assert!(data.missing_steps().is_empty());
    }
}
