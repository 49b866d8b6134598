//! The ITSM settings form (PRODUCT.md §1.2, "Settings > Settings").

use super::{FieldErrors, parse_whole_number};
use crate::domain::Grouping;
use serde::{Deserialize, Serialize};

/// What the browser posts. An unchecked checkbox sends nothing, hence the default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ItsmForm {
    pub grouping: String,
    pub scheduler_interval_minutes: String,
    pub auto_resolve: Option<String>,
}

/// The validated ITSM settings, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItsmSettings {
    pub grouping: Grouping,
    pub scheduler_interval_minutes: u32,
    pub auto_resolve: bool,
}

impl ItsmSettings {
    pub const MIN_INTERVAL: u32 = 5;
    pub const MAX_INTERVAL: u32 = 1440;

    /// For the audit log: which settings changed, old and new.
    pub fn describe_changes(&self, before: &ItsmSettings) -> String {
        let mut changes = Vec::new();
        if self.grouping != before.grouping {
            changes.push(format!(
                "grouping {} -> {}",
                before.grouping.label(),
                self.grouping.label()
            ));
        }
        if self.scheduler_interval_minutes != before.scheduler_interval_minutes {
            changes.push(format!(
                "interval {} -> {} minutes",
                before.scheduler_interval_minutes, self.scheduler_interval_minutes
            ));
        }
        if self.auto_resolve != before.auto_resolve {
            changes.push(format!(
                "auto-resolve {} -> {}",
                before.auto_resolve, self.auto_resolve
            ));
        }
        if changes.is_empty() {
            "saved without changes".to_string()
        } else {
            format!("changed: {}", changes.join(", "))
        }
    }
}

impl Default for ItsmSettings {
    fn default() -> Self {
        Self {
            grouping: Grouping::Resources,
            scheduler_interval_minutes: 60,
            auto_resolve: false,
        }
    }
}

impl ItsmForm {
    pub fn validate(&self) -> Result<ItsmSettings, FieldErrors> {
        let mut errors = FieldErrors::default();
        let grouping = errors.check("grouping", Grouping::parse(&self.grouping));
        let interval = errors.check(
            "scheduler_interval_minutes",
            parse_whole_number(
                &self.scheduler_interval_minutes,
                ItsmSettings::MIN_INTERVAL,
                ItsmSettings::MAX_INTERVAL,
                "minutes",
            ),
        );
        let auto_resolve =
            errors.check("auto_resolve", parse_checkbox(self.auto_resolve.as_deref()));
        match (grouping, interval, auto_resolve) {
            (Some(grouping), Some(scheduler_interval_minutes), Some(auto_resolve)) => {
                Ok(ItsmSettings {
                    grouping,
                    scheduler_interval_minutes,
                    auto_resolve,
                })
            }
            _ => Err(errors),
        }
    }
}

impl From<ItsmSettings> for ItsmForm {
    fn from(settings: ItsmSettings) -> Self {
        Self {
            grouping: settings.grouping.value().to_string(),
            scheduler_interval_minutes: settings.scheduler_interval_minutes.to_string(),
            auto_resolve: settings.auto_resolve.then(|| "true".to_string()),
        }
    }
}

fn parse_checkbox(raw: Option<&str>) -> Result<bool, String> {
    match raw {
        None | Some("") | Some("false") => Ok(false),
        Some("true") | Some("on") => Ok(true),
        Some(_) => Err("Tick the box or leave it empty.".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(grouping: &str, minutes: &str, auto: Option<&str>) -> ItsmForm {
        ItsmForm {
            grouping: grouping.into(),
            scheduler_interval_minutes: minutes.into(),
            auto_resolve: auto.map(String::from),
        }
    }

    #[test]
    fn valid_settings_round_trip_through_the_form() {
        let settings = form("controls", "15", Some("true")).validate().unwrap();
        assert_eq!(
            settings,
            ItsmSettings {
                grouping: Grouping::Controls,
                scheduler_interval_minutes: 15,
                auto_resolve: true
            }
        );
        assert_eq!(ItsmForm::from(settings).validate(), Ok(settings));
    }

    #[test]
    fn an_unchecked_box_means_off() {
        assert!(
            !form("resources", "60", None)
                .validate()
                .unwrap()
                .auto_resolve
        );
    }

    #[test]
    fn interval_boundaries() {
        assert!(form("resources", "5", None).validate().is_ok());
        assert!(form("resources", "1440", None).validate().is_ok());
        for bad in ["4", "1441", "0", "", "sixty", "60.0"] {
            let errors = form("resources", bad, None).validate().unwrap_err();
            assert_eq!(
                errors.get("scheduler_interval_minutes"),
                Some("Enter a whole number of minutes from 5 to 1440."),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn every_bad_field_is_reported() {
        let errors = form("both", "0", Some("yes")).validate().unwrap_err();
        assert_eq!(errors.len(), 3);
    }

    #[test]
    fn defaults_are_by_resources_hourly_and_no_auto_resolve() {
        let defaults = ItsmSettings::default();
        assert_eq!(defaults.grouping, Grouping::Resources);
        assert_eq!(defaults.scheduler_interval_minutes, 60);
        assert!(!defaults.auto_resolve);
    }
}
