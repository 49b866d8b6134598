//! The status rule: whether a ticket has reached the status chosen on the connection page
//! ("Status before a duplicate ticket is opened"), and since when.
//!
//! The order is New < In Progress < On Hold < Resolved < Closed, with Canceled counted as
//! Closed. An instance's own (custom) state chosen as the status is reached by that exact
//! state or by Resolved, Closed or Canceled; any other custom state counts as open, i.e. as
//! not having reached the chosen status. A ticket a refresh no longer finds counts as Closed.

use super::model::TrackedTicket;
use crate::timestamps::format_unix;
use app::domain::IncidentState;

/// The place of a standard state in the order; `None` for an instance's own state.
fn rank(value: &str) -> Option<u8> {
    Some(match IncidentState::from_value(value)? {
        IncidentState::New => 0,
        IncidentState::InProgress => 1,
        IncidentState::OnHold => 2,
        IncidentState::Resolved => 3,
        IncidentState::Closed | IncidentState::Canceled => 4,
    })
}

/// Resolved, Closed or Canceled: the incident is no longer worked on.
pub fn is_done(state: &str) -> bool {
    rank(state).is_some_and(|r| r >= 3)
}

/// A state's label for reasons and notes: the standard one, else the raw value.
pub fn state_label(value: &str) -> String {
    IncidentState::from_value(value)
        .map(|s| s.label().to_string())
        .unwrap_or_else(|| format!("state {value}"))
}

/// Whether a ticket in `state` has reached `chosen`.
pub fn state_reaches(state: &str, chosen: &str) -> bool {
    match (rank(state), rank(chosen)) {
        (Some(state), Some(chosen)) => state >= chosen,
        // A custom state that is not the chosen one counts as open.
        (None, Some(_)) => false,
        // A custom chosen status: that state, or Resolved or later.
        (_, None) => state == chosen || is_done(state),
    }
}

/// When the ticket reached the chosen status, if it has. Later, never earlier, than the
/// truth: `resolved_at` when the ticket is Resolved or later and it is set, else
/// `closed_at`, else the first refresh that saw the state; a ticket no longer found
/// counts as Closed from the first refresh that missed it.
pub fn reached_at(ticket: &TrackedTicket, chosen: &str) -> Option<i64> {
    if let Some(missing_since) = ticket.missing_since {
        return state_reaches(IncidentState::Closed.value(), chosen).then_some(missing_since);
    }
    if !state_reaches(&ticket.state, chosen) {
        return None;
    }
    let resolved = is_done(&ticket.state)
        .then_some(ticket.resolved_at)
        .flatten();
    Some(
        resolved
            .or(ticket.closed_at)
            .unwrap_or(ticket.state_seen_at),
    )
}

/// "Resolved on 2026-11-20 10:00:00" and the like, for reasons.
pub fn describe_reached(ticket: &TrackedTicket, at: i64) -> String {
    if ticket.missing_since.is_some() {
        return format!(
            "no longer found on the instance since {} (counted as Closed)",
            format_unix(at)
        );
    }
    format!("{} on {}", state_label(&ticket.state), format_unix(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model::GroupKey;
    use app::domain::Grouping;

    fn ticket(state: &str) -> TrackedTicket {
        TrackedTicket {
            id: 1,
            key: GroupKey::new(Grouping::Resources, "r"),
            generation: 1,
            number: "INC0010001".into(),
            sys_id: "a".repeat(32),
            state: state.into(),
            state_seen_at: 300,
            opened_at: 100,
            resolved_at: None,
            closed_at: None,
            missing_since: None,
            members: vec![],
        }
    }

    #[test]
    fn the_standard_order_is_new_in_progress_on_hold_resolved_closed() {
        let order = ["1", "2", "3", "6", "7"];
        for (i, chosen) in order.iter().enumerate() {
            for (j, state) in order.iter().enumerate() {
                assert_eq!(state_reaches(state, chosen), j >= i, "{state} vs {chosen}");
            }
        }
    }

    #[test]
    fn canceled_counts_as_closed() {
        assert!(state_reaches("8", "7"));
        assert!(state_reaches("7", "8"));
        assert!(state_reaches("8", "6"));
        assert!(!state_reaches("6", "8"));
    }

    #[test]
    fn a_custom_chosen_status_is_reached_by_itself_or_by_resolved_and_later() {
        assert!(state_reaches("101", "101"));
        for done in ["6", "7", "8"] {
            assert!(state_reaches(done, "101"));
        }
        for open in ["1", "2", "3", "102"] {
            assert!(!state_reaches(open, "101"), "{open}");
        }
    }

    #[test]
    fn other_custom_states_count_as_open() {
        for chosen in ["2", "3", "6", "7"] {
            assert!(!state_reaches("102", chosen), "{chosen}");
        }
    }

    #[test]
    fn reached_at_prefers_resolved_at_then_closed_at_then_the_first_refresh() {
        let mut t = ticket("7");
        t.resolved_at = Some(200);
        t.closed_at = Some(250);
        assert_eq!(reached_at(&t, "6"), Some(200));
        t.resolved_at = None;
        assert_eq!(reached_at(&t, "6"), Some(250));
        t.closed_at = None;
        assert_eq!(reached_at(&t, "6"), Some(300));
        let on_hold = ticket("3");
        assert_eq!(reached_at(&on_hold, "3"), Some(300));
        assert_eq!(reached_at(&on_hold, "6"), None);
    }

    #[test]
    fn resolved_at_is_not_used_for_a_ticket_that_was_reopened() {
        let mut t = ticket("2");
        t.resolved_at = Some(200);
        assert_eq!(reached_at(&t, "2"), Some(300));
    }

    #[test]
    fn a_ticket_no_longer_found_counts_as_closed_from_the_refresh_that_missed_it() {
        let mut t = ticket("2");
        t.missing_since = Some(900);
        assert_eq!(reached_at(&t, "6"), Some(900));
        assert_eq!(reached_at(&t, "7"), Some(900));
        assert_eq!(reached_at(&t, "101"), Some(900));
    }
}
