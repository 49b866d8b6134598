//! `IncidentState`: the states of a ServiceNow incident, listed in the instance's order
//! (New, In Progress, On Hold, Resolved, Closed, Canceled). The type itself has no order:
//! which state has "reached" the one chosen for duplicates is decided by the engine's
//! status rule (`server/src/engine/status_rule.rs`), where Canceled counts as Closed.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IncidentState {
    New,
    InProgress,
    OnHold,
    Resolved,
    Closed,
    Canceled,
}

impl IncidentState {
    pub const ALL: [IncidentState; 6] = [
        IncidentState::New,
        IncidentState::InProgress,
        IncidentState::OnHold,
        IncidentState::Resolved,
        IncidentState::Closed,
        IncidentState::Canceled,
    ];

    /// ServiceNow's choice value for the state (`incident.state` is a string).
    pub fn value(self) -> &'static str {
        match self {
            IncidentState::New => "1",
            IncidentState::InProgress => "2",
            IncidentState::OnHold => "3",
            IncidentState::Resolved => "6",
            IncidentState::Closed => "7",
            IncidentState::Canceled => "8",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            IncidentState::New => "New",
            IncidentState::InProgress => "In Progress",
            IncidentState::OnHold => "On Hold",
            IncidentState::Resolved => "Resolved",
            IncidentState::Closed => "Closed",
            IncidentState::Canceled => "Canceled",
        }
    }

    pub fn from_value(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.value() == value.trim())
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::from_value(raw).ok_or_else(|| "Choose one of the listed states.".to_string())
    }
}

/// A state as an instance lists it (`sys_choice`): its value and its label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChoice {
    pub value: String,
    pub label: String,
}

impl IncidentState {
    /// The states of a standard instance, offered until a connection test reads the
    /// instance's own.
    pub fn standard_choices() -> Vec<StateChoice> {
        Self::ALL
            .into_iter()
            .map(|s| StateChoice {
                value: s.value().to_string(),
                label: s.label().to_string(),
            })
            .collect()
    }
}

impl Default for IncidentState {
    /// docs/SETTINGS.md: by default, a duplicate ticket waits for the old one to be Resolved.
    fn default() -> Self {
        IncidentState::Resolved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_round_trips_through_its_value() {
        for state in IncidentState::ALL {
            assert_eq!(IncidentState::parse(state.value()), Ok(state));
        }
    }

    #[test]
    fn unknown_values_and_labels_are_refused() {
        for raw in ["", "0", "4", "5", "9", "Resolved", "resolved"] {
            assert!(IncidentState::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn default_is_resolved() {
        assert_eq!(IncidentState::default(), IncidentState::Resolved);
    }
}
