//! The preview: what the next run would do, per group, with its reason. It reads the same
//! snapshot as a run, on the ticket states stored by the last refresh, and decides through
//! the same [`screen::decide`]; it sends nothing to ServiceNow. The settings may be the
//! saved ones or a form's unsaved values (a "what if").

use super::model::{Filters, GroupKey};
use super::planner::{Action, Decision};
use super::{screen, store};
use crate::timestamps::format_unix;
use app::api::{PREVIEW_ROWS, PlanPreview, PreviewRow};
use app::forms::ItsmSettings;
use sqlx::SqlitePool;
use std::collections::{HashMap, HashSet};

/// The preview for `settings` of the instance at `instance_url` (`None`: no connection
/// saved, so no run would do anything), at `now`.
pub async fn preview(
    pool: &SqlitePool,
    instance_url: Option<&str>,
    settings: ItsmSettings,
    now: i64,
) -> anyhow::Result<PlanPreview> {
    let empty = |connected| PlanPreview {
        connected,
        settings: settings.clone(),
        states_read_at: None,
        states_age: None,
        counts: Vec::new(),
        rows: Vec::new(),
        more: 0,
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
    // A create that had no answer is looked up first by the next run; its group waits.
    let waiting: HashSet<GroupKey> = store::pending_intents(pool, instance_url)
        .await?
        .into_iter()
        .map(|intent| intent.key)
        .collect();
    let numbers: HashMap<i64, &str> = snapshot
        .tickets
        .iter()
        .map(|t| (t.id, t.number.as_str()))
        .collect();
    let mut rows: Vec<PreviewRow> = decisions
        .iter()
        .map(|d| row(d, &waiting, &numbers))
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
    Ok(PlanPreview {
        counts,
        rows,
        more,
        states_read_at: read_at.map(format_unix),
        states_age: read_at.map(|at| describe_age(now - at)),
        ..empty(true)
    })
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

fn row(
    decision: &Decision,
    waiting: &HashSet<GroupKey>,
    numbers: &HashMap<i64, &str>,
) -> PreviewRow {
    let ticket = decision
        .ticket()
        .and_then(|id| numbers.get(&id))
        .map(|n| n.to_string());
    let group = decision.key.describe();
    if waiting.contains(&decision.key) {
        return PreviewRow {
            reason: format!(
                "waits: a create for {group} had no answer; the next run looks it up in the instance first"
            ),
            group,
            action: "waits".into(),
            ticket,
        };
    }
    PreviewRow {
        group,
        action: action_of(decision).into(),
        ticket,
        reason: decision.reason.clone(),
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
