//! What the planner reasons about: the failing findings of the latest scans, the groups they
//! form, the tickets the engine tracks with their members, and the rules from the settings.
//! Plain data, no I/O: the store fills it, the planner reads it.

use crate::ingest::{Severity, Status};
use app::domain::{CivilDate, Grouping, MinSeverity};
use app::forms::{ExceptionKind, ItsmSettings};
use std::collections::{BTreeSet, HashMap};

/// A group's identity: the grouping plus the resource id (By resources) or the control id
/// (By controls). A group may span sources.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    pub grouping: Grouping,
    pub id: String,
}

impl GroupKey {
    pub fn new(grouping: Grouping, id: impl Into<String>) -> Self {
        Self {
            grouping,
            id: id.into(),
        }
    }

    /// "resource arn:aws:…" or "control iam_…", for reasons and notes.
    pub fn describe(&self) -> String {
        match self.grouping {
            Grouping::Resources => format!("resource {}", self.id),
            Grouping::Controls => format!("control {}", self.id),
        }
    }
}

/// One finding's identity: the same (control, resource) from two sources is two members.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberKey {
    pub source: String,
    pub control_id: String,
    pub resource_id: String,
}

impl MemberKey {
    pub fn describe(&self) -> String {
        format!(
            "{} on {} ({})",
            self.control_id, self.resource_id, self.source
        )
    }
}

/// A failing result of the latest scan of its source.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub source: String,
    pub scan_id: i64,
    /// When the scan this result comes from was taken (Unix seconds).
    pub scanned_at: i64,
    pub control_id: String,
    pub control_title: String,
    pub resource_id: String,
    pub resource_name: String,
    pub resource_type: String,
    pub severity: Severity,
}

impl Finding {
    pub fn member_key(&self) -> MemberKey {
        MemberKey {
            source: self.source.clone(),
            control_id: self.control_id.clone(),
            resource_id: self.resource_id.clone(),
        }
    }

    /// The id the group is keyed on under `grouping`.
    pub fn group_id(&self, grouping: Grouping) -> &str {
        match grouping {
            Grouping::Resources => &self.resource_id,
            Grouping::Controls => &self.control_id,
        }
    }
}

/// What the latest scan of a member's source says of it (any status). A member that is not
/// in this map is missing from its source's latest scan.
#[derive(Clone, Debug, PartialEq)]
pub struct LatestResult {
    pub status: Status,
    pub scan_id: i64,
    pub scanned_at: i64,
}

pub type LatestResults = HashMap<MemberKey, LatestResult>;

/// A finding a ticket lists, with when it was first seen failing.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub key: MemberKey,
    pub first_seen: i64,
    /// Whether the ticket's last written content lists it as failing (false once a note
    /// said it no longer fails).
    pub failing: bool,
}

/// A ticket the engine follows, as the last refresh saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackedTicket {
    pub id: i64,
    pub key: GroupKey,
    pub generation: i64,
    pub number: String,
    pub sys_id: String,
    /// The incident's `state` value ("1", "6", or an instance's own).
    pub state: String,
    /// When a refresh first saw the ticket in `state`.
    pub state_seen_at: i64,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// The first refresh that no longer found the ticket: from then on it counts as Closed.
    pub missing_since: Option<i64>,
    pub members: Vec<Member>,
}

/// The rules from the settings pages that decide what a run does.
#[derive(Clone, Debug, PartialEq)]
pub struct Rules {
    pub grouping: Grouping,
    /// The state value a ticket must reach before a duplicate is opened.
    pub duplicate_status: String,
    /// Days after which a still-open ticket gets a successor anyway; 0 = off.
    pub duplicate_days: u32,
    pub auto_resolve: bool,
}

/// Which findings become tickets: the filters of the ITSM settings page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filters {
    /// `None`: every source.
    pub sources: Option<BTreeSet<String>>,
    /// `None`: every severity. Unknown severity always passes.
    pub min_severity: Option<MinSeverity>,
}

impl Filters {
    pub fn from_settings(settings: &ItsmSettings) -> Self {
        Self {
            sources: settings
                .sources
                .as_ref()
                .map(|list| list.iter().cloned().collect()),
            min_severity: settings.min_severity,
        }
    }

    pub fn is_open(&self) -> bool {
        self.sources.is_none() && self.min_severity.is_none()
    }
}

/// An exception an admin granted and did not end (it may have expired: the screen compares
/// its end with the time of the plan).
#[derive(Clone, Debug, PartialEq)]
pub struct Exception {
    pub id: i64,
    pub kind: ExceptionKind,
    /// `None`: every control.
    pub control_id: Option<String>,
    /// `None`: every resource.
    pub resource_id: Option<String>,
    pub reason: String,
    pub created_by: String,
    /// The last day it holds.
    pub expires_on: CivilDate,
    /// The moment it stops holding: the midnight (UTC) after its last day.
    pub expires_at: i64,
}

impl Exception {
    pub fn holds_at(&self, now: i64) -> bool {
        now < self.expires_at
    }

    /// "exception by admin until 2027-01-31: vendor fix due", for reasons.
    pub fn describe(&self) -> String {
        format!(
            "exception by {} until {}: {}",
            self.created_by, self.expires_on, self.reason
        )
    }
}
