//! What a ticket says: the incident's fields when it is opened, the work notes on a change,
//! the close notes on a resolve. ServiceNow's limits are kept here: `short_description` at
//! most 160 characters, `description` and notes at most 4,000 with at most 50 findings listed,
//! `correlation_id` at most 100.

use super::model::{Finding, GroupKey, Member, MemberKey};
use crate::ingest::Severity;
use crate::timestamps::format_unix;
use app::domain::Grouping;
use serde_json::{Map, Value};
use std::collections::HashMap;

pub const MAX_SHORT_DESCRIPTION: usize = 160;
pub const MAX_DESCRIPTION: usize = 4_000;
pub const MAX_LISTED: usize = 50;
pub const MAX_CORRELATION_ID: usize = 100;
pub const CORRELATION_DISPLAY: &str = "itsm-bridge";

/// Who tickets are for: the connection page's Group SYS ID and User SYS ID.
#[derive(Clone, Debug)]
pub struct Recipients {
    pub assignment_group: String,
    pub caller_id: String,
}

/// `itsm-bridge/{install}/{grouping}/{hash of the key}/{generation}`: names the install, the
/// grouping, the key (hashed: ids can be 2 KB long) and the ticket's generation.
pub fn correlation_id(install_id: &str, key: &GroupKey, generation: i64) -> String {
    let digest = crate::random::sha256(key.id.as_bytes());
    let hash: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let id = format!(
        "itsm-bridge/{install_id}/{}/{hash}/{generation}",
        key.grouping.value()
    );
    truncate(&id, MAX_CORRELATION_ID)
}

/// Urgency and impact (1 High, 2 Medium, 3 Low) from the highest severity in the group.
pub fn urgency_impact(highest: Severity) -> (u8, u8) {
    match highest.0 {
        4 => (1, 1),
        3 => (1, 2),
        2 => (2, 2),
        1 => (3, 2),
        _ => (3, 3),
    }
}

/// The fields of a new incident for a group's failing findings.
pub fn new_incident(
    key: &GroupKey,
    findings: &[&Finding],
    members: &[Member],
    correlation_id: &str,
    to: &Recipients,
) -> Map<String, Value> {
    let highest = findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::UNKNOWN);
    let (urgency, impact) = urgency_impact(highest);
    let mut fields = Map::new();
    let mut put = |name: &str, value: String| {
        fields.insert(name.to_string(), Value::String(value));
    };
    put("short_description", short_description(key, findings));
    put("description", description(key, findings, members));
    put("assignment_group", to.assignment_group.clone());
    put("caller_id", to.caller_id.clone());
    put("urgency", urgency.to_string());
    put("impact", impact.to_string());
    put("correlation_id", correlation_id.to_string());
    put("correlation_display", CORRELATION_DISPLAY.to_string());
    fields
}

/// What failed and where, at most 160 characters.
pub fn short_description(key: &GroupKey, findings: &[&Finding]) -> String {
    let text = match key.grouping {
        Grouping::Resources => {
            // The name a person knows it by, and the id that tells it apart.
            let name = match findings.first() {
                Some(f)
                    if !f.resource_name.trim().is_empty() && f.resource_name != f.resource_id =>
                {
                    format!("{} ({})", f.resource_name, f.resource_id)
                }
                _ => key.id.clone(),
            };
            let controls = plural(
                distinct(findings, |f| &f.control_id),
                "control fails",
                "controls fail",
            );
            format!("{controls} on {name}")
        }
        Grouping::Controls => {
            let title = findings
                .first()
                .map(|f| display_name(&f.control_title, &f.control_id))
                .unwrap_or(&key.id);
            let resources = plural(
                distinct(findings, |f| &f.resource_id),
                "resource",
                "resources",
            );
            format!("{title} fails on {resources}")
        }
    };
    truncate(&text, MAX_SHORT_DESCRIPTION)
}

/// The findings, worst first (control, resource, severity, first and last seen), at most
/// 50 then "and N more", at most 4,000 characters.
pub fn description(key: &GroupKey, findings: &[&Finding], members: &[Member]) -> String {
    let first_seen: HashMap<&MemberKey, i64> =
        members.iter().map(|m| (&m.key, m.first_seen)).collect();
    let mut sorted: Vec<&&Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.control_id.cmp(&b.control_id))
            .then_with(|| a.resource_id.cmp(&b.resource_id))
    });
    let mut sources: Vec<&str> = findings.iter().map(|f| f.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    let header = format!(
        "itsm-bridge found {} failing for {} (sources: {}).\n\n",
        plural(findings.len(), "finding", "findings"),
        key.describe(),
        sources.join(", ")
    );
    let lines = sorted.iter().map(|f| {
        let seen = first_seen
            .get(&f.member_key())
            .copied()
            .unwrap_or(f.scanned_at);
        format!(
            "- [{}] {} ({}) on {} ({}), source {}; first seen {}, last seen {}\n",
            f.severity.name(),
            f.control_id,
            one_line(&f.control_title),
            f.resource_id,
            one_line(&f.resource_type),
            f.source,
            format_unix(seen),
            format_unix(f.scanned_at)
        )
    });
    capped_list(header, lines, findings.len())
}

/// The work note for a content change. `aside`: the gone findings that still fail but are
/// set aside (a filter of the ITSM settings, or an exception), listed apart so that the
/// service desk is not told they were fixed.
pub fn change_note(
    added: &[&Finding],
    gone: &[MemberKey],
    aside: &std::collections::HashSet<MemberKey>,
) -> String {
    let (aside_gone, gone): (Vec<MemberKey>, Vec<MemberKey>) =
        gone.iter().cloned().partition(|k| aside.contains(k));
    let mut note = String::from("itsm-bridge: the findings of this ticket changed.\n");
    if !added.is_empty() {
        note.push_str("\nNow failing:\n");
        for f in added.iter().take(MAX_LISTED) {
            note.push_str(&format!(
                "- [{}] {} ({}) on {}, source {}, scan of {}\n",
                f.severity.name(),
                f.control_id,
                one_line(&f.control_title),
                f.resource_id,
                f.source,
                format_unix(f.scanned_at)
            ));
        }
        if added.len() > MAX_LISTED {
            note.push_str(&format!("and {} more\n", added.len() - MAX_LISTED));
        }
    }
    if !gone.is_empty() {
        note.push_str("\nNo longer failing (passing, or not in the latest scan):\n");
        for key in gone.iter().take(MAX_LISTED) {
            note.push_str(&format!("- {}\n", key.describe()));
        }
        if gone.len() > MAX_LISTED {
            note.push_str(&format!("and {} more\n", gone.len() - MAX_LISTED));
        }
    }
    if !aside_gone.is_empty() {
        note.push_str(
            "\nNo longer followed here (still failing, but set aside by the filters or an exception in itsm-bridge):\n",
        );
        for key in aside_gone.iter().take(MAX_LISTED) {
            note.push_str(&format!("- {}\n", key.describe()));
        }
        if aside_gone.len() > MAX_LISTED {
            note.push_str(&format!("and {} more\n", aside_gone.len() - MAX_LISTED));
        }
    }
    journal_safe(truncate(&note, MAX_DESCRIPTION))
}

/// Text for a journal field (work notes): ServiceNow renders `[code]…[/code]` there as HTML
/// when the instance allows it, so text from a scan must never open or close such a block.
/// A zero-width space after the bracket keeps the words readable and the tag inert.
fn journal_safe(text: String) -> String {
    // ASCII lowercase keeps every byte where it was, so offsets in one are offsets in the other.
    let lower = text.to_ascii_lowercase();
    if !lower.contains("[code]") && !lower.contains("[/code]") {
        return text;
    }
    let mut safe = String::with_capacity(text.len() + 16);
    for (at, ch) in text.char_indices() {
        safe.push(ch);
        if ch == '[' && (lower[at..].starts_with("[code]") || lower[at..].starts_with("[/code]")) {
            safe.push('\u{200B}');
        }
    }
    safe
}

/// The close notes of a resolve, naming the scans that show every finding passing.
pub fn close_notes(scans: &[(String, i64, i64)]) -> String {
    let named: Vec<String> = scans
        .iter()
        .map(|(source, id, at)| format!("{source} (scan {id} of {} UTC)", format_unix(*at)))
        .collect();
    truncate(
        &format!(
            "Resolved by itsm-bridge: every finding of this ticket passes in the latest scans: {}.",
            named.join(", ")
        ),
        MAX_DESCRIPTION,
    )
}

/// The work note on a ticket that the days rule replaced.
pub fn superseded_note(new_number: &str, days: u32) -> String {
    format!(
        "itsm-bridge opened {new_number} for these findings: this ticket is still open more than {} after it was opened. Changes are noted on {new_number} from now on.",
        plural(days as usize, "day", "days")
    )
}

/// The close code to resolve with: "Solution provided" when the instance offers it, else
/// "Solved (Permanently)", else the first it offers.
pub fn close_code(offered: &[String]) -> String {
    ["Solution provided", "Solved (Permanently)"]
        .into_iter()
        .find(|preferred| offered.iter().any(|o| o == preferred))
        .map(str::to_string)
        .or_else(|| offered.first().cloned())
        .unwrap_or_else(|| "Solved (Permanently)".to_string())
}

fn capped_list(mut text: String, lines: impl Iterator<Item = String>, total: usize) -> String {
    let mut listed = 0;
    for line in lines.take(MAX_LISTED) {
        // Room for the "and N more" line.
        if text.chars().count() + line.chars().count() > MAX_DESCRIPTION - 40 {
            break;
        }
        text.push_str(&line);
        listed += 1;
    }
    if listed < total {
        text.push_str(&format!("and {} more\n", total - listed));
    }
    truncate(&text, MAX_DESCRIPTION)
}

/// How many different ids the findings have (one control reported by two sources is one).
fn distinct(findings: &[&Finding], id: impl Fn(&Finding) -> &String) -> usize {
    let mut ids: Vec<&String> = findings.iter().map(|f| id(f)).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

fn display_name<'a>(name: &'a str, id: &'a str) -> &'a str {
    if name.trim().is_empty() { id } else { name }
}

fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate(&flat, 200)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// At most `max` characters, ending in "…" when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(control: &str, resource: &str, severity: i64) -> Finding {
        Finding {
            source: "aws".into(),
            scan_id: 1,
            scanned_at: 1_795_500_000,
            control_id: control.into(),
            control_title: format!("Title of {control}"),
            resource_id: resource.into(),
            resource_name: format!("name-{resource}"),
            resource_type: "vm".into(),
            severity: Severity(severity),
        }
    }

    #[test]
    fn urgency_and_impact_follow_the_highest_severity() {
        let table = [
            (4, (1, 1)),
            (3, (1, 2)),
            (2, (2, 2)),
            (1, (3, 2)),
            (0, (3, 3)),
            (-1, (3, 3)),
        ];
        for (severity, expected) in table {
            assert_eq!(urgency_impact(Severity(severity)), expected, "{severity}");
        }
    }

    #[test]
    fn the_correlation_id_names_install_grouping_key_and_generation_within_100_characters() {
        let key = GroupKey::new(Grouping::Resources, "arn:".repeat(600));
        let id = correlation_id("0123456789abcdef", &key, 12);
        assert!(id.len() <= 100, "{id}");
        assert!(
            id.starts_with("itsm-bridge/0123456789abcdef/resources/"),
            "{id}"
        );
        assert!(id.ends_with("/12"));
        assert_ne!(id, correlation_id("0123456789abcdef", &key, 13));
        let other = GroupKey::new(Grouping::Controls, key.id.clone());
        assert_ne!(id, correlation_id("0123456789abcdef", &other, 12));
    }

    #[test]
    fn the_short_description_says_what_failed_and_where_within_160_characters() {
        let a = finding("c1", "r1", 2);
        let b = finding("c2", "r1", 3);
        let key = GroupKey::new(Grouping::Resources, "r1");
        assert_eq!(
            short_description(&key, &[&a, &b]),
            "2 controls fail on name-r1 (r1)"
        );
        let key = GroupKey::new(Grouping::Controls, "c1");
        assert_eq!(
            short_description(&key, &[&a]),
            "Title of c1 fails on 1 resource"
        );
        let mut long = finding("c1", "r1", 2);
        long.control_title = "x".repeat(500);
        let text = short_description(&key, &[&long]);
        assert_eq!(text.chars().count(), 160);
        assert!(text.ends_with('…'));
    }

    #[test]
    fn the_description_lists_at_most_50_findings_then_and_n_more_within_4000_characters() {
        let many: Vec<Finding> = (0..120)
            .map(|i| finding(&format!("c{i:03}"), "r1", i % 5))
            .collect();
        let refs: Vec<&Finding> = many.iter().collect();
        let key = GroupKey::new(Grouping::Resources, "r1");
        let text = description(&key, &refs, &[]);
        assert!(text.chars().count() <= 4000);
        let listed = text.lines().filter(|l| l.starts_with("- [")).count();
        assert!(listed <= 50);
        assert!(
            text.contains(&format!("and {} more", 120 - listed)),
            "{text}"
        );
        assert!(
            text.lines().nth(2).unwrap().starts_with("- [critical]"),
            "worst first"
        );
        assert!(text.contains("first seen 2026-11-24 06:00:00, last seen 2026-11-24 06:00:00"));
    }

    #[test]
    fn few_findings_are_all_listed_without_and_more() {
        let a = finding("c1", "r1", 2);
        let key = GroupKey::new(Grouping::Resources, "r1");
        let text = description(&key, &[&a], &[]);
        assert!(!text.contains("more"));
        assert!(text.contains("- [medium] c1 (Title of c1) on r1 (vm), source aws"));
    }

    #[test]
    fn a_work_note_never_carries_a_code_tag_from_a_scan() {
        let mut sneaky = finding("[CODE]<a href=x>click</a>[/code]", "r-1", 3);
        sneaky.control_title = "[code]x[/Code]".into();
        let note = change_note(&[&sneaky], &[], &Default::default());
        let lower = note.to_lowercase();
        assert!(
            !lower.contains("[code]") && !lower.contains("[/code]"),
            "{note}"
        );
        assert!(
            note.contains("<a href=x>click</a>"),
            "the words stay readable: {note}"
        );
    }

    #[test]
    fn the_close_code_prefers_solution_provided_then_solved_permanently_then_the_first() {
        let offered = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            close_code(&offered(&["Solved (Permanently)", "Solution provided"])),
            "Solution provided"
        );
        assert_eq!(
            close_code(&offered(&["Other", "Solved (Permanently)"])),
            "Solved (Permanently)"
        );
        assert_eq!(close_code(&offered(&["Fixed", "Other"])), "Fixed");
        assert_eq!(close_code(&[]), "Solved (Permanently)");
    }
}
