//! The planner, rule by rule (docs/ENGINE.md), then properties over random inputs.

use super::*;
use crate::engine::model::LatestResult;
use crate::ingest::Severity;
use app::domain::Grouping;

const HOUR: i64 = 3_600;
/// Tuesday 2026-11-24 06:00 UTC, and the days after it.
const TUESDAY: i64 = 1_795_500_000;
const WEDNESDAY: i64 = TUESDAY + 24 * HOUR;
const THURSDAY: i64 = TUESDAY + 48 * HOUR;
const FRIDAY: i64 = TUESDAY + 72 * HOUR;

fn finding(source: &str, control: &str, resource: &str, scanned_at: i64) -> Finding {
    Finding {
        source: source.into(),
        scan_id: scanned_at,
        scanned_at,
        control_id: control.into(),
        control_title: format!("{control} title"),
        resource_id: resource.into(),
        resource_name: resource.into(),
        resource_type: "vm".into(),
        severity: Severity(3),
    }
}

fn key(source: &str, control: &str, resource: &str) -> MemberKey {
    MemberKey {
        source: source.into(),
        control_id: control.into(),
        resource_id: resource.into(),
    }
}

fn member(source: &str, control: &str, resource: &str, first_seen: i64) -> Member {
    Member {
        key: key(source, control, resource),
        first_seen,
        failing: true,
    }
}

fn ticket(id: i64, resource: &str, state: &str, members: Vec<Member>) -> TrackedTicket {
    TrackedTicket {
        id,
        key: GroupKey::new(Grouping::Resources, resource),
        generation: 1,
        number: format!("INC{:07}", 10_000 + id),
        sys_id: format!("{id:032x}"),
        state: state.into(),
        state_seen_at: TUESDAY,
        opened_at: TUESDAY,
        resolved_at: None,
        closed_at: None,
        missing_since: None,
        members,
    }
}

fn rules() -> Rules {
    Rules {
        grouping: Grouping::Resources,
        duplicate_status: "6".into(),
        duplicate_days: 0,
        auto_resolve: false,
    }
}

fn passing(members: &[(&str, &str, &str)], scanned_at: i64) -> LatestResults {
    members
        .iter()
        .map(|(s, c, r)| {
            (
                key(s, c, r),
                LatestResult {
                    status: Status::Pass,
                    scan_id: scanned_at,
                    scanned_at,
                },
            )
        })
        .collect()
}

fn only(decisions: Vec<Decision>) -> Decision {
    assert_eq!(decisions.len(), 1, "{decisions:#?}");
    decisions.into_iter().next().unwrap()
}

/// The filters and exceptions (docs/ENGINE.md, "Which findings count").
mod set_aside {
    use super::*;
    use crate::engine::model::{Exception, Filters};
    use crate::engine::screen::decide;
    use app::domain::{CivilDate, MinSeverity};
    use app::forms::ExceptionKind;

    fn exception_on(resource: &str) -> Exception {
        Exception {
            id: 1,
            kind: ExceptionKind::FalsePositive,
            control_id: None,
            resource_id: Some(resource.into()),
            reason: "test host".into(),
            created_by: "admin".into(),
            expires_on: CivilDate::of_unix(FRIDAY),
            expires_at: CivilDate::of_unix(FRIDAY).plus_days(1).start_unix(),
        }
    }

    #[test]
    fn a_group_set_aside_without_a_ticket_is_skipped_with_the_reason() {
        let findings = vec![finding("aws", "c1", "r1", TUESDAY)];
        let d = only(decide(
            &findings,
            &LatestResults::new(),
            &[],
            &rules(),
            &Filters::default(),
            &[exception_on("r1")],
            WEDNESDAY,
        ));
        assert_eq!(d.action, Action::Nothing { ticket: None });
        assert_eq!(
            d.reason,
            "skipped: exception by admin until 2026-11-27: test host"
        );
        assert!(d.findings.is_empty());
        assert_eq!(d.set_aside, vec![0]);
    }

    #[test]
    fn once_the_exception_expires_the_finding_opens_a_ticket() {
        let findings = vec![finding("aws", "c1", "r1", TUESDAY)];
        let after = CivilDate::of_unix(FRIDAY).plus_days(1).start_unix();
        let d = only(decide(
            &findings,
            &LatestResults::new(),
            &[],
            &rules(),
            &Filters::default(),
            &[exception_on("r1")],
            after,
        ));
        assert!(matches!(d.action, Action::Open { .. }), "{d:?}");
    }

    #[test]
    fn a_listed_finding_set_aside_is_noted_as_gone_and_never_resolves() {
        let t = ticket(1, "r1", "2", vec![member("aws", "c1", "r1", TUESDAY)]);
        let findings = vec![finding("aws", "c1", "r1", THURSDAY)];
        let mut results = LatestResults::new();
        results.insert(
            key("aws", "c1", "r1"),
            LatestResult {
                status: Status::Fail,
                scan_id: THURSDAY,
                scanned_at: THURSDAY,
            },
        );
        let on = Rules {
            auto_resolve: true,
            ..rules()
        };
        let low_only = Filters {
            min_severity: Some(MinSeverity::Critical),
            ..Filters::default()
        };
        let d = only(decide(
            &findings,
            &results,
            std::slice::from_ref(&t),
            &on,
            &low_only,
            &[],
            FRIDAY,
        ));
        let Action::Note { gone, .. } = &d.action else {
            panic!("{d:?}")
        };
        assert_eq!(gone, &vec![key("aws", "c1", "r1")]);
        assert!(
            d.reason.contains("1 finding set aside: severity high"),
            "{}",
            d.reason
        );
        // Once noted, the ticket lists nothing failing: still never resolved.
        let mut noted = t.clone();
        noted.members[0].failing = false;
        let d = only(decide(
            &findings,
            &results,
            std::slice::from_ref(&noted),
            &on,
            &low_only,
            &[],
            FRIDAY,
        ));
        assert_eq!(
            d.action,
            Action::Nothing { ticket: Some(1) },
            "{}",
            d.reason
        );
    }

    #[test]
    fn with_nothing_set_aside_decide_is_the_plain_plan() {
        let findings = vec![
            finding("aws", "c1", "r1", TUESDAY),
            finding("k8s", "c2", "r2", TUESDAY),
        ];
        assert_eq!(
            decide(
                &findings,
                &LatestResults::new(),
                &[],
                &rules(),
                &Filters::default(),
                &[],
                WEDNESDAY
            ),
            plan(&findings, &LatestResults::new(), &[], &rules(), WEDNESDAY)
        );
    }
}

#[test]
fn a_failing_group_without_a_ticket_gets_one() {
    let findings = vec![
        finding("aws", "c1", "r1", TUESDAY),
        finding("aws", "c2", "r1", TUESDAY),
    ];
    let d = only(plan(
        &findings,
        &LatestResults::new(),
        &[],
        &rules(),
        TUESDAY,
    ));
    assert_eq!(d.key, GroupKey::new(Grouping::Resources, "r1"));
    assert_eq!(d.findings, vec![0, 1]);
    let Action::Open {
        members,
        supersedes,
        note_superseded,
    } = d.action
    else {
        panic!("{:?}", d.action)
    };
    assert_eq!(members.len(), 2);
    assert_eq!(supersedes, None);
    assert!(!note_superseded);
    assert!(
        d.reason.starts_with("open: no ticket yet; 2 findings fail"),
        "{}",
        d.reason
    );
}

#[test]
fn by_resources_one_group_per_resource_across_sources() {
    let findings = vec![
        finding("aws", "c1", "r1", TUESDAY),
        finding("trivy", "c9", "r1", TUESDAY),
        finding("aws", "c1", "r2", TUESDAY),
    ];
    let decisions = plan(&findings, &LatestResults::new(), &[], &rules(), TUESDAY);
    let keys: Vec<&str> = decisions.iter().map(|d| d.key.id.as_str()).collect();
    assert_eq!(keys, ["r1", "r2"]);
    assert_eq!(decisions[0].findings, vec![0, 1]);
}

#[test]
fn by_controls_one_group_per_control_listing_every_resource() {
    let findings = vec![
        finding("aws", "c1", "r1", TUESDAY),
        finding("aws", "c1", "r2", TUESDAY),
        finding("aws", "c2", "r2", TUESDAY),
    ];
    let rules = Rules {
        grouping: Grouping::Controls,
        ..rules()
    };
    let decisions = plan(&findings, &LatestResults::new(), &[], &rules, TUESDAY);
    let keys: Vec<&GroupKey> = decisions.iter().map(|d| &d.key).collect();
    assert_eq!(
        keys,
        [
            &GroupKey::new(Grouping::Controls, "c1"),
            &GroupKey::new(Grouping::Controls, "c2")
        ]
    );
    assert_eq!(decisions[0].findings, vec![0, 1]);
}

/// The seed's story: flagged on Tuesday with a ticket open, fixed and Resolved on Thursday,
/// flagged again on Friday: a new ticket. The same flag from a scan taken on Wednesday: none.
#[test]
fn the_seeds_story_a_new_ticket_only_for_a_failure_seen_after_the_resolve() {
    let mut resolved = ticket(1, "r1", "6", vec![member("aws", "c1", "r1", TUESDAY)]);
    resolved.resolved_at = Some(THURSDAY);
    resolved.state_seen_at = THURSDAY + HOUR;

    let friday = vec![finding("aws", "c1", "r1", FRIDAY)];
    let d = only(plan(
        &friday,
        &LatestResults::new(),
        &[resolved.clone()],
        &rules(),
        FRIDAY,
    ));
    assert!(
        matches!(
            d.action,
            Action::Open {
                supersedes: Some(1),
                note_superseded: false,
                ..
            }
        ),
        "{:?}",
        d.action
    );
    assert_eq!(
        d.reason,
        "open: INC0010001 reached Resolved on 2026-11-26 06:00:00, failing again in the scan of 2026-11-27 06:00:00"
    );

    let from_wednesday = vec![finding("aws", "c1", "r1", WEDNESDAY)];
    let d = only(plan(
        &from_wednesday,
        &LatestResults::new(),
        &[resolved],
        &rules(),
        FRIDAY,
    ));
    assert_eq!(d.action, Action::Nothing { ticket: Some(1) });
    assert!(d.reason.contains("taken before then"), "{}", d.reason);
}

#[test]
fn a_ticket_below_the_chosen_status_gets_no_duplicate() {
    for state in ["1", "2", "3"] {
        let open = ticket(1, "r1", state, vec![member("aws", "c1", "r1", TUESDAY)]);
        let findings = vec![finding("aws", "c1", "r1", FRIDAY)];
        let d = only(plan(
            &findings,
            &LatestResults::new(),
            &[open],
            &rules(),
            FRIDAY,
        ));
        assert_eq!(
            d.action,
            Action::Nothing { ticket: Some(1) },
            "state {state}"
        );
        assert!(d.reason.contains("no change"), "{}", d.reason);
    }
}

#[test]
fn the_chosen_status_decides_which_states_allow_a_new_ticket() {
    let findings = vec![finding("aws", "c1", "r1", FRIDAY)];
    let mut on_hold = ticket(1, "r1", "3", vec![member("aws", "c1", "r1", TUESDAY)]);
    on_hold.state_seen_at = WEDNESDAY;
    let at_on_hold = Rules {
        duplicate_status: "3".into(),
        ..rules()
    };
    let d = only(plan(
        &findings,
        &LatestResults::new(),
        &[on_hold.clone()],
        &at_on_hold,
        FRIDAY,
    ));
    assert!(matches!(d.action, Action::Open { .. }), "{:?}", d.action);
    let at_closed = Rules {
        duplicate_status: "7".into(),
        ..rules()
    };
    let mut resolved = on_hold;
    resolved.state = "6".into();
    resolved.resolved_at = Some(WEDNESDAY);
    let d = only(plan(
        &findings,
        &LatestResults::new(),
        &[resolved.clone()],
        &at_closed,
        FRIDAY,
    ));
    assert!(matches!(d.action, Action::Nothing { .. }), "{:?}", d.action);
    resolved.state = "8".into();
    let d = only(plan(
        &findings,
        &LatestResults::new(),
        &[resolved],
        &at_closed,
        FRIDAY,
    ));
    assert!(
        matches!(d.action, Action::Open { .. }),
        "canceled counts as closed"
    );
}

#[test]
fn a_custom_chosen_status_is_reached_by_itself_and_other_custom_states_are_open() {
    let findings = vec![finding("aws", "c1", "r1", FRIDAY)];
    let custom = Rules {
        duplicate_status: "101".into(),
        ..rules()
    };
    let mut t = ticket(1, "r1", "101", vec![member("aws", "c1", "r1", TUESDAY)]);
    t.state_seen_at = WEDNESDAY;
    let d = only(plan(
        &findings,
        &LatestResults::new(),
        &[t.clone()],
        &custom,
        FRIDAY,
    ));
    assert!(matches!(d.action, Action::Open { .. }), "{:?}", d.action);
    t.state = "102".into();
    let d = only(plan(
        &findings,
        &LatestResults::new(),
        &[t],
        &custom,
        FRIDAY,
    ));
    assert!(matches!(d.action, Action::Nothing { .. }), "{:?}", d.action);
}

#[test]
fn a_ticket_no_longer_found_counts_as_closed_from_the_refresh_that_missed_it() {
    let mut gone = ticket(1, "r1", "2", vec![member("aws", "c1", "r1", TUESDAY)]);
    gone.missing_since = Some(THURSDAY);
    let later = vec![finding("aws", "c1", "r1", FRIDAY)];
    let d = only(plan(
        &later,
        &LatestResults::new(),
        &[gone.clone()],
        &rules(),
        FRIDAY,
    ));
    assert!(matches!(
        d.action,
        Action::Open {
            supersedes: Some(1),
            ..
        }
    ));
    let earlier = vec![finding("aws", "c1", "r1", WEDNESDAY)];
    let d = only(plan(
        &earlier,
        &LatestResults::new(),
        &[gone],
        &rules(),
        FRIDAY,
    ));
    assert!(matches!(d.action, Action::Nothing { .. }));
}

#[test]
fn a_ticket_open_longer_than_the_days_gets_a_successor_and_a_note() {
    let old = ticket(
        1,
        "r1",
        "2",
        vec![member("aws", "c1", "r1", TUESDAY - 10 * HOUR)],
    );
    let findings = vec![finding("aws", "c1", "r1", FRIDAY)];
    let two_days = Rules {
        duplicate_days: 2,
        ..rules()
    };
    let d = only(plan(
        &findings,
        &LatestResults::new(),
        std::slice::from_ref(&old),
        &two_days,
        FRIDAY,
    ));
    let Action::Open {
        members,
        supersedes,
        note_superseded,
    } = d.action
    else {
        panic!("{:?}", d.action)
    };
    assert_eq!((supersedes, note_superseded), (Some(1), true));
    assert_eq!(
        members[0].first_seen,
        TUESDAY - 10 * HOUR,
        "first seen carries over"
    );
    assert!(d.reason.contains("more than 2 days ago"), "{}", d.reason);

    let four_days = Rules {
        duplicate_days: 4,
        ..rules()
    };
    let d = only(plan(
        &findings,
        &LatestResults::new(),
        std::slice::from_ref(&old),
        &four_days,
        FRIDAY,
    ));
    assert!(matches!(d.action, Action::Nothing { .. }));
    let off = rules();
    let d = only(plan(
        &findings,
        &LatestResults::new(),
        &[old],
        &off,
        FRIDAY + 9_999 * 86_400,
    ));
    assert!(matches!(d.action, Action::Nothing { .. }), "0 days is off");
}

#[test]
fn a_content_change_gives_one_note_saying_what_changed() {
    let t = ticket(
        1,
        "r1",
        "2",
        vec![
            member("aws", "c1", "r1", TUESDAY),
            member("aws", "c2", "r1", TUESDAY),
        ],
    );
    let findings = vec![
        finding("aws", "c1", "r1", FRIDAY),
        finding("aws", "c3", "r1", FRIDAY),
    ];
    let d = only(plan(
        &findings,
        &LatestResults::new(),
        &[t],
        &rules(),
        FRIDAY,
    ));
    let Action::Note {
        ticket,
        added,
        gone,
        members,
    } = d.action
    else {
        panic!("{:?}", d.action)
    };
    assert_eq!(ticket, 1);
    assert_eq!(added, vec![key("aws", "c3", "r1")]);
    assert_eq!(gone, vec![key("aws", "c2", "r1")]);
    let state: Vec<(&str, bool, i64)> = members
        .iter()
        .map(|m| (m.key.control_id.as_str(), m.failing, m.first_seen))
        .collect();
    assert_eq!(
        state,
        [
            ("c1", true, TUESDAY),
            ("c2", false, TUESDAY),
            ("c3", true, FRIDAY)
        ]
    );
    assert_eq!(
        d.reason,
        "note on INC0010001: 1 finding fails newly (c3 on r1 (aws)); 1 finding no longer fails (c2 on r1 (aws))"
    );
}

#[test]
fn severity_or_title_changes_are_not_a_content_change() {
    let t = ticket(1, "r1", "1", vec![member("aws", "c1", "r1", TUESDAY)]);
    let mut f = finding("aws", "c1", "r1", FRIDAY);
    f.severity = Severity(4);
    f.control_title = "renamed".into();
    let d = only(plan(&[f], &LatestResults::new(), &[t], &rules(), FRIDAY));
    assert_eq!(d.action, Action::Nothing { ticket: Some(1) });
}

#[test]
fn auto_resolve_resolves_when_every_member_passes_naming_the_scans() {
    let t = ticket(
        1,
        "r1",
        "2",
        vec![
            member("aws", "c1", "r1", TUESDAY),
            member("k8s", "c2", "r1", TUESDAY),
        ],
    );
    let mut results = passing(&[("aws", "c1", "r1")], FRIDAY);
    results.extend(passing(&[("k8s", "c2", "r1")], THURSDAY));
    let on = Rules {
        auto_resolve: true,
        ..rules()
    };
    let d = only(plan(&[], &results, std::slice::from_ref(&t), &on, FRIDAY));
    let Action::Resolve { ticket, scans } = &d.action else {
        panic!("{:?}", d.action)
    };
    assert_eq!(*ticket, 1);
    assert_eq!(scans.len(), 2);
    assert!(
        d.reason.contains("aws of 2026-11-27 06:00:00"),
        "{}",
        d.reason
    );
    assert!(
        d.reason.contains("k8s of 2026-11-26 06:00:00"),
        "{}",
        d.reason
    );

    // Off: the findings that went are noted, nothing is resolved.
    let d = only(plan(&[], &results, &[t], &rules(), FRIDAY));
    assert!(matches!(d.action, Action::Note { .. }), "{:?}", d.action);
}

#[test]
fn a_ticket_that_reached_a_chosen_status_below_resolved_is_still_resolved_when_all_pass() {
    let in_progress = Rules {
        auto_resolve: true,
        duplicate_status: "2".into(),
        ..rules()
    };
    let t = ticket(1, "r1", "2", vec![member("aws", "c1", "r1", TUESDAY)]);
    let results = passing(&[("aws", "c1", "r1")], FRIDAY);
    let d = only(plan(&[], &results, &[t], &in_progress, FRIDAY));
    assert!(
        matches!(d.action, Action::Resolve { ticket: 1, .. }),
        "{:?}",
        d.action
    );
}

#[test]
fn a_done_ticket_gets_no_note_when_its_findings_go() {
    let mut t = ticket(1, "r1", "7", vec![member("aws", "c1", "r1", TUESDAY)]);
    t.closed_at = Some(THURSDAY);
    let d = only(plan(&[], &LatestResults::new(), &[t], &rules(), FRIDAY));
    assert_eq!(d.action, Action::Nothing { ticket: Some(1) });
}

#[test]
fn a_missing_or_other_result_never_resolves_a_ticket() {
    let on = Rules {
        auto_resolve: true,
        ..rules()
    };
    let mut t = ticket(
        1,
        "r1",
        "2",
        vec![
            member("aws", "c1", "r1", TUESDAY),
            member("aws", "c2", "r1", TUESDAY),
        ],
    );
    // Both findings already noted as no longer failing.
    for m in &mut t.members {
        m.failing = false;
    }
    let missing = passing(&[("aws", "c1", "r1")], FRIDAY);
    let d = only(plan(&[], &missing, std::slice::from_ref(&t), &on, FRIDAY));
    assert_eq!(d.action, Action::Nothing { ticket: Some(1) });
    assert!(
        d.reason
            .contains("c2 on r1 (aws) is missing from the latest scan of aws"),
        "{}",
        d.reason
    );

    let mut manual = missing.clone();
    manual.insert(
        key("aws", "c2", "r1"),
        LatestResult {
            status: Status::Other,
            scan_id: 7,
            scanned_at: FRIDAY,
        },
    );
    let d = only(plan(&[], &manual, &[t], &on, FRIDAY));
    assert_eq!(d.action, Action::Nothing { ticket: Some(1) });
    assert!(d.reason.contains("is other in the scan"), "{}", d.reason);
}

#[test]
fn a_ticket_that_is_already_resolved_is_not_resolved_again() {
    let on = Rules {
        auto_resolve: true,
        duplicate_status: "7".into(),
        ..rules()
    };
    let mut t = ticket(1, "r1", "6", vec![member("aws", "c1", "r1", TUESDAY)]);
    t.members[0].failing = false;
    let results = passing(&[("aws", "c1", "r1")], FRIDAY);
    let d = only(plan(&[], &results, &[t], &on, FRIDAY));
    assert_eq!(d.action, Action::Nothing { ticket: Some(1) });
}

#[test]
fn tickets_of_the_other_grouping_are_frozen_and_resume_by_key() {
    let mut by_control = ticket(1, "c1", "2", vec![member("aws", "c1", "r1", TUESDAY)]);
    by_control.key = GroupKey::new(Grouping::Controls, "c1");
    let findings = vec![
        finding("aws", "c1", "r1", FRIDAY),
        finding("aws", "c2", "r1", FRIDAY),
    ];
    let d = only(plan(
        &findings,
        &LatestResults::new(),
        &[by_control.clone()],
        &rules(),
        FRIDAY,
    ));
    assert_eq!(d.key, GroupKey::new(Grouping::Resources, "r1"));
    assert!(matches!(
        d.action,
        Action::Open {
            supersedes: None,
            ..
        }
    ));

    let controls = Rules {
        grouping: Grouping::Controls,
        ..rules()
    };
    let decisions = plan(
        &findings,
        &LatestResults::new(),
        &[by_control],
        &controls,
        FRIDAY,
    );
    assert_eq!(decisions.len(), 2);
    assert_eq!(
        decisions[0].action,
        Action::Nothing { ticket: Some(1) },
        "resumed by key"
    );
    assert!(matches!(decisions[1].action, Action::Open { .. }));
}

#[test]
fn the_same_input_gives_the_same_plan() {
    let findings: Vec<Finding> = (0..50)
        .map(|i| {
            finding(
                "aws",
                &format!("c{}", i % 7),
                &format!("r{}", i % 11),
                TUESDAY,
            )
        })
        .collect();
    let a = plan(&findings, &LatestResults::new(), &[], &rules(), FRIDAY);
    let b = plan(&findings, &LatestResults::new(), &[], &rules(), FRIDAY);
    assert_eq!(a, b);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Carries a plan out the way the applier does when every request succeeds.
    fn apply(
        decisions: &[Decision],
        tickets: &mut Vec<TrackedTicket>,
        next_id: &mut i64,
        now: i64,
    ) {
        for d in decisions {
            match &d.action {
                Action::Open {
                    members,
                    supersedes,
                    ..
                } => {
                    if let Some(old) = supersedes {
                        tickets.retain(|t| t.id != *old);
                    }
                    *next_id += 1;
                    let mut t = ticket(*next_id, &d.key.id, "1", members.clone());
                    t.key = d.key.clone();
                    t.opened_at = now;
                    t.state_seen_at = now;
                    tickets.push(t);
                }
                Action::Note {
                    ticket, members, ..
                } => {
                    let t = tickets.iter_mut().find(|t| t.id == *ticket).unwrap();
                    t.members = members.clone();
                }
                Action::Resolve { ticket, .. } => {
                    let t = tickets.iter_mut().find(|t| t.id == *ticket).unwrap();
                    t.state = "6".into();
                    t.resolved_at = Some(now);
                    t.state_seen_at = now;
                }
                Action::Nothing { .. } => {}
            }
        }
    }

    fn findings_strategy() -> impl Strategy<Value = Vec<Finding>> {
        let one = (0..2usize, 0..3usize, 0..4usize, 0..1000i64).prop_map(|(s, c, r, t)| {
            finding(
                &format!("s{s}"),
                &format!("c{c}"),
                &format!("r{r}"),
                TUESDAY + t * 60,
            )
        });
        prop::collection::vec(one, 0..12).prop_map(|mut v| {
            // One result per member, as the latest scans give it.
            v.sort_by_key(Finding::member_key);
            v.dedup_by(|a, b| a.member_key() == b.member_key());
            v
        })
    }

    fn rules_strategy() -> impl Strategy<Value = Rules> {
        (
            prop::bool::ANY,
            prop::sample::select(vec!["1", "2", "3", "6", "7", "8", "101"]),
            prop::sample::select(vec![0u32, 1, 30]),
            prop::bool::ANY,
        )
            .prop_map(|(by_controls, status, days, auto_resolve)| Rules {
                grouping: if by_controls {
                    Grouping::Controls
                } else {
                    Grouping::Resources
                },
                duplicate_status: status.into(),
                duplicate_days: days,
                auto_resolve,
            })
    }

    fn tickets_strategy() -> impl Strategy<Value = Vec<TrackedTicket>> {
        let one = (
            prop::bool::ANY,
            0..4usize,
            prop::sample::select(vec!["1", "2", "3", "6", "7", "8", "101", "102"]),
            0..5000i64,
            prop::bool::ANY,
            prop::collection::vec((0..2usize, 0..3usize, 0..4usize, prop::bool::ANY), 0..4),
        )
            .prop_map(|(by_controls, k, state, age, missing, members)| {
                let grouping = if by_controls {
                    Grouping::Controls
                } else {
                    Grouping::Resources
                };
                let id = match grouping {
                    Grouping::Resources => format!("r{k}"),
                    Grouping::Controls => format!("c{}", k % 3),
                };
                let mut t = ticket(0, &id, state, vec![]);
                t.key = GroupKey::new(grouping, id);
                t.opened_at = TUESDAY - age * 60;
                t.state_seen_at = TUESDAY + age * 10;
                t.missing_since = missing.then_some(TUESDAY + age * 20);
                t.members = members
                    .into_iter()
                    .map(|(s, c, r, failing)| Member {
                        failing,
                        ..member(
                            &format!("s{s}"),
                            &format!("c{c}"),
                            &format!("r{r}"),
                            TUESDAY,
                        )
                    })
                    .collect();
                t.members.sort_by(|a, b| a.key.cmp(&b.key));
                t.members.dedup_by(|a, b| a.key == b.key);
                t
            });
        prop::collection::vec(one, 0..6).prop_map(|mut v| {
            // At most one tracked ticket per key, as the store keeps them.
            v.sort_by(|a, b| a.key.cmp(&b.key));
            v.dedup_by(|a, b| a.key == b.key);
            for (i, t) in v.iter_mut().enumerate() {
                t.id = i as i64 + 1;
            }
            v
        })
    }

    fn results_for(findings: &[Finding], tickets: &[TrackedTicket], pass: bool) -> LatestResults {
        let mut results = LatestResults::new();
        for t in tickets {
            for m in &t.members {
                if pass {
                    results.insert(
                        m.key.clone(),
                        LatestResult {
                            status: Status::Pass,
                            scan_id: 1,
                            scanned_at: TUESDAY,
                        },
                    );
                }
            }
        }
        for f in findings {
            results.insert(
                f.member_key(),
                LatestResult {
                    status: Status::Fail,
                    scan_id: 1,
                    scanned_at: f.scanned_at,
                },
            );
        }
        results
    }

    proptest! {
        #[test]
        fn planning_again_after_applying_opens_nothing(
            findings in findings_strategy(),
            mut tickets in tickets_strategy(),
            rules in rules_strategy(),
            pass in prop::bool::ANY,
        ) {
            let now = FRIDAY;
            let results = results_for(&findings, &tickets, pass);
            let first = plan(&findings, &results, &tickets, &rules, now);
            let mut next_id = 100;
            apply(&first, &mut tickets, &mut next_id, now);
            let results = results_for(&findings, &tickets, pass);
            let second = plan(&findings, &results, &tickets, &rules, now);
            // Nothing to open, and no note or resolve repeated either.
            for d in &second {
                prop_assert!(matches!(d.action, Action::Nothing { .. }), "{:?} after {:?}", d, first);
            }
        }

        #[test]
        fn never_two_tickets_tracked_for_one_key(
            findings in findings_strategy(),
            mut tickets in tickets_strategy(),
            rules in rules_strategy(),
        ) {
            let results = results_for(&findings, &tickets, true);
            let decisions = plan(&findings, &results, &tickets, &rules, FRIDAY);
            let mut next_id = 100;
            apply(&decisions, &mut tickets, &mut next_id, FRIDAY);
            let mut keys: Vec<&GroupKey> = tickets.iter().map(|t| &t.key).collect();
            let before = keys.len();
            keys.sort();
            keys.dedup();
            prop_assert_eq!(keys.len(), before);
        }

        #[test]
        fn a_frozen_groupings_tickets_get_no_action(
            findings in findings_strategy(),
            tickets in tickets_strategy(),
            rules in rules_strategy(),
        ) {
            let results = results_for(&findings, &tickets, true);
            let decisions = plan(&findings, &results, &tickets, &rules, FRIDAY);
            for t in tickets.iter().filter(|t| t.key.grouping != rules.grouping) {
                prop_assert!(decisions.iter().all(|d| d.ticket() != Some(t.id)));
            }
            prop_assert!(decisions.iter().all(|d| d.key.grouping == rules.grouping));
        }
    }
}
