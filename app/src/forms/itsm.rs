//! The ITSM settings form (docs/SETTINGS.md, "The ITSM settings page").

use super::{FieldErrors, parse_whole_number};
use crate::domain::{Grouping, MinSeverity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the browser posts. An unchecked checkbox sends nothing, hence the default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ItsmForm {
    pub grouping: String,
    pub scheduler_interval_minutes: String,
    pub auto_resolve: Option<String>,
    /// "all" (or nothing, as before the filters existed) or "chosen".
    pub sources_mode: String,
    /// The ticked sources, keyed by their box's position on the page: plain HTML cannot
    /// post a list, and a source's name may hold any character, so it is the value.
    pub sources: BTreeMap<String, String>,
    /// "" (every severity) or a [`MinSeverity`] value.
    pub min_severity: String,
}

impl ItsmForm {
    /// The form from the fields a browser posts, (name, value) in the form's order, read
    /// as the server reads the posted form (serde_qs, as Leptos's `from_form_data` does)
    /// for the names the ITSM page posts: `form[grouping]`, `form[sources][3]`, …; other
    /// names are left out, a missing field is its default, an empty `auto_resolve` is off,
    /// and no field at all, or one of the form's fields posted twice, makes the form
    /// unreadable (`None`). The page reads its form with this, not serde_qs, whose parser
    /// was about a tenth of the page's wasm. Names the page never posts may be read
    /// otherwise than by serde_qs (a source's key `01`, which serde_qs reads as `1`; an
    /// unknown field posted twice): the server reads every save itself.
    pub fn from_fields<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Self> {
        let mut form = ItsmForm::default();
        let mut seen = std::collections::BTreeSet::new();
        let mut any = false;
        for (name, value) in fields {
            let Some(field) = name
                .strip_prefix("form[")
                .and_then(|rest| rest.strip_suffix(']'))
            else {
                continue;
            };
            any = true;
            let (head, key) = match field.split_once("][") {
                Some((head, key)) => (head, Some(key)),
                None => (field, None),
            };
            let slot = match (head, key) {
                ("grouping", None) => &mut form.grouping,
                ("scheduler_interval_minutes", None) => &mut form.scheduler_interval_minutes,
                ("auto_resolve", None) => form.auto_resolve.insert(String::new()),
                ("sources_mode", None) => &mut form.sources_mode,
                ("min_severity", None) => &mut form.min_severity,
                ("sources", Some(key)) if !key.contains(['[', ']']) => {
                    form.sources.entry(key.to_string()).or_default()
                }
                ("grouping" | "scheduler_interval_minutes" | "auto_resolve", _)
                | ("sources_mode" | "min_severity" | "sources", _) => return None,
                _ => continue,
            };
            if !seen.insert(field) {
                return None;
            }
            *slot = value.to_string();
        }
        // serde_qs reads an empty value as no value for an `Option`.
        form.auto_resolve = form.auto_resolve.filter(|v| !v.is_empty());
        any.then_some(form)
    }
}

/// The validated ITSM settings, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItsmSettings {
    pub grouping: Grouping,
    pub scheduler_interval_minutes: u32,
    pub auto_resolve: bool,
    /// The sources whose findings become tickets, sorted; `None`: every source.
    pub sources: Option<Vec<String>>,
    /// The lowest severity that becomes a ticket; `None`: every severity.
    pub min_severity: Option<MinSeverity>,
}

impl ItsmSettings {
    pub const MIN_INTERVAL: u32 = 5;
    pub const MAX_INTERVAL: u32 = 1440;
    /// The longest source name the filter keeps (a scanner's source is a short name).
    pub const MAX_SOURCE: usize = 200;
    /// The most sources the filter lists.
    pub const MAX_SOURCES: usize = 500;

    /// "every source" or "only trivy, prowler".
    pub fn describe_sources(&self) -> String {
        match &self.sources {
            None => "every source".to_string(),
            Some(list) => format!("only {}", list.join(", ")),
        }
    }

    /// "every severity" or "High and above".
    pub fn describe_severity(&self) -> String {
        match self.min_severity {
            None => "every severity".to_string(),
            Some(s) => s.label().to_string(),
        }
    }

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
        if self.sources != before.sources {
            changes.push(format!(
                "sources {} -> {}",
                before.describe_sources(),
                self.describe_sources()
            ));
        }
        if self.min_severity != before.min_severity {
            changes.push(format!(
                "lowest severity {} -> {}",
                before.describe_severity(),
                self.describe_severity()
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
            sources: None,
            min_severity: None,
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
        let sources = errors.check("sources", self.chosen_sources());
        let min_severity = errors.check("min_severity", MinSeverity::parse(&self.min_severity));
        match (grouping, interval, auto_resolve, sources, min_severity) {
            (
                Some(grouping),
                Some(scheduler_interval_minutes),
                Some(auto_resolve),
                Some(sources),
                Some(min_severity),
            ) => Ok(ItsmSettings {
                grouping,
                scheduler_interval_minutes,
                auto_resolve,
                sources,
                min_severity,
            }),
            _ => Err(errors),
        }
    }

    /// `None` for every source, else the ticked ones, sorted, each once.
    fn chosen_sources(&self) -> Result<Option<Vec<String>>, String> {
        match self.sources_mode.trim() {
            "" | "all" => Ok(None),
            "chosen" => {
                let mut chosen: Vec<String> = Vec::new();
                for raw in self.sources.values() {
                    let source = raw.trim();
                    if source.is_empty() {
                        continue;
                    }
                    if source.chars().count() > ItsmSettings::MAX_SOURCE
                        || source.chars().any(char::is_control)
                    {
                        return Err(format!(
                            "A source name is at most {} characters, without control characters.",
                            ItsmSettings::MAX_SOURCE
                        ));
                    }
                    chosen.push(source.to_string());
                }
                chosen.sort();
                chosen.dedup();
                if chosen.is_empty() {
                    return Err("Tick at least one source, or choose All sources.".to_string());
                }
                if chosen.len() > ItsmSettings::MAX_SOURCES {
                    return Err(format!(
                        "Choose at most {} sources.",
                        ItsmSettings::MAX_SOURCES
                    ));
                }
                Ok(Some(chosen))
            }
            _ => Err("Choose All sources or Only the sources ticked.".to_string()),
        }
    }
}

impl From<ItsmSettings> for ItsmForm {
    fn from(settings: ItsmSettings) -> Self {
        Self {
            grouping: settings.grouping.value().to_string(),
            scheduler_interval_minutes: settings.scheduler_interval_minutes.to_string(),
            auto_resolve: settings.auto_resolve.then(|| "true".to_string()),
            sources_mode: if settings.sources.is_some() {
                "chosen"
            } else {
                "all"
            }
            .to_string(),
            sources: settings
                .sources
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(i, s)| (i.to_string(), s))
                .collect(),
            min_severity: settings
                .min_severity
                .map(|s| s.value().to_string())
                .unwrap_or_default(),
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

    /// The form as the server reads the same fields: serde_qs, set as Leptos sets it.
    fn read_by_the_server(fields: &[(&str, &str)]) -> Option<ItsmForm> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        serde_qs::Config::new(5, false)
            .deserialize_str::<crate::api::SaveItsmSettings>(&body)
            .ok()
            .map(|posted| posted.form)
    }

    #[test]
    fn the_form_is_read_from_its_fields_as_the_server_reads_it() {
        let cases: &[&[(&str, &str)]] = &[
            &[],
            &[
                ("form[grouping]", "controls"),
                ("form[scheduler_interval_minutes]", " 15 "),
                ("form[auto_resolve]", "true"),
                ("form[sources_mode]", "chosen"),
                ("form[sources][0]", "prowler & co=1+2 %41 [x]"),
                ("form[sources][3]", "trivy é \"q\""),
                ("form[min_severity]", "high"),
            ],
            &[("form[grouping]", ""), ("form[sources][1]", "")],
            &[("form[auto_resolve]", ""), ("form[grouping]", "controls")],
            &[
                ("form[grouping]", "resources"),
                ("other", "x"),
                ("form[other]", "y"),
            ],
            &[("form[grouping]", "a"), ("form[grouping]", "b")],
            &[("form[sources][0]", "a"), ("form[sources][0]", "b")],
            &[("form[sources]", "a")],
            &[("form[grouping][x]", "a")],
            &[("form[sources][0][1]", "a")],
        ];
        for fields in cases {
            assert_eq!(
                ItsmForm::from_fields(fields.iter().copied()),
                read_by_the_server(fields),
                "{fields:?}"
            );
        }
    }

    fn form(grouping: &str, minutes: &str, auto: Option<&str>) -> ItsmForm {
        ItsmForm {
            grouping: grouping.into(),
            scheduler_interval_minutes: minutes.into(),
            auto_resolve: auto.map(String::from),
            ..ItsmForm::default()
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
                auto_resolve: true,
                sources: None,
                min_severity: None,
            }
        );
        assert_eq!(ItsmForm::from(settings.clone()).validate(), Ok(settings));
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

    #[test]
    fn filters_round_trip_through_the_form() {
        let mut f = form("resources", "60", None);
        f.sources_mode = "chosen".into();
        f.sources = [
            ("3", " trivy "),
            ("0", "prowler"),
            ("5", "trivy"),
            ("7", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        f.min_severity = "high".into();
        let settings = f.validate().unwrap();
        assert_eq!(
            settings.sources,
            Some(vec!["prowler".to_string(), "trivy".to_string()])
        );
        assert_eq!(settings.min_severity, Some(MinSeverity::High));
        assert_eq!(ItsmForm::from(settings.clone()).validate(), Ok(settings));
    }

    #[test]
    fn a_form_without_filters_means_every_source_and_severity() {
        let settings = form("controls", "60", None).validate().unwrap();
        assert_eq!(settings.sources, None);
        assert_eq!(settings.min_severity, None);
    }

    #[test]
    fn chosen_sources_need_at_least_one_and_sane_names() {
        let mut f = form("resources", "60", None);
        f.sources_mode = "chosen".into();
        assert_eq!(
            f.validate().unwrap_err().get("sources"),
            Some("Tick at least one source, or choose All sources.")
        );
        f.sources.insert("0".into(), "x".repeat(201));
        assert!(f.validate().unwrap_err().get("sources").is_some());
        f.sources.insert("0".into(), "a\u{7}b".into());
        assert!(f.validate().unwrap_err().get("sources").is_some());
        f.sources_mode = "some".into();
        assert!(f.validate().unwrap_err().get("sources").is_some());
        let mut g = form("resources", "60", None);
        g.min_severity = "severe".into();
        assert!(g.validate().unwrap_err().get("min_severity").is_some());
    }

    #[test]
    fn changes_to_the_filters_are_described() {
        let before = ItsmSettings::default();
        let after = ItsmSettings {
            sources: Some(vec!["trivy".into()]),
            min_severity: Some(MinSeverity::Medium),
            ..ItsmSettings::default()
        };
        assert_eq!(
            after.describe_changes(&before),
            "changed: sources every source -> only trivy, lowest severity every severity -> Medium and above"
        );
    }
}
