//! The form that grants an exception (the Exceptions page): an accepted risk or a false
//! positive for a control, a resource, or one (control, resource) pair, with a reason and
//! the last day it holds, at most a year ahead.

use super::{FieldErrors, parse_required_text};
use crate::domain::CivilDate;
use serde::{Deserialize, Serialize};

/// What the browser posts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExceptionForm {
    /// "control", "resource" or "pair".
    pub scope: String,
    pub control_id: String,
    pub resource_id: String,
    /// "accepted_risk" or "false_positive".
    pub kind: String,
    pub reason: String,
    /// `YYYY-MM-DD`: the last day the exception holds (UTC).
    pub expires_on: String,
}

/// Why a finding is excepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    AcceptedRisk,
    FalsePositive,
}

impl ExceptionKind {
    pub const ALL: [ExceptionKind; 2] = [ExceptionKind::AcceptedRisk, ExceptionKind::FalsePositive];

    pub fn value(self) -> &'static str {
        match self {
            ExceptionKind::AcceptedRisk => "accepted_risk",
            ExceptionKind::FalsePositive => "false_positive",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ExceptionKind::AcceptedRisk => "Accepted risk",
            ExceptionKind::FalsePositive => "False positive",
        }
    }

    pub fn from_value(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.value() == value)
    }
}

/// A validated exception, ready to store. At least one of the two ids is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewException {
    pub kind: ExceptionKind,
    /// `None`: every control (the exception covers a resource).
    pub control_id: Option<String>,
    /// `None`: every resource (the exception covers a control).
    pub resource_id: Option<String>,
    pub reason: String,
    pub expires_on: CivilDate,
}

impl NewException {
    /// "control C1", "resource r-1", "control C1 on resource r-1".
    pub fn describe_scope(&self) -> String {
        describe_scope(self.control_id.as_deref(), self.resource_id.as_deref())
    }
}

/// The words for what an exception covers.
pub fn describe_scope(control: Option<&str>, resource: Option<&str>) -> String {
    match (control, resource) {
        (Some(c), Some(r)) => format!("control {c} on resource {r}"),
        (Some(c), None) => format!("control {c}"),
        (None, Some(r)) => format!("resource {r}"),
        (None, None) => "nothing".to_string(),
    }
}

impl ExceptionForm {
    /// The longest reason kept.
    pub const MAX_REASON: usize = 500;
    /// The longest control or resource id (ids as scanners write them can be long ARNs).
    pub const MAX_ID: usize = 1000;
    /// How far ahead the last day may be.
    pub const MAX_DAYS_AHEAD: i64 = 365;

    /// Checks every field; `today` is the server's date (UTC), from its clock.
    pub fn validate(&self, today: CivilDate) -> Result<NewException, FieldErrors> {
        let mut errors = FieldErrors::default();
        let scope = self.scope.trim();
        let (wants_control, wants_resource) = match scope {
            "control" => (true, false),
            "resource" => (false, true),
            "pair" => (true, true),
            _ => {
                errors.insert(
                    "scope",
                    "Choose a control, a resource, or one control on one resource.",
                );
                (false, false)
            }
        };
        let control_id = if wants_control {
            errors.check(
                "control_id",
                parse_required_text(&self.control_id, Self::MAX_ID, "control id"),
            )
        } else {
            None
        };
        let resource_id = if wants_resource {
            errors.check(
                "resource_id",
                parse_required_text(&self.resource_id, Self::MAX_ID, "resource id"),
            )
        } else {
            None
        };
        let kind = errors.check(
            "kind",
            ExceptionKind::from_value(self.kind.trim())
                .ok_or_else(|| "Choose Accepted risk or False positive.".to_string()),
        );
        let reason = errors.check(
            "reason",
            parse_required_text(&self.reason, Self::MAX_REASON, "reason"),
        );
        let last = today.plus_days(Self::MAX_DAYS_AHEAD);
        let expires_on = errors.check(
            "expires_on",
            CivilDate::parse(&self.expires_on).and_then(|date| {
                if date < today {
                    Err(format!(
                        "Choose a day from today ({today}) on; an exception for the past holds nothing."
                    ))
                } else if date > last {
                    Err(format!(
                        "An exception holds at most a year: choose a day up to {last}."
                    ))
                } else {
                    Ok(date)
                }
            }),
        );
        if !errors.is_empty() {
            return Err(errors);
        }
        match (kind, reason, expires_on) {
            (Some(kind), Some(reason), Some(expires_on)) => Ok(NewException {
                kind,
                control_id,
                resource_id,
                reason,
                expires_on,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> CivilDate {
        CivilDate::parse("2026-11-30").unwrap()
    }

    fn form(scope: &str, control: &str, resource: &str, expires_on: &str) -> ExceptionForm {
        ExceptionForm {
            scope: scope.into(),
            control_id: control.into(),
            resource_id: resource.into(),
            kind: "accepted_risk".into(),
            reason: "Vendor fix due in January".into(),
            expires_on: expires_on.into(),
        }
    }

    #[test]
    fn each_scope_keeps_only_its_ids() {
        let c = form("control", "C1", "r-ignored", "2027-01-31")
            .validate(today())
            .unwrap();
        assert_eq!(
            (c.control_id.as_deref(), c.resource_id.as_deref()),
            (Some("C1"), None)
        );
        let r = form("resource", "", "r-1", "2027-01-31")
            .validate(today())
            .unwrap();
        assert_eq!(
            (r.control_id, r.resource_id.as_deref()),
            (None, Some("r-1"))
        );
        let p = form("pair", "C1", "r-1", "2027-01-31")
            .validate(today())
            .unwrap();
        assert_eq!(p.describe_scope(), "control C1 on resource r-1");
    }

    #[test]
    fn expiry_from_today_to_a_year_ahead() {
        assert!(
            form("control", "C1", "", "2026-11-30")
                .validate(today())
                .is_ok()
        );
        assert!(
            form("control", "C1", "", "2027-11-30")
                .validate(today())
                .is_ok()
        );
        for bad in ["2026-11-29", "2027-12-01", "2027-11-31", "tomorrow", ""] {
            let errors = form("control", "C1", "", bad)
                .validate(today())
                .unwrap_err();
            assert!(errors.get("expires_on").is_some(), "{bad:?}");
        }
    }

    #[test]
    fn every_bad_field_is_reported() {
        let bad = ExceptionForm {
            scope: "pair".into(),
            kind: "ignore".into(),
            reason: " ".into(),
            expires_on: "2030-01-01".into(),
            ..ExceptionForm::default()
        };
        let errors = bad.validate(today()).unwrap_err();
        let fields: Vec<&str> = errors.fields().collect();
        assert_eq!(
            fields,
            vec!["control_id", "expires_on", "kind", "reason", "resource_id"]
        );
        let long = ExceptionForm {
            reason: "x".repeat(501),
            ..form("control", "C1", "", "2027-01-31")
        };
        assert!(long.validate(today()).unwrap_err().get("reason").is_some());
        assert!(
            form("everything", "C1", "r", "2027-01-31")
                .validate(today())
                .unwrap_err()
                .get("scope")
                .is_some()
        );
    }
}
