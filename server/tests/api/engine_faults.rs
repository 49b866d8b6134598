//! Faults during a run: whatever the instance does, after the faulty run and one more run
//! without faults every failing group has exactly one open incident, and the run records
//! say what happened.

use crate::engine_support::*;
use crate::helpers::*;
use server::auth::{Clock, ManualClock, SystemClock};
use servicenow_sim::{Fault, SimHandle};
use std::collections::BTreeMap;
use std::sync::Arc;

const RESOURCES: [&str; 3] = ["r1", "r2", "r3"];

async fn three_failing_groups() -> (SimHandle, TestApp) {
    three_failing_groups_on(Arc::new(SystemClock)).await
}

async fn three_failing_groups_on(clock: Arc<dyn Clock>) -> (SimHandle, TestApp) {
    let sim = start_sim().await;
    let app = spawn_engine_app_on(clock).await;
    connect(&app, &sim, "6", "0").await;
    let token = app.api_token().await;
    let rows: Vec<Row> = RESOURCES
        .iter()
        .map(|r| ("c1", *r, "fail", "high"))
        .collect();
    post_scan(&app, &token, "aws", now() - 60, &rows).await;
    (sim, app)
}

/// Exactly one open incident per failing resource, and no other incident.
fn assert_one_incident_per_group(sim: &SimHandle) {
    let mut per_resource: BTreeMap<String, usize> = BTreeMap::new();
    for incident in sim.incidents() {
        let resource = RESOURCES
            .iter()
            .find(|r| incident["short_description"].ends_with(&format!("name-{r} ({r})")))
            .unwrap_or_else(|| panic!("an unexpected incident: {incident:?}"));
        *per_resource.entry(resource.to_string()).or_default() += 1;
    }
    let expected: BTreeMap<String, usize> = RESOURCES.iter().map(|r| (r.to_string(), 1)).collect();
    assert_eq!(per_resource, expected);
    assert_eq!(open_incidents(sim).len(), 3);
}

/// Runs once with `fault` queued, then once without; returns both runs' rows.
async fn fault_then_recovery(
    fault: Fault,
    times: usize,
) -> (serde_json::Value, serde_json::Value, SimHandle) {
    let clock = Arc::new(ManualClock::new(now()));
    let (sim, app) = three_failing_groups_on(clock.clone()).await;
    // The run's token request passes; the fault meets the first Table API request (a create).
    sim.inject_token_fault(Fault::Delay { millis: 0 }, 1);
    sim.inject(fault, times);
    let faulty = run_now(&app).await;
    // Past the time a create without an answer is given to show up on the instance.
    clock.advance(120);
    let recovery = run_now(&app).await;
    assert_eq!(recovery["outcome"], "succeeded", "{recovery}");
    assert_one_incident_per_group(&sim);
    (faulty, recovery, sim)
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_and_the_run_succeeds() {
    let (faulty, recovery, _) = fault_then_recovery(Fault::RateLimited { retry_after: 1 }, 1).await;
    assert_eq!(faulty["outcome"], "succeeded", "{faulty}");
    assert_eq!(count(&faulty, "opened"), 3);
    assert_eq!(count(&recovery, "opened"), 0);
}

#[tokio::test]
async fn a_server_error_on_a_create_ends_the_run_and_the_next_run_looks_it_up_first() {
    let (faulty, recovery, sim) = fault_then_recovery(Fault::Status { status: 503 }, 1).await;
    assert_eq!(faulty["outcome"], "failed", "{faulty}");
    assert_eq!(count(&faulty, "skipped"), 3, "{faulty}");
    let errors = faulty["errors"].to_string();
    assert!(errors.contains("503"), "{errors}");
    assert_eq!(count(&recovery, "opened"), 3);
    // The unknown create was looked up by correlation_id before anything was created.
    let log = sim.log();
    let lookup = log
        .iter()
        .position(|e| e.method == "GET" && e.path == "/api/now/table/incident");
    let first_create_after = log
        .iter()
        .enumerate()
        .filter(|(_, e)| e.method == "POST" && e.status == 201)
        .map(|(i, _)| i)
        .next();
    assert!(lookup.is_some() && lookup < first_create_after, "{log:?}");
}

#[tokio::test]
async fn server_errors_on_a_state_read_are_retried_and_the_run_succeeds() {
    let (sim, app) = three_failing_groups().await;
    assert_eq!(count(&run_now(&app).await, "opened"), 3);
    sim.inject_token_fault(Fault::Delay { millis: 0 }, 1);
    sim.inject(Fault::Status { status: 500 }, 2);
    let run = run_now(&app).await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    assert_eq!(count(&run, "unchanged"), 3);
    assert_eq!(
        sim.count("GET", "/api/now/table/incident"),
        3,
        "two retries, then the read"
    );
    assert_one_incident_per_group(&sim);
}

#[tokio::test]
async fn a_create_without_an_answer_in_time_is_looked_up_before_anything_is_created() {
    // The client gives up at 2 s, not knowing whether the create went through: the intent
    // stays, and the next run looks the ticket up before it creates anything.
    let (faulty, _, sim) = fault_then_recovery(Fault::Delay { millis: 3_000 }, 1).await;
    assert_ne!(faulty["outcome"], "succeeded", "{faulty}");
    assert!(
        faulty["errors"]
            .to_string()
            .contains("did not answer within"),
        "{faulty}"
    );
    let log = sim.log();
    let creates: Vec<usize> = log
        .iter()
        .enumerate()
        .filter(|(_, e)| e.method == "POST" && e.path == "/api/now/table/incident")
        .map(|(i, _)| i)
        .collect();
    let lookup = log
        .iter()
        .position(|e| e.method == "GET" && e.path == "/api/now/table/incident");
    assert!(lookup.is_some_and(|l| l < creates[0]), "{log:?}");
}

#[tokio::test]
async fn a_connection_dropped_after_the_create_is_adopted_not_duplicated() {
    let (faulty, recovery, _) = fault_then_recovery(Fault::DropAfterCreate, 1).await;
    assert_ne!(faulty["outcome"], "succeeded", "{faulty}");
    assert_eq!(count(&recovery, "opened"), 2, "{recovery}");
}

#[tokio::test]
async fn a_revoked_token_is_replaced_and_the_run_goes_on() {
    let (sim, app) = three_failing_groups().await;
    let first = run_now(&app).await;
    assert_eq!(count(&first, "opened"), 3);
    let tokens = sim.count("POST", "/oauth_token.do");
    sim.revoke_tokens();
    let run = run_now(&app).await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    assert!(
        sim.count("POST", "/oauth_token.do") > tokens,
        "a new token was asked for"
    );
    assert_one_incident_per_group(&sim);
}

#[tokio::test]
async fn the_hibernation_page_ends_the_run_with_the_reason_in_words() {
    let (faulty, recovery, _) = fault_then_recovery(Fault::Hibernate, 1).await;
    assert_eq!(faulty["outcome"], "failed", "{faulty}");
    assert!(
        faulty["errors"]
            .to_string()
            .contains("sleeping developer instance"),
        "{faulty}"
    );
    assert_eq!(count(&recovery, "opened"), 3);
}

#[tokio::test]
async fn a_group_whose_create_had_no_answer_waits_before_it_is_created_again() {
    let clock = Arc::new(ManualClock::new(now()));
    let (sim, app) = three_failing_groups_on(clock.clone()).await;
    sim.inject_token_fault(Fault::Delay { millis: 0 }, 1);
    sim.inject(Fault::Status { status: 502 }, 1);
    let faulty = run_now(&app).await;
    assert_eq!(count(&faulty, "opened"), 0, "{faulty}");
    // The create may still land on the instance: its group waits, the others go on.
    let soon = run_now(&app).await;
    assert_eq!(
        (count(&soon, "opened"), count(&soon, "unchanged")),
        (2, 1),
        "{soon}"
    );
    assert_eq!(sim.incidents().len(), 2);
    // The preview says what the next run does with the pending create: while it may still
    // land, the group waits; past that, the run adopts the ticket if the create reached
    // the instance, else opens it.
    let pending: String =
        sqlx::query_scalar("SELECT correlation_id FROM engine_tickets WHERE phase = 'intent'")
            .fetch_one(&app.database().await)
            .await
            .unwrap();
    let row = |preview: &serde_json::Value| {
        preview["Preview"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["action"] != "nothing")
            .cloned()
            .unwrap_or_else(|| panic!("{preview}"))
    };
    let soon_preview = row(&app.call_json("preview_itsm_settings", &[]).await);
    assert_eq!(soon_preview["action"], "waits", "{soon_preview}");
    assert!(
        soon_preview["reason"].as_str().unwrap().contains(&pending),
        "{soon_preview}"
    );
    clock.advance(120);
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    let later_preview = row(&app.call_json("preview_itsm_settings", &[]).await);
    assert_eq!(later_preview["action"], "open", "{later_preview}");
    let reason = later_preview["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("open (or adopt the ticket of the earlier attempt")
            && reason.contains(&pending),
        "{reason}"
    );
    let later = run_now(&app).await;
    assert_eq!(count(&later, "opened"), 1, "{later}");
    assert_one_incident_per_group(&sim);
}

#[tokio::test]
async fn a_state_read_the_instance_answers_with_other_records_marks_nothing_missing() {
    let (sim, app) = three_failing_groups().await;
    assert_eq!(count(&run_now(&app).await, "opened"), 3);
    // One ticket is closed (no longer read); the instance then ignores the sys_id query.
    let closed = sim.incidents()[0]["sys_id"].clone();
    assert!(sim.set_state(&closed, "7"));
    assert_eq!(count(&run_now(&app).await, "unchanged"), 3);
    sim.inject_token_fault(Fault::Delay { millis: 0 }, 1);
    sim.inject(Fault::IgnoreQuery, 1);
    let faulty = run_now(&app).await;
    assert_eq!(faulty["outcome"], "failed", "{faulty}");
    assert!(
        faulty["errors"].to_string().contains("did not ask for"),
        "{faulty}"
    );
    let run = run_now(&app).await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    assert_eq!(
        count(&run, "opened"),
        0,
        "no ticket was taken for missing: {run}"
    );
    assert_eq!(sim.incidents().len(), 3);
}
