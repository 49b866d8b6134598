//! `Severity`: how bad a finding is, the one table of its names, its order and its rank as
//! scans are stored (informational 0 … critical 4; a finding of unknown severity is stored
//! as -1 and has no `Severity`). The scan readers, the scans and Tickets pages, the engine's
//! severity floor ([`MinSeverity`](super::MinSeverity)) and the incident's text all name
//! severities as this table does.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Least severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Informational,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The rank stored for a finding of unknown severity.
    pub const UNKNOWN_RANK: i64 = -1;

    /// The name shown on the pages, written in incidents and accepted in scans.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The rank as scans are stored: informational 0, low 1 … critical 4.
    pub fn rank(self) -> i64 {
        match self {
            Severity::Informational => 0,
            Severity::Low => 1,
            Severity::Medium => 2,
            Severity::High => 3,
            Severity::Critical => 4,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Severity> {
        Self::ALL.into_iter().find(|s| s.rank() == rank)
    }

    /// A stored rank's name: "unknown" for -1 or any rank not in the table.
    pub fn name_of_rank(rank: i64) -> &'static str {
        Self::from_rank(rank).map_or("unknown", Severity::name)
    }

    /// A scanner's name for a severity, in any case: a name of the table, or `info`.
    /// `None` for anything else (including "unknown", which the readers take as such).
    pub fn parse(raw: &str) -> Option<Severity> {
        let raw = raw.trim().to_ascii_lowercase();
        if raw == "info" {
            return Some(Severity::Informational);
        }
        Self::ALL.into_iter().find(|s| s.name() == raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ranks_and_order_agree() {
        let ranks: Vec<i64> = Severity::ALL.iter().map(|s| s.rank()).collect();
        assert_eq!(ranks, vec![0, 1, 2, 3, 4]);
        assert!(Severity::ALL.windows(2).all(|pair| pair[0] < pair[1]));
        for s in Severity::ALL {
            assert_eq!(Severity::from_rank(s.rank()), Some(s));
            assert_eq!(Severity::parse(s.name()), Some(s));
            assert_eq!(Severity::parse(&s.name().to_uppercase()), Some(s));
        }
    }

    #[test]
    fn unknown_ranks_and_names() {
        assert_eq!(Severity::name_of_rank(Severity::UNKNOWN_RANK), "unknown");
        assert_eq!(Severity::name_of_rank(5), "unknown");
        assert_eq!(Severity::parse(" Info "), Some(Severity::Informational));
        assert_eq!(Severity::parse("unknown"), None);
        assert_eq!(Severity::parse("severe"), None);
    }
}
