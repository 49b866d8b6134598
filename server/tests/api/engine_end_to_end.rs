//! The ticket engine end to end: scans through the scanner API, Run now, the incidents read
//! back from the simulator field by field; then changes, resolves, the status and days rules
//! and a grouping switch, each checked in the simulator.

use crate::engine_support::*;
use servicenow_sim::{GROUP_SYS_ID, USER_SYS_ID};

#[tokio::test]
async fn a_run_opens_one_incident_per_failing_resource_with_every_field_set() {
    let sim = start_sim().await;
    let app = spawn_engine_app().await;
    connect(&app, &sim, "6", "0").await;
    set_rules(&app, "resources", true).await;
    let token = app.api_token().await;
    let t1 = now() - 3_600;
    post_scan(
        &app,
        &token,
        "aws",
        t1,
        &[
            ("c1", "r1", "fail", "high"),
            ("c2", "r1", "fail", "critical"),
            ("c1", "r2", "fail", "low"),
            ("c3", "r3", "pass", "high"),
        ],
    )
    .await;
    // The same resource from a second scanner is the same group.
    post_scan(&app, &token, "trivy", t1, &[("c9", "r1", "fail", "medium")]).await;

    let run = run_now(&app).await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    assert_eq!(
        (count(&run, "groups"), count(&run, "opened")),
        (2, 2),
        "{run}"
    );
    let incidents = sim.incidents();
    assert_eq!(incidents.len(), 2);

    let r1 = &incidents_about(&sim, "name-r1")[0];
    assert_eq!(r1["short_description"], "3 controls fail on name-r1 (r1)");
    for line in [
        "c1 (Title of c1) on r1",
        "c2 (Title of c2) on r1",
        "c9 (Title of c9) on r1",
    ] {
        assert!(
            r1["description"].contains(line),
            "{line}: {}",
            r1["description"]
        );
    }
    assert!(
        r1["description"].contains("sources: aws, trivy"),
        "{}",
        r1["description"]
    );
    assert!(r1["description"].contains("first seen"));
    assert_eq!(
        (r1["urgency"].as_str(), r1["impact"].as_str()),
        ("1", "1"),
        "critical"
    );
    assert_eq!(r1["assignment_group"], GROUP_SYS_ID);
    assert_eq!(r1["caller_id"], USER_SYS_ID);
    assert_eq!(r1["correlation_display"], "itsm-bridge");
    assert!(
        r1["correlation_id"].starts_with("itsm-bridge/"),
        "{}",
        r1["correlation_id"]
    );
    assert!(r1["correlation_id"].contains("/resources/"));
    assert!(r1["correlation_id"].ends_with("/1"));
    assert!(r1["correlation_id"].len() <= 100);
    assert!(r1["short_description"].chars().count() <= 160);
    let r2 = &incidents_about(&sim, "name-r2")[0];
    assert_eq!(r2["short_description"], "1 control fails on name-r2 (r2)");
    assert_eq!(
        (r2["urgency"].as_str(), r2["impact"].as_str()),
        ("3", "2"),
        "low"
    );

    // Nothing new: nothing is sent but the state reads.
    let creates = sim.count("POST", "/api/now/table/incident");
    let run = run_now(&app).await;
    assert_eq!(
        (count(&run, "opened"), count(&run, "unchanged")),
        (0, 2),
        "{run}"
    );
    assert_eq!(sim.count("POST", "/api/now/table/incident"), creates);
    assert_eq!(sim.count("PATCH", "/api/now/table/incident"), 0);

    // One finding fixed and one new on r1; everything on r2 passes.
    post_scan(
        &app,
        &token,
        "aws",
        t1 + 60,
        &[
            ("c1", "r1", "fail", "high"),
            ("c2", "r1", "pass", "critical"),
            ("c4", "r1", "fail", "medium"),
            ("c1", "r2", "pass", "low"),
        ],
    )
    .await;
    let run = run_now(&app).await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    assert_eq!(
        (
            count(&run, "noted"),
            count(&run, "resolved"),
            count(&run, "opened")
        ),
        (1, 1, 0),
        "{run}"
    );
    let r1_sys_id = r1["sys_id"].clone();
    let notes = sim.work_notes(&r1_sys_id);
    assert_eq!(notes.len(), 1, "one note: {notes:?}");
    assert!(
        notes[0].contains("Now failing:") && notes[0].contains("c4 (Title of c4) on r1"),
        "{}",
        notes[0]
    );
    assert!(
        notes[0].contains("No longer failing") && notes[0].contains("c2 on r1 (aws)"),
        "{}",
        notes[0]
    );
    let r2 = &incidents_about(&sim, "name-r2")[0];
    assert_eq!(r2["state"], "6", "resolved");
    assert_eq!(r2["close_code"], "Solved (Permanently)");
    assert!(
        r2["close_notes"].contains("aws (scan"),
        "{}",
        r2["close_notes"]
    );
    assert_eq!(sim.incidents().len(), 2, "no new incident");
}

#[tokio::test]
async fn by_controls_one_incident_per_control_and_the_other_groupings_tickets_are_frozen() {
    let sim = start_sim().await;
    let app = spawn_engine_app().await;
    connect(&app, &sim, "6", "0").await;
    set_rules(&app, "resources", false).await;
    let token = app.api_token().await;
    let t1 = now() - 3_600;
    post_scan(
        &app,
        &token,
        "aws",
        t1,
        &[("c1", "r1", "fail", "high"), ("c1", "r2", "fail", "medium")],
    )
    .await;
    assert_eq!(count(&run_now(&app).await, "opened"), 2);

    set_rules(&app, "controls", false).await;
    post_scan(
        &app,
        &token,
        "aws",
        t1 + 60,
        &[
            ("c1", "r1", "fail", "high"),
            ("c1", "r2", "fail", "medium"),
            ("c2", "r1", "fail", "low"),
        ],
    )
    .await;
    let run = run_now(&app).await;
    assert_eq!(
        (
            count(&run, "groups"),
            count(&run, "opened"),
            count(&run, "noted")
        ),
        (2, 2, 0),
        "{run}"
    );
    let c1 = &incidents_about(&sim, "Title of c1 fails")[0];
    assert_eq!(c1["short_description"], "Title of c1 fails on 2 resources");
    assert!(c1["correlation_id"].contains("/controls/"));
    assert_eq!(
        sim.count("PATCH", "/api/now/table/incident"),
        0,
        "frozen: no note on r1's ticket"
    );

    // Back to resources: the frozen tickets resume by key; r1's content changed (c2).
    set_rules(&app, "resources", false).await;
    let run = run_now(&app).await;
    assert_eq!(
        (count(&run, "opened"), count(&run, "noted")),
        (0, 1),
        "{run}"
    );
    assert_eq!(sim.incidents().len(), 4);
}

#[tokio::test]
async fn a_resolved_ticket_gets_a_successor_only_for_a_failure_scanned_after_the_resolve() {
    let sim = start_sim().await;
    let app = spawn_engine_app().await;
    connect(&app, &sim, "6", "0").await;
    let token = app.api_token().await;
    let start = now();
    post_scan(
        &app,
        &token,
        "aws",
        start - 7_200,
        &[("c1", "r1", "fail", "high")],
    )
    .await;
    assert_eq!(count(&run_now(&app).await, "opened"), 1);
    let first = sim.incidents()[0].clone();
    // The service desk fixes it and resolved the ticket half an hour ago.
    assert!(sim.set_state(&first["sys_id"], "6"));
    let half_an_hour_ago = server::timestamps::format_unix(start - 1_800);
    assert!(sim.set_resolved_at(&first["sys_id"], &half_an_hour_ago));

    // Still failing, but in a scan taken before the resolve: stale evidence.
    post_scan(
        &app,
        &token,
        "aws",
        start - 3_600,
        &[("c1", "r1", "fail", "high")],
    )
    .await;
    let run = run_now(&app).await;
    assert_eq!(
        (count(&run, "opened"), count(&run, "unchanged")),
        (0, 1),
        "{run}"
    );

    // Failing in a scan taken after the resolve: a new ticket, generation 2.
    post_scan(&app, &token, "aws", start, &[("c1", "r1", "fail", "high")]).await;
    let run = run_now(&app).await;
    assert_eq!(count(&run, "opened"), 1, "{run}");
    let incidents = sim.incidents();
    assert_eq!(incidents.len(), 2);
    assert!(
        incidents[1]["correlation_id"].ends_with("/2"),
        "{}",
        incidents[1]["correlation_id"]
    );
    assert_eq!(incidents[1]["state"], "1");
}

#[tokio::test]
async fn a_ticket_open_longer_than_the_days_gets_a_successor_named_in_a_note() {
    let sim = start_sim().await;
    let app = spawn_engine_app().await;
    connect(&app, &sim, "6", "30").await;
    let token = app.api_token().await;
    post_scan(
        &app,
        &token,
        "aws",
        now() - 60,
        &[("c1", "r1", "fail", "high")],
    )
    .await;
    assert_eq!(count(&run_now(&app).await, "opened"), 1);
    let old = sim.incidents()[0].clone();
    assert!(sim.set_opened_at(&old["sys_id"], "2026-01-01 00:00:00"));

    let run = run_now(&app).await;
    assert_eq!(count(&run, "opened"), 1, "{run}");
    let incidents = sim.incidents();
    assert_eq!(incidents.len(), 2);
    let new_number = &incidents[1]["number"];
    let notes = sim.work_notes(&old["sys_id"]);
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains(new_number.as_str()), "{}", notes[0]);
    // The old one is no longer tracked: the next run touches neither.
    let run = run_now(&app).await;
    assert_eq!(
        (count(&run, "opened"), count(&run, "groups")),
        (0, 1),
        "{run}"
    );
    assert_eq!(sim.work_notes(&old["sys_id"]).len(), 1);
}

#[tokio::test]
async fn the_engine_does_nothing_until_the_connection_is_saved() {
    let app = spawn_engine_app().await;
    let response = app.call("run_now", &[]).await;
    assert_ne!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Save the ServiceNow connection first")
    );
    let page = app.call_json("load_runs", &[]).await;
    assert_eq!(page["runs"].as_array().unwrap().len(), 0);
    assert_eq!(page["connected"], false);
}
