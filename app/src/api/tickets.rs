//! Server function of the Tickets page: every ticket the engine opened, newest first, 50 a
//! page, filtered by state and grouping. Paging is by cursor (the id a page ends at), so a
//! page costs the same at the first ticket and at the 100,000th, and a ticket opened while
//! someone pages does not shift the pages they have not seen yet.

use crate::domain::Grouping;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Tickets per page.
pub const TICKETS_PER_PAGE: u32 = 50;

/// The state filter: the classes the engine's rules tell apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateClass {
    /// New, In Progress, On Hold, or an instance's own state that is not Resolved or later.
    Open,
    Resolved,
    /// Closed, Canceled, or no longer found in the instance (it counts as Closed).
    Closed,
    /// A create was sent and its answer never came: the next run looks it up.
    Unconfirmed,
}

impl StateClass {
    pub const ALL: [StateClass; 4] = [
        StateClass::Open,
        StateClass::Resolved,
        StateClass::Closed,
        StateClass::Unconfirmed,
    ];

    /// The value in the query string and in the database's class expression.
    pub fn value(self) -> &'static str {
        match self {
            StateClass::Open => "open",
            StateClass::Resolved => "resolved",
            StateClass::Closed => "closed",
            StateClass::Unconfirmed => "unconfirmed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StateClass::Open => "Open (New, In Progress, On Hold)",
            StateClass::Resolved => "Resolved",
            StateClass::Closed => "Closed, Canceled or gone",
            StateClass::Unconfirmed => "Create not confirmed",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|c| c.value() == raw.trim())
            .ok_or_else(|| {
                format!(
                    "There is no state filter {raw:?}: choose open, resolved, closed or unconfirmed."
                )
            })
    }
}

/// Where a page starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cursor {
    /// The newest tickets.
    First,
    /// The tickets older than this id (the "Next" page).
    After(i64),
    /// The tickets newer than this id (the "Previous" page).
    Before(i64),
}

/// A checked request for one page of tickets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketQuery {
    pub state: Option<StateClass>,
    pub grouping: Option<Grouping>,
    pub cursor: Cursor,
}

/// A query string's value, unless it is missing or blank.
fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

impl TicketQuery {
    /// Reads the query string's values; blank means "any" (what the form sends for "All").
    pub fn parse(
        state: Option<&str>,
        grouping: Option<&str>,
        after: Option<&str>,
        before: Option<&str>,
    ) -> Result<Self, String> {
        let state = given(state).map(StateClass::parse).transpose()?;
        let grouping = given(grouping)
            .map(|g| {
                Grouping::parse(g).map_err(|_| {
                    format!("There is no grouping {g:?}: choose resources or controls.")
                })
            })
            .transpose()?;
        let id = |name: &str, v: &str| {
            v.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| format!("The page link's {name}={v:?} is not a ticket number; start from the first page."))
        };
        let cursor = match (given(after), given(before)) {
            (Some(_), Some(_)) => {
                return Err("A page link names either after or before, not both.".into());
            }
            (Some(a), None) => Cursor::After(id("after", a)?),
            (None, Some(b)) => Cursor::Before(id("before", b)?),
            (None, None) => Cursor::First,
        };
        Ok(Self {
            state,
            grouping,
            cursor,
        })
    }

    /// The page's address with these filters and another cursor.
    pub fn href(&self, cursor: Cursor) -> String {
        let mut parts = Vec::new();
        if let Some(state) = self.state {
            parts.push(format!("state={}", state.value()));
        }
        if let Some(grouping) = self.grouping {
            parts.push(format!("grouping={}", grouping.value()));
        }
        match cursor {
            Cursor::First => {}
            Cursor::After(id) => parts.push(format!("after={id}")),
            Cursor::Before(id) => parts.push(format!("before={id}")),
        }
        if parts.is_empty() {
            "/tickets".into()
        } else {
            format!("/tickets?{}", parts.join("&"))
        }
    }
}

/// Whether the engine still follows a ticket, and if not, why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tracking {
    /// The engine refreshes, notes and resolves it.
    Tracked,
    /// Of the grouping not in use: left alone until the grouping is switched back.
    Frozen,
    /// Opened on another instance than the one the connection names now.
    Elsewhere,
    /// A successor replaced it (or it reached the chosen status and a new one was opened).
    Replaced,
}

impl Tracking {
    pub fn value(self) -> &'static str {
        match self {
            Tracking::Tracked => "tracked",
            Tracking::Frozen => "frozen",
            Tracking::Elsewhere => "elsewhere",
            Tracking::Replaced => "replaced",
        }
    }

    /// What the page says, and why.
    pub fn describe(self) -> &'static str {
        match self {
            Tracking::Tracked => "tracked",
            Tracking::Frozen => "frozen: its grouping is not in use",
            Tracking::Elsewhere => "not tracked: opened on another instance",
            Tracking::Replaced => "not tracked: a newer ticket replaced it",
        }
    }
}

/// The ticket a ticket replaced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplacedTicket {
    pub number: Option<String>,
    pub link: Option<String>,
}

/// One ticket as the list shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TicketView {
    pub id: i64,
    /// "INC0010001"; `None` while the create is not confirmed.
    pub number: Option<String>,
    /// Opens it in the instance it was opened on.
    pub link: Option<String>,
    pub instance_url: String,
    pub state_class: StateClass,
    /// The state as the last refresh saw it, by the instance's label.
    pub state: String,
    /// When a refresh last read it, "YYYY-MM-DD HH:MM:SS" UTC.
    pub refreshed_at: Option<String>,
    pub grouping: Grouping,
    pub key: String,
    /// The findings it lists as failing.
    pub findings: i64,
    /// The highest severity of those findings in the latest scans; "unknown" when none of
    /// them is in a latest scan any more.
    pub highest_severity: String,
    /// When it was opened (the instance's time once refreshed, else when it was sent).
    pub opened_at: String,
    pub generation: i64,
    pub replaces: Option<ReplacedTicket>,
    pub tracking: Tracking,
}

/// One page of tickets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TicketsPage {
    /// Newest first.
    pub tickets: Vec<TicketView>,
    /// Tickets matching the filters, on every page.
    pub total: i64,
    /// The grouping in use (tickets of the other one are frozen).
    pub grouping_in_use: Grouping,
    /// The instance the connection names (tickets of another are not tracked).
    pub instance_url: Option<String>,
    /// Where the "Next" and "Previous" links lead, when there is such a page.
    pub next: Option<Cursor>,
    pub previous: Option<Cursor>,
}

/// What the Tickets page renders: the query it was asked (checked), and its page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TicketsPageData {
    pub query: TicketQuery,
    pub page: TicketsPage,
}

#[server(endpoint = "load_tickets")]
pub async fn load_tickets(
    #[server(default)] state: Option<String>,
    #[server(default)] grouping: Option<String>,
    #[server(default)] after: Option<String>,
    #[server(default)] before: Option<String>,
) -> Result<TicketsPageData, ServerFnError> {
    use super::plumbing::*;
    use crate::backend::SharedTicketList;
    require_admin()?;
    let query = TicketQuery::parse(
        state.as_deref(),
        grouping.as_deref(),
        after.as_deref(),
        before.as_deref(),
    )
    .map_err(|message| refuse(http::StatusCode::BAD_REQUEST, message))?;
    let list = use_context::<SharedTicketList>()
        .ok_or_else(|| internal("reach the tickets")(anyhow::anyhow!("not in context")))?;
    let page = list
        .tickets(query, TICKETS_PER_PAGE)
        .await
        .map_err(internal("list the tickets"))?;
    Ok(TicketsPageData { query, page })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_values_mean_any_and_the_first_page() {
        let query = TicketQuery::parse(Some(""), Some(" "), None, Some("")).unwrap();
        assert_eq!(
            query,
            TicketQuery {
                state: None,
                grouping: None,
                cursor: Cursor::First
            }
        );
        assert_eq!(query.href(Cursor::First), "/tickets");
    }

    #[test]
    fn filters_and_cursors_round_trip_through_the_address() {
        let query =
            TicketQuery::parse(Some("resolved"), Some("controls"), Some("120"), None).unwrap();
        assert_eq!(query.state, Some(StateClass::Resolved));
        assert_eq!(query.grouping, Some(Grouping::Controls));
        assert_eq!(query.cursor, Cursor::After(120));
        assert_eq!(
            query.href(Cursor::Before(71)),
            "/tickets?state=resolved&grouping=controls&before=71"
        );
    }

    #[test]
    fn unknown_values_are_refused_in_words() {
        let refused = TicketQuery::parse(Some("opened"), None, None, None).unwrap_err();
        assert!(refused.contains("\"opened\""), "{refused}");
        assert!(TicketQuery::parse(None, Some("both"), None, None).is_err());
        assert!(TicketQuery::parse(None, None, Some("abc"), None).is_err());
        assert!(TicketQuery::parse(None, None, Some("0"), None).is_err());
        assert!(TicketQuery::parse(None, None, Some("-4"), None).is_err());
        assert!(TicketQuery::parse(None, None, Some("3"), Some("9")).is_err());
    }
}
