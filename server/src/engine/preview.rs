//! The preview: what the next run would do, per group, with its reason. It reads the same
//! snapshot as a run, on the ticket states stored by the last refresh, and decides through
//! the same [`screen::decide`]; it sends nothing to ServiceNow. The settings may be the
//! saved ones or a form's unsaved values (a "what if"). `preview_cache.rs` keeps what it
//! works out while nothing it depends on changes.

use super::model::{Filters, GroupKey};
use super::planner::{Action, Decision};
use super::store::PendingIntent;
use super::{screen, store};
use crate::timestamps::format_unix;
use app::api::{PREVIEW_ROWS, PlanPreview, PreviewRow};
use app::forms::ItsmSettings;
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::time::Duration;

/// How long a create without an answer may still land on the instance: its group waits
/// that long before the run drops the intent and decides again (twice the request
/// timeout, at least a minute: the instance cuts a request off after 60 s).
pub fn intent_grace(request_timeout: Duration) -> i64 {
    (2 * request_timeout.as_secs()).max(60) as i64
}

/// A preview as worked out, with what it needs to stay true later.
#[derive(Clone, Debug)]
pub struct Worked {
    pub preview: PlanPreview,
    /// When the states were last read (Unix seconds): the age is said from it at each look.
    pub states_read_at: Option<i64>,
    /// The first moment the same data gives other decisions by the time alone (an
    /// exception ends, a ticket passes the age limit, a pending create's wait is over).
    pub valid_until: Option<i64>,
}

impl Worked {
    /// The preview as seen at `now`: the states' age counted to then.
    pub fn at(&self, now: i64) -> PlanPreview {
        PlanPreview {
            states_age: self.states_read_at.map(|at| describe_age(now - at)),
            ..self.preview.clone()
        }
    }
}

/// The preview for `settings` of the instance at `instance_url` (`None`: no connection
/// saved, so no run would do anything), at `now`; `grace` as [`intent_grace`].
pub async fn preview(
    pool: &SqlitePool,
    instance_url: Option<&str>,
    settings: ItsmSettings,
    now: i64,
    grace: i64,
) -> anyhow::Result<Worked> {
    let empty = |connected| Worked {
        preview: PlanPreview {
            connected,
            settings: settings.clone(),
            states_read_at: None,
            states_age: None,
            run_would_fail: None,
            counts: Vec::new(),
            rows: Vec::new(),
            more: 0,
        },
        states_read_at: None,
        valid_until: None,
    };
    let Some(instance_url) = instance_url else {
        return Ok(empty(false));
    };
    let snapshot = store::snapshot(pool, instance_url).await?;
    let Some(mut rules) = snapshot.rules.clone() else {
        return Ok(empty(false));
    };
    rules.grouping = settings.grouping;
    rules.auto_resolve = settings.auto_resolve;
    let filters = Filters::from_settings(&settings);
    let decisions = screen::decide(
        &snapshot.findings,
        &snapshot.results,
        &snapshot.tickets,
        &rules,
        &filters,
        &snapshot.exceptions,
        now,
    );
    // A create that had no answer is looked up first by the next run.
    let mut intents: HashMap<GroupKey, Vec<PendingIntent>> = HashMap::new();
    for intent in store::pending_intents(pool, instance_url).await? {
        intents.entry(intent.key.clone()).or_default().push(intent);
    }
    let numbers: HashMap<i64, &str> = snapshot
        .tickets
        .iter()
        .map(|t| (t.id, t.number.as_str()))
        .collect();
    let mut rows: Vec<PreviewRow> = decisions
        .iter()
        .map(|d| {
            let pending = intents.get(&d.key).map_or(&[][..], Vec::as_slice);
            row(d, pending, now, grace, &numbers)
        })
        .collect();
    rows.sort_by_key(|r| rank(&r.action));
    let mut counts: Vec<(String, usize)> = Vec::new();
    for r in &rows {
        match counts.last_mut() {
            Some((action, n)) if *action == r.action => *n += 1,
            _ => counts.push((r.action.clone(), 1)),
        }
    }
    let more = rows.len().saturating_sub(PREVIEW_ROWS);
    rows.truncate(PREVIEW_ROWS);
    let read_at = store::states_read_at(pool, instance_url, settings.grouping).await?;

    // The days rule decides otherwise the second after a ticket passes the age limit.
    let age_limit = i64::from(rules.duplicate_days) * 86_400;
    let age_limits = snapshot
        .tickets
        .iter()
        .filter(|_| rules.duplicate_days > 0)
        .map(|t| t.opened_at + age_limit + 1);
    let valid_until = snapshot
        .exceptions
        .iter()
        .map(|e| e.expires_at)
        .chain(age_limits)
        .chain(intents.values().flatten().map(|i| i.created_at + grace))
        .filter(|&at| at > now)
        .min();
    let mut worked = empty(true);
    worked.preview.counts = counts;
    worked.preview.rows = rows;
    worked.preview.more = more;
    worked.preview.states_read_at = read_at.map(format_unix);
    worked.states_read_at = read_at;
    worked.valid_until = valid_until;
    worked.preview.states_age = read_at.map(|at| describe_age(now - at));
    Ok(worked)
}

/// What a decision comes to for the page.
pub fn action_of(decision: &Decision) -> &'static str {
    match &decision.action {
        Action::Open { .. } => "open",
        Action::Note { .. } => "note",
        Action::Resolve { .. } => "resolve",
        Action::Nothing { ticket: None } if decision.findings.is_empty() => "skipped",
        Action::Nothing { .. } => "nothing",
    }
}

/// One group's row. A group with creates that had no answer (`pending`) is decided as the
/// run will: the run looks each ticket up by its correlation_id first and adopts it if the
/// create reached ServiceNow; if not, while a create may still land (`grace`), a group
/// that would be acted on waits, and after that it is decided again.
fn row(
    decision: &Decision,
    pending: &[PendingIntent],
    now: i64,
    grace: i64,
    numbers: &HashMap<i64, &str>,
) -> PreviewRow {
    let ticket = decision
        .ticket()
        .and_then(|id| numbers.get(&id))
        .map(|n| n.to_string());
    let group = decision.key.describe();
    let action = action_of(decision);
    if pending.is_empty() {
        return PreviewRow {
            group,
            action: action.into(),
            ticket,
            reason: decision.reason.clone(),
        };
    }
    let acts = !matches!(decision.action, Action::Nothing { .. });
    let youngest = pending
        .iter()
        .filter(|i| now - i.created_at < grace)
        .max_by_key(|i| i.created_at);
    if let (true, Some(intent)) = (acts, youngest) {
        return PreviewRow {
            reason: format!(
                "waits: a create for {group} had no answer; the next run looks it up by correlation_id {} and adopts the ticket if it reached ServiceNow, else waits until {} UTC, as the create may still land",
                intent.correlation_id,
                format_unix(intent.created_at + grace)
            ),
            group,
            action: "waits".into(),
            ticket,
        };
    }
    let ids: Vec<&str> = pending.iter().map(|i| i.correlation_id.as_str()).collect();
    let id = ids.join(" or ");
    PreviewRow {
        reason: format!(
            "{action} (or adopt the ticket of the earlier attempt, correlation_id {id}, if it reached ServiceNow: the next run looks it up first): {}",
            decision.reason
        ),
        group,
        action: action.into(),
        ticket,
    }
}

/// The order of the list: what would change something first.
fn rank(action: &str) -> u8 {
    match action {
        "open" => 0,
        "note" => 1,
        "resolve" => 2,
        "waits" => 3,
        "skipped" => 4,
        _ => 5,
    }
}

/// "40 seconds", "12 minutes", "3 hours", "2 days".
pub fn describe_age(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (n, unit) = match seconds {
        0..120 => (seconds, "second"),
        120..7200 => (seconds / 60, "minute"),
        7200..172_800 => (seconds / 3600, "hour"),
        _ => (seconds / 86_400, "day"),
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::describe_age;

    #[test]
    fn ages_read_at_each_scale() {
        assert_eq!(describe_age(1), "1 second");
        assert_eq!(describe_age(119), "119 seconds");
        assert_eq!(describe_age(720), "12 minutes");
        assert_eq!(describe_age(7200), "2 hours");
        assert_eq!(describe_age(3 * 86_400), "3 days");
        assert_eq!(describe_age(-5), "0 seconds");
    }
}
