//! `MinSeverity`: the lowest severity whose failing findings become tickets (ITSM settings).
//! No floor means every severity; a finding of unknown severity always passes the floor,
//! since nobody can say it is below it. Names and ranks are [`Severity`]'s.

use super::Severity;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MinSeverity {
    Low,
    Medium,
    High,
    Critical,
}

impl MinSeverity {
    pub const ALL: [MinSeverity; 4] = [
        MinSeverity::Low,
        MinSeverity::Medium,
        MinSeverity::High,
        MinSeverity::Critical,
    ];

    /// The severity it stands for.
    pub fn severity(self) -> Severity {
        match self {
            MinSeverity::Low => Severity::Low,
            MinSeverity::Medium => Severity::Medium,
            MinSeverity::High => Severity::High,
            MinSeverity::Critical => Severity::Critical,
        }
    }

    /// The value sent by the form and kept in the database: the severity's name.
    pub fn value(self) -> &'static str {
        self.severity().name()
    }

    pub fn label(self) -> &'static str {
        match self {
            MinSeverity::Low => "Low and above",
            MinSeverity::Medium => "Medium and above",
            MinSeverity::High => "High and above",
            MinSeverity::Critical => "Critical only",
        }
    }

    /// The severity's rank as scans are stored.
    pub fn rank(self) -> i64 {
        self.severity().rank()
    }

    /// An empty value is "every severity" (`None`).
    pub fn parse(raw: &str) -> Result<Option<Self>, String> {
        let raw = raw.trim();
        if raw.is_empty() || raw == "all" {
            return Ok(None);
        }
        Self::ALL
            .into_iter()
            .find(|s| s.value() == raw)
            .map(Some)
            .ok_or_else(|| "Choose every severity, or Low, Medium, High or Critical.".to_string())
    }

    pub fn from_value(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.value() == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_value_and_empty_as_every_severity() {
        assert_eq!(MinSeverity::parse(""), Ok(None));
        assert_eq!(MinSeverity::parse("all"), Ok(None));
        for s in MinSeverity::ALL {
            assert_eq!(MinSeverity::parse(s.value()), Ok(Some(s)));
        }
        assert!(MinSeverity::parse("severe").is_err());
        assert!(MinSeverity::parse("High").is_err());
    }

    #[test]
    fn ranks_rise_with_severity() {
        let ranks: Vec<i64> = MinSeverity::ALL.iter().map(|s| s.rank()).collect();
        assert_eq!(ranks, vec![1, 2, 3, 4]);
    }
}
