//! One finding as every format becomes it, and what went wrong where.

use app::domain::Severity as Table;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass = 0,
    /// Neither failing nor passing: manual, error, skipped, muted, warning…
    Other = 1,
    Fail = 2,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fail => "fail",
            Status::Pass => "pass",
            Status::Other => "other",
        }
    }
}

/// A finding's severity as stored: the rank in the one table of severities
/// (`app::domain::Severity`: informational 0 … critical 4), or -1 for unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Severity(pub i64);

impl Severity {
    pub const UNKNOWN: Severity = Severity(Table::UNKNOWN_RANK);

    /// A scanner's name for a severity (the table's, `info`, or `unknown`), in any case.
    pub fn parse(raw: &str) -> Option<Severity> {
        if raw.trim().eq_ignore_ascii_case("unknown") {
            return Some(Severity::UNKNOWN);
        }
        Table::parse(raw).map(|s| Severity(s.rank()))
    }

    /// The severity's name: informational, low, medium, high, critical, or unknown.
    pub fn name(self) -> &'static str {
        Table::name_of_rank(self.0)
    }

    /// OCSF `severity_id`: 1 Informational … 5 Critical, 6 Fatal (as critical), 0/99 unknown.
    pub fn from_ocsf_id(id: i64) -> Severity {
        match id {
            1..=5 => Table::from_rank(id - 1).map_or(Severity::UNKNOWN, |s| Severity(s.rank())),
            6 => Severity(Table::Critical.rank()),
            _ => Severity::UNKNOWN,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub control_id: String,
    pub control_title: String,
    pub resource_id: String,
    pub resource_name: String,
    pub resource_type: String,
    pub status: Status,
    pub severity: Severity,
    /// Unix seconds; `None` falls back to the scan's time, then the upload's.
    pub time: Option<i64>,
    pub detail: String,
}

impl Finding {
    pub const MAX_ID: usize = 2048;
    pub const MAX_TEXT: usize = 8192;
    pub const MAX_DETAIL: usize = 65536;

    /// The bytes its fields take: what it costs in memory and in a chunk's transaction.
    pub fn field_bytes(&self) -> usize {
        self.control_id.len()
            + self.control_title.len()
            + self.resource_id.len()
            + self.resource_name.len()
            + self.resource_type.len()
            + self.detail.len()
            + 32
    }

    /// Refuses fields too long to be a real id or to go into a ticket.
    pub fn within_limits(self, at: &str) -> Result<Finding, Problem> {
        let checks = [
            ("control id", self.control_id.len(), Self::MAX_ID),
            ("resource id", self.resource_id.len(), Self::MAX_ID),
            ("control title", self.control_title.len(), Self::MAX_TEXT),
            ("resource name", self.resource_name.len(), Self::MAX_TEXT),
            ("resource type", self.resource_type.len(), Self::MAX_TEXT),
            ("detail", self.detail.len(), Self::MAX_DETAIL),
        ];
        for (what, length, max) in checks {
            if length > max {
                return Err(Problem::new(
                    at,
                    format!("the {what} is {length} bytes long; at most {max} are accepted"),
                ));
            }
        }
        Ok(self)
    }
}

/// A problem in the input and where it is: a JSON pointer, or a line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    pub at: String,
    pub message: String,
}

impl Problem {
    pub fn new(at: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            at: at.into(),
            message: message.into(),
        }
    }
}

/// Reads an RFC 3339 time as seconds since the epoch.
pub fn rfc3339_seconds(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// OCSF writes milliseconds, Prowler seconds: anything past year 5138 in seconds is ms.
pub fn epoch_seconds(n: i64) -> i64 {
    if n > 100_000_000_000 { n / 1000 } else { n }
}

#[cfg(test)]
mod tests {
    use super::Severity;

    #[test]
    fn a_scanners_severity_names_are_read_as_the_stored_ranks() {
        for (raw, rank) in [
            ("informational", Some(0)),
            ("info", Some(0)),
            (" Info ", Some(0)),
            ("low", Some(1)),
            ("Medium", Some(2)),
            ("HIGH", Some(3)),
            ("critical", Some(4)),
            ("CRITICAL", Some(4)),
            ("unknown", Some(-1)),
            ("UNKNOWN", Some(-1)),
            ("severe", None),
            ("", None),
        ] {
            assert_eq!(Severity::parse(raw).map(|s| s.0), rank, "{raw:?}");
        }
    }

    #[test]
    fn ocsf_severity_ids_map_to_the_stored_ranks() {
        for (id, rank) in [
            (0, -1),
            (1, 0),
            (2, 1),
            (3, 2),
            (4, 3),
            (5, 4),
            (6, 4),
            (7, -1),
            (99, -1),
            (-1, -1),
        ] {
            assert_eq!(Severity::from_ocsf_id(id).0, rank, "severity_id {id}");
        }
    }

    #[test]
    fn a_stored_rank_is_named_by_the_table_and_anything_else_is_unknown() {
        let names: Vec<&str> = (-2..=5).map(|rank| Severity(rank).name()).collect();
        assert_eq!(
            names,
            [
                "unknown",
                "unknown",
                "informational",
                "low",
                "medium",
                "high",
                "critical",
                "unknown"
            ]
        );
    }
}
