//! The planner: from the failing findings, the tracked tickets, the rules and the time, the
//! list of what to do per group (open, note, resolve, nothing), each with its reason in
//! words. No I/O, no clock, no randomness: the same input always gives the same plan, so a
//! preview and a real run agree. The rules are written out in docs/ENGINE.md.

use super::model::{Finding, GroupKey, LatestResults, Member, MemberKey, Rules, TrackedTicket};
use super::screen::Screened;
use super::status_rule::{describe_reached, is_done, reached_at, state_label};
use crate::ingest::Status;
use crate::timestamps::format_unix;
use std::collections::{HashMap, HashSet};

const DAY: i64 = 86_400;

/// What to do for one group.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Open a ticket listing `members`. `supersedes`: the tracked ticket it takes over from
    /// (no longer tracked once the new one exists); `note_superseded`: the old one is still
    /// open and gets a work note naming the new one (the days rule).
    Open {
        members: Vec<Member>,
        supersedes: Option<i64>,
        note_superseded: bool,
    },
    /// One work note saying what changed; `members` is the membership written with it.
    Note {
        ticket: i64,
        added: Vec<MemberKey>,
        gone: Vec<MemberKey>,
        members: Vec<Member>,
    },
    /// Resolve the ticket: every member passes in its source's latest scan.
    Resolve {
        ticket: i64,
        /// The scans that show it: (source, scan id, taken at).
        scans: Vec<(String, i64, i64)>,
    },
    Nothing {
        ticket: Option<i64>,
    },
}

/// One group's decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub key: GroupKey,
    /// Indexes into the planner's `findings` of this group's failing findings that count.
    pub findings: Vec<usize>,
    /// Indexes of this group's failing findings set aside (filters, exceptions).
    pub set_aside: Vec<usize>,
    pub action: Action,
    pub reason: String,
}

impl Decision {
    pub fn ticket(&self) -> Option<i64> {
        match &self.action {
            Action::Open { supersedes, .. } => *supersedes,
            Action::Note { ticket, .. } | Action::Resolve { ticket, .. } => Some(*ticket),
            Action::Nothing { ticket } => *ticket,
        }
    }
}

/// Decides, group by group in key order, what a run does. `findings` are the failing
/// results of the latest scan of every source; `results` what those latest scans say of
/// each tracked ticket's members; `tickets` the tracked tickets. Tickets of the grouping not
/// in use are frozen: they get no decision at all. Every finding counts (no filter, no
/// exception): see [`plan_screened`].
pub fn plan(
    findings: &[Finding],
    results: &LatestResults,
    tickets: &[TrackedTicket],
    rules: &Rules,
    now: i64,
) -> Vec<Decision> {
    plan_screened(findings, &Screened::none(), results, tickets, rules, now)
}

/// [`plan`], with the findings `screened` sets aside (the filters, the exceptions) counted
/// as absent: they open and note nothing. A group whose every finding is set aside and that
/// has no ticket is skipped, with the reason; one with a ticket is decided as if they did
/// not fail, and since their latest result is still a failure they never resolve it.
pub fn plan_screened(
    findings: &[Finding],
    screened: &Screened,
    results: &LatestResults,
    tickets: &[TrackedTicket],
    rules: &Rules,
    now: i64,
) -> Vec<Decision> {
    let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut aside: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, finding) in findings.iter().enumerate() {
        let into = if screened.counts(index) {
            &mut groups
        } else {
            &mut aside
        };
        into.entry(finding.group_id(rules.grouping))
            .or_default()
            .push(index);
    }
    let tracked: HashMap<&str, &TrackedTicket> = tickets
        .iter()
        .filter(|t| t.key.grouping == rules.grouping)
        .map(|t| (t.key.id.as_str(), t))
        .collect();
    let mut ids: Vec<&str> = groups.keys().copied().collect();
    ids.extend(tracked.keys().filter(|id| !groups.contains_key(*id)));
    ids.extend(
        aside
            .keys()
            .filter(|id| !groups.contains_key(*id) && !tracked.contains_key(*id)),
    );
    ids.sort_unstable();
    ids.into_iter()
        .map(|id| {
            let failing = groups.remove(id).unwrap_or_default();
            let set_aside = aside.remove(id).unwrap_or_default();
            let ticket = tracked.get(id).copied();
            let (action, reason) = if failing.is_empty() && ticket.is_none() {
                (
                    Action::Nothing { ticket: None },
                    format!("skipped: {}", describe_aside(screened, &set_aside)),
                )
            } else {
                let (action, reason) = decide(findings, &failing, ticket, results, rules, now);
                if set_aside.is_empty() {
                    (action, reason)
                } else {
                    (
                        action,
                        format!(
                            "{reason}; {} set aside: {}",
                            count(set_aside.len(), "finding"),
                            describe_aside(screened, &set_aside)
                        ),
                    )
                }
            };
            Decision {
                key: GroupKey::new(rules.grouping, id),
                findings: failing,
                set_aside,
                action,
                reason,
            }
        })
        .collect()
}

/// The reason of the first finding set aside, and how many more there are for others.
fn describe_aside(screened: &Screened, set_aside: &[usize]) -> String {
    let mut reasons: Vec<&str> = set_aside.iter().filter_map(|&i| screened.why(i)).collect();
    reasons.sort_unstable();
    reasons.dedup();
    match reasons.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first}; and {} other reasons", rest.len()),
    }
}

fn decide(
    findings: &[Finding],
    failing: &[usize],
    ticket: Option<&TrackedTicket>,
    results: &LatestResults,
    rules: &Rules,
    now: i64,
) -> (Action, String) {
    let Some(ticket) = ticket else {
        // A tracked ticket always exists for a key that has no failing findings.
        return (
            Action::Open {
                members: new_members(findings, failing, None),
                supersedes: None,
                note_superseded: false,
            },
            format!(
                "open: no ticket yet; {}",
                count(failing.len(), "finding fails")
            ),
        );
    };
    let number = &ticket.number;
    if let Some(at) = reached_at(ticket, &rules.duplicate_status) {
        let reached = describe_reached(ticket, at);
        let Some(latest) = failing.iter().map(|&i| findings[i].scanned_at).max() else {
            // Reached but maybe still open (a chosen status below Resolved): it may be resolved.
            return when_nothing_fails(ticket, results, rules);
        };
        if latest > at {
            return (
                Action::Open {
                    members: new_members(findings, failing, None),
                    supersedes: Some(ticket.id),
                    note_superseded: false,
                },
                format!(
                    "open: {number} reached {reached}, failing again in the scan of {}",
                    format_unix(latest)
                ),
            );
        }
        return nothing(
            ticket,
            format!(
                "nothing: {number} reached {reached}; the failing results are from a scan of {}, taken before then",
                format_unix(latest)
            ),
        );
    }
    let chosen = state_label(&rules.duplicate_status);
    let age_limit = i64::from(rules.duplicate_days) * DAY;
    if rules.duplicate_days > 0 && !failing.is_empty() && now - ticket.opened_at > age_limit {
        return (
            Action::Open {
                members: new_members(findings, failing, Some(ticket)),
                supersedes: Some(ticket.id),
                note_superseded: true,
            },
            format!(
                "open: {number} is still {} (below {chosen}) and was opened on {}, more than {} days ago",
                state_label(&ticket.state),
                format_unix(ticket.opened_at),
                rules.duplicate_days
            ),
        );
    }
    if failing.is_empty() {
        return when_nothing_fails(ticket, results, rules);
    }
    let (added, gone, members) = changes(findings, failing, ticket);
    if added.is_empty() && gone.is_empty() {
        return nothing(
            ticket,
            format!(
                "nothing: {number} is {} and lists what fails; no change",
                state_label(&ticket.state)
            ),
        );
    }
    let reason = format!("note on {number}: {}", describe_changes(&added, &gone));
    (
        Action::Note {
            ticket: ticket.id,
            added,
            gone,
            members,
        },
        reason,
    )
}

/// A tracked ticket whose group fails no more: resolve it when it is open, auto-resolve is
/// on and every member passes; else, while it is open, note what went; else leave it.
fn when_nothing_fails(
    ticket: &TrackedTicket,
    results: &LatestResults,
    rules: &Rules,
) -> (Action, String) {
    let number = &ticket.number;
    let not_passing: Vec<String> = ticket
        .members
        .iter()
        .filter_map(|m| match results.get(&m.key) {
            Some(r) if r.status == Status::Pass => None,
            Some(r) => Some(format!(
                "{} is {} in the scan of {}",
                m.key.describe(),
                r.status.as_str(),
                format_unix(r.scanned_at)
            )),
            None => Some(format!(
                "{} is missing from the latest scan of {}",
                m.key.describe(),
                m.key.source
            )),
        })
        .collect();
    let open = !is_done(&ticket.state) && ticket.missing_since.is_none();
    if rules.auto_resolve && open && not_passing.is_empty() && !ticket.members.is_empty() {
        let mut scans: Vec<(String, i64, i64)> = ticket
            .members
            .iter()
            .filter_map(|m| {
                let r = results.get(&m.key)?;
                Some((m.key.source.clone(), r.scan_id, r.scanned_at))
            })
            .collect();
        scans.sort();
        scans.dedup();
        let named: Vec<String> = scans
            .iter()
            .map(|(source, _, at)| format!("{source} of {}", format_unix(*at)))
            .collect();
        return (
            Action::Resolve {
                ticket: ticket.id,
                scans,
            },
            format!(
                "resolve {number}: every finding passes in the latest scans ({})",
                named.join(", ")
            ),
        );
    }
    let gone: Vec<MemberKey> = ticket
        .members
        .iter()
        .filter(|m| m.failing)
        .map(|m| m.key.clone())
        .collect();
    if open && !gone.is_empty() {
        let members = ticket
            .members
            .iter()
            .map(|m| Member {
                failing: false,
                ..m.clone()
            })
            .collect();
        let reason = format!("note on {number}: {}", describe_changes(&[], &gone));
        return (
            Action::Note {
                ticket: ticket.id,
                added: vec![],
                gone,
                members,
            },
            reason,
        );
    }
    let why = if !open {
        format!("it is {}", state_label(&ticket.state))
    } else if !rules.auto_resolve {
        "auto-resolve is off".to_string()
    } else {
        let mut shown: Vec<String> = not_passing.into_iter().take(3).collect();
        shown.sort();
        format!("not resolved: {}", shown.join("; "))
    };
    nothing(
        ticket,
        format!("nothing: no finding of {number} fails now; {why}"),
    )
}

fn nothing(ticket: &TrackedTicket, reason: String) -> (Action, String) {
    (
        Action::Nothing {
            ticket: Some(ticket.id),
        },
        reason,
    )
}

/// The members of a new ticket: the failing findings, with first seen carried over from the
/// ticket it replaces when that listed them.
fn new_members(
    findings: &[Finding],
    failing: &[usize],
    previous: Option<&TrackedTicket>,
) -> Vec<Member> {
    let earlier: HashMap<&MemberKey, i64> = previous
        .map(|t| t.members.iter().map(|m| (&m.key, m.first_seen)).collect())
        .unwrap_or_default();
    failing
        .iter()
        .map(|&i| {
            let finding = &findings[i];
            let key = finding.member_key();
            let first_seen = earlier
                .get(&key)
                .copied()
                .unwrap_or(finding.scanned_at)
                .min(finding.scanned_at);
            Member {
                key,
                first_seen,
                failing: true,
            }
        })
        .collect()
}

/// What differs between the failing findings and what the ticket lists as failing, and the
/// membership once a note says so. Compared on borrowed keys: nothing is cloned unless
/// something changed, which is the common case of a run.
fn changes(
    findings: &[Finding],
    failing: &[usize],
    ticket: &TrackedTicket,
) -> (Vec<MemberKey>, Vec<MemberKey>, Vec<Member>) {
    type Key<'a> = (&'a str, &'a str, &'a str);
    fn of(k: &MemberKey) -> Key<'_> {
        (&k.source, &k.control_id, &k.resource_id)
    }
    fn owned(k: Key<'_>) -> MemberKey {
        MemberKey {
            source: k.0.to_string(),
            control_id: k.1.to_string(),
            resource_id: k.2.to_string(),
        }
    }
    // The common case: the ticket lists exactly what fails. Compared as sorted lists of
    // borrowed keys (keys are unique: one latest scan per source): no hashing, no cloning,
    // and the sorts are linear on the order the store reads them in.
    let mut now_keys: Vec<Key<'_>> = failing
        .iter()
        .map(|&i| {
            let f = &findings[i];
            (
                f.source.as_str(),
                f.control_id.as_str(),
                f.resource_id.as_str(),
            )
        })
        .collect();
    let mut listed_keys: Vec<Key<'_>> = ticket
        .members
        .iter()
        .filter(|m| m.failing)
        .map(|m| of(&m.key))
        .collect();
    now_keys.sort_unstable();
    listed_keys.sort_unstable();
    if now_keys == listed_keys {
        return (Vec::new(), Vec::new(), Vec::new());
    }
    let listed: HashSet<Key<'_>> = listed_keys.into_iter().collect();
    let now_failing: HashMap<Key<'_>, i64> = failing
        .iter()
        .map(|&i| {
            let f = &findings[i];
            (
                (
                    f.source.as_str(),
                    f.control_id.as_str(),
                    f.resource_id.as_str(),
                ),
                f.scanned_at,
            )
        })
        .collect();
    let mut added: Vec<MemberKey> = now_failing
        .keys()
        .filter(|k| !listed.contains(*k))
        .map(|k| owned(*k))
        .collect();
    let mut gone: Vec<MemberKey> = listed
        .iter()
        .filter(|k| !now_failing.contains_key(*k))
        .map(|k| owned(*k))
        .collect();
    if added.is_empty() && gone.is_empty() {
        return (added, gone, Vec::new());
    }
    added.sort();
    gone.sort();
    let mut members: Vec<Member> = ticket
        .members
        .iter()
        .map(|m| Member {
            failing: now_failing.contains_key(&of(&m.key)),
            ..m.clone()
        })
        .collect();
    let known: HashSet<Key<'_>> = ticket.members.iter().map(|m| of(&m.key)).collect();
    for key in &added {
        if !known.contains(&of(key)) {
            members.push(Member {
                key: key.clone(),
                first_seen: now_failing[&of(key)],
                failing: true,
            });
        }
    }
    (added, gone, members)
}

fn describe_changes(added: &[MemberKey], gone: &[MemberKey]) -> String {
    let list = |keys: &[MemberKey]| {
        let mut shown: Vec<String> = keys.iter().take(3).map(MemberKey::describe).collect();
        if keys.len() > 3 {
            shown.push(format!("and {} more", keys.len() - 3));
        }
        shown.join(", ")
    };
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!(
            "{} ({})",
            count(added.len(), "finding fails newly"),
            list(added)
        ));
    }
    if !gone.is_empty() {
        parts.push(format!(
            "{} ({})",
            count(gone.len(), "finding no longer fails"),
            list(gone)
        ));
    }
    parts.join("; ")
}

/// "1 finding fails", "3 findings fail", "2 findings".
fn count(n: usize, singular: &str) -> String {
    if n == 1 {
        return format!("1 {singular}");
    }
    if singular == "finding" {
        return format!("{n} findings");
    }
    let plural = singular
        .replacen("finding ", "findings ", 1)
        .replace(" fails", " fail");
    format!("{n} {plural}")
}

#[cfg(test)]
#[path = "planner_tests.rs"]
mod tests;
