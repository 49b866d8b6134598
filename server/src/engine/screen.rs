//! The screen: which failing findings count, by the filters of the ITSM settings page and
//! the exceptions that hold. A finding set aside counts as absent for opening and noting,
//! and never resolves a ticket (its latest result is still a failure). [`decide`] is the
//! one place where a run and a preview turn their snapshot into decisions, so the two
//! cannot differ. The rules are written out in docs/ENGINE.md.

use super::model::{Exception, Filters, Finding, LatestResults, Rules, TrackedTicket};
use super::planner::{self, Decision};
use crate::ingest::Severity;
use std::collections::HashMap;

/// Why each finding is set aside, if it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Screened {
    /// One per finding, or empty when every finding counts.
    verdicts: Vec<Option<u32>>,
    /// The reasons verdicts point at, in words.
    reasons: Vec<String>,
}

impl Screened {
    /// Every finding counts.
    pub fn none() -> Self {
        Self::default()
    }

    /// Why finding `index` is set aside; `None` when it counts.
    pub fn why(&self, index: usize) -> Option<&str> {
        let reason = (*self.verdicts.get(index)?)?;
        Some(&self.reasons[reason as usize])
    }

    pub fn counts(&self, index: usize) -> bool {
        self.why(index).is_none()
    }
}

/// What a finding may be set aside for; one reason in words per distinct cause.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Cause<'a> {
    Source(&'a str),
    Severity(i64),
    Exception(usize),
}

/// Sets aside the findings the filters leave out and those an exception holding at `now`
/// covers. An exception wins over the filters in the reason (it is the more specific), and
/// of two exceptions the one for a (control, resource) pair, then the control's, then the
/// resource's, then the lower id.
pub fn screen(
    findings: &[Finding],
    filters: &Filters,
    exceptions: &[Exception],
    now: i64,
) -> Screened {
    let holding: Vec<(usize, &Exception)> = exceptions
        .iter()
        .enumerate()
        .filter(|(_, e)| e.holds_at(now))
        .collect();
    if filters.is_open() && holding.is_empty() {
        return Screened::none();
    }
    let mut pairs: HashMap<(&str, &str), usize> = HashMap::new();
    let mut controls: HashMap<&str, usize> = HashMap::new();
    let mut resources: HashMap<&str, usize> = HashMap::new();
    let mut by_id = holding.clone();
    by_id.sort_by_key(|(_, e)| std::cmp::Reverse(e.id));
    for (i, e) in by_id {
        // Lower ids last, so they win.
        match (e.control_id.as_deref(), e.resource_id.as_deref()) {
            (Some(c), Some(r)) => {
                pairs.insert((c, r), i);
            }
            (Some(c), None) => {
                controls.insert(c, i);
            }
            (None, Some(r)) => {
                resources.insert(r, i);
            }
            (None, None) => {}
        }
    }
    let mut causes: HashMap<Cause<'_>, u32> = HashMap::new();
    let mut reasons: Vec<String> = Vec::new();
    let verdicts = findings
        .iter()
        .map(|f| {
            let cause = cause_of(f, filters, &pairs, &controls, &resources)?;
            let next = reasons.len() as u32;
            let index = *causes.entry(cause.clone()).or_insert_with(|| {
                reasons.push(describe(&cause, filters, exceptions));
                next
            });
            Some(index)
        })
        .collect();
    Screened { verdicts, reasons }
}

fn cause_of<'a>(
    f: &'a Finding,
    filters: &Filters,
    pairs: &HashMap<(&str, &str), usize>,
    controls: &HashMap<&str, usize>,
    resources: &HashMap<&str, usize>,
) -> Option<Cause<'a>> {
    let excepted = pairs
        .get(&(f.control_id.as_str(), f.resource_id.as_str()))
        .or_else(|| controls.get(f.control_id.as_str()))
        .or_else(|| resources.get(f.resource_id.as_str()));
    if let Some(&i) = excepted {
        return Some(Cause::Exception(i));
    }
    if let Some(sources) = &filters.sources
        && !sources.contains(&f.source)
    {
        return Some(Cause::Source(&f.source));
    }
    if let Some(floor) = filters.min_severity
        && f.severity != Severity::UNKNOWN
        && f.severity.0 < floor.rank()
    {
        return Some(Cause::Severity(f.severity.0));
    }
    None
}

fn describe(cause: &Cause<'_>, filters: &Filters, exceptions: &[Exception]) -> String {
    match cause {
        Cause::Exception(i) => exceptions[*i].describe(),
        Cause::Source(source) => {
            format!("source {source} is not among the sources chosen on ITSM settings")
        }
        Cause::Severity(rank) => format!(
            "severity {} is below the lowest chosen on ITSM settings ({})",
            Severity(*rank).name(),
            filters.min_severity.map_or("", |s| s.label())
        ),
    }
}

/// The decisions of a run, or of a preview: the findings screened, then planned.
pub fn decide(
    findings: &[Finding],
    results: &LatestResults,
    tickets: &[TrackedTicket],
    rules: &Rules,
    filters: &Filters,
    exceptions: &[Exception],
    now: i64,
) -> Vec<Decision> {
    let screened = screen(findings, filters, exceptions, now);
    planner::plan_screened(findings, &screened, results, tickets, rules, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::{CivilDate, MinSeverity};
    use app::forms::ExceptionKind;

    fn finding(source: &str, control: &str, resource: &str, severity: i64) -> Finding {
        Finding {
            source: source.into(),
            scan_id: 1,
            scanned_at: 100,
            control_id: control.into(),
            control_title: control.into(),
            resource_id: resource.into(),
            resource_name: resource.into(),
            resource_type: "vm".into(),
            severity: Severity(severity),
        }
    }

    fn exception(id: i64, control: Option<&str>, resource: Option<&str>, until: i64) -> Exception {
        Exception {
            id,
            kind: ExceptionKind::AcceptedRisk,
            control_id: control.map(String::from),
            resource_id: resource.map(String::from),
            reason: format!("reason {id}"),
            created_by: "admin".into(),
            expires_on: CivilDate::of_unix(until - 1),
            expires_at: until,
        }
    }

    #[test]
    fn without_filters_or_exceptions_everything_counts() {
        let findings = vec![finding("a", "C1", "r1", 0)];
        let screened = screen(&findings, &Filters::default(), &[], 0);
        assert!(screened.counts(0));
    }

    #[test]
    fn unknown_severity_always_passes_the_floor() {
        let findings = vec![
            finding("a", "C1", "r1", -1),
            finding("a", "C1", "r2", 2),
            finding("a", "C1", "r3", 3),
        ];
        let filters = Filters {
            min_severity: Some(MinSeverity::High),
            ..Filters::default()
        };
        let screened = screen(&findings, &filters, &[], 0);
        assert!(screened.counts(0));
        assert_eq!(
            screened.why(1),
            Some("severity medium is below the lowest chosen on ITSM settings (High and above)")
        );
        assert!(screened.counts(2));
    }

    #[test]
    fn sources_not_chosen_are_set_aside() {
        let findings = vec![finding("a", "C1", "r1", 0), finding("b", "C1", "r1", 0)];
        let filters = Filters {
            sources: Some(["b".to_string()].into()),
            ..Filters::default()
        };
        let screened = screen(&findings, &filters, &[], 0);
        assert!(screened.why(0).unwrap().contains("source a"));
        assert!(screened.counts(1));
    }

    #[test]
    fn an_exception_covers_its_scope_until_it_expires() {
        let findings = vec![
            finding("a", "C1", "r1", 0),
            finding("a", "C1", "r2", 0),
            finding("a", "C2", "r1", 0),
            finding("a", "C2", "r2", 0),
        ];
        let pair = [exception(1, Some("C1"), Some("r1"), 1000)];
        let s = screen(&findings, &Filters::default(), &pair, 999);
        assert_eq!(
            (0..4).map(|i| s.counts(i)).collect::<Vec<_>>(),
            vec![false, true, true, true]
        );
        assert!(
            s.why(0)
                .unwrap()
                .starts_with("exception by admin until 1970-01-01: reason 1")
        );
        let control = [exception(2, Some("C2"), None, 1000)];
        let s = screen(&findings, &Filters::default(), &control, 0);
        assert_eq!(
            (0..4).map(|i| s.counts(i)).collect::<Vec<_>>(),
            vec![true, true, false, false]
        );
        let resource = [exception(3, None, Some("r2"), 1000)];
        let s = screen(&findings, &Filters::default(), &resource, 0);
        assert_eq!(
            (0..4).map(|i| s.counts(i)).collect::<Vec<_>>(),
            vec![true, false, true, false]
        );
        // At its end it holds no more: the finding counts again.
        let s = screen(&findings, &Filters::default(), &pair, 1000);
        assert!(s.counts(0));
    }

    #[test]
    fn the_most_specific_exception_names_the_reason() {
        let findings = vec![finding("a", "C1", "r1", 0)];
        let both = [
            exception(1, Some("C1"), None, 1000),
            exception(2, Some("C1"), Some("r1"), 1000),
        ];
        let s = screen(&findings, &Filters::default(), &both, 0);
        assert!(s.why(0).unwrap().ends_with("reason 2"));
    }
}
