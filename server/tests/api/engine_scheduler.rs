//! The scheduler: the first run starts once a connection is saved, the next is due at the
//! last run's start plus the interval, and a changed interval applies without a restart.
//! Time is a manual clock; the scheduler only looks at it every second.

use crate::engine_support::*;
use crate::helpers::*;
use serde_json::Value;
use server::auth::ManualClock;
use std::sync::Arc;
use std::time::Duration;

async fn scheduled_runs(app: &TestApp) -> Vec<Value> {
    let page = app.call_json("load_runs", &[]).await;
    page["runs"].as_array().unwrap().clone()
}

/// Waits until `n` runs have ended, and returns them, newest first.
async fn until_runs_ended(app: &TestApp, n: usize) -> Vec<Value> {
    for _ in 0..300 {
        let runs = scheduled_runs(app).await;
        if runs.len() >= n && runs.iter().all(|r| r["outcome"] != "running") {
            return runs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{n} runs did not end within 30 s: {:?}",
        scheduled_runs(app).await
    );
}

#[tokio::test]
async fn runs_start_on_the_schedule_and_a_changed_interval_applies_at_once() {
    let sim = start_sim().await;
    let clock = Arc::new(ManualClock::new(now()));
    let folder = tempfile::tempdir().unwrap();
    let app = spawn_app_configured(folder, clock.clone(), |config| {
        config.servicenow_requests_per_second = 10_000;
        // The scheduler looks every half lease.
        config.engine_lease_seconds = 2;
        config.session_idle_minutes = 1_000_000;
        config.session_max_hours = 100_000;
    })
    .await;
    app.create_admin().await;
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    let token = app.api_token().await;
    post_scan(
        &app,
        &token,
        "aws",
        now() - 60,
        &[("c1", "r1", "fail", "high")],
    )
    .await;
    assert!(
        scheduled_runs(&app).await.is_empty(),
        "nothing runs before a connection is saved"
    );

    connect(&app, &sim, "6", "0").await;
    let runs = until_runs_ended(&app, 1).await;
    assert_eq!(runs[0]["trigger"], "schedule");
    assert_eq!(runs[0]["opened"], 1, "{runs:?}");

    // 59 minutes later the next run is not due yet (every 60 minutes by default).
    clock.advance(59 * 60);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(scheduled_runs(&app).await.len(), 1);

    clock.advance(2 * 60);
    let runs = until_runs_ended(&app, 2).await;
    assert_eq!(runs[0]["trigger"], "schedule");
    assert_eq!(runs[0]["unchanged"], 1);

    // Every 5 minutes from now on, read from the settings without a restart.
    let fields = [
        ("form[grouping]", "resources"),
        ("form[scheduler_interval_minutes]", "5"),
    ];
    assert_eq!(app.save_itsm(&fields).await, serde_json::json!("Saved"));
    clock.advance(5 * 60 + 1);
    let runs = until_runs_ended(&app, 3).await;
    assert_eq!(runs[0]["trigger"], "schedule");
    assert_eq!(sim.incidents().len(), 1, "never a duplicate");
}

#[tokio::test]
async fn on_shutdown_the_running_step_finishes_and_the_run_is_recorded_interrupted() {
    let sim = start_sim().await;
    let app = spawn_engine_app().await;
    connect(&app, &sim, "6", "0").await;
    let token = app.api_token().await;
    let rows: Vec<(String, String)> = (0..20)
        .map(|i| ("c1".to_string(), format!("r{i}")))
        .collect();
    let rows: Vec<Row> = rows
        .iter()
        .map(|(c, r)| (c.as_str(), r.as_str(), "fail", "high"))
        .collect();
    post_scan(&app, &token, "aws", now() - 60, &rows).await;
    // Every create takes a second: the run is still going when the server is told to stop.
    sim.inject_token_fault(servicenow_sim::Fault::Delay { millis: 0 }, 1);
    sim.inject(servicenow_sim::Fault::Delay { millis: 1_000 }, 20);
    let started = app.call_json("run_now", &[]).await;
    let run_id = started["run_id"].as_i64().unwrap();
    while sim.count("POST", "/api/now/table/incident") < 1 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let folder = app.stop().await;

    let pool = server::database::open(&folder.path().join("itsm-bridge.db"))
        .await
        .unwrap();
    let (outcome, opened, skipped): (String, i64, i64) =
        sqlx::query_as("SELECT outcome, opened, skipped FROM engine_runs WHERE id = ?")
            .bind(run_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(outcome, "interrupted");
    assert!((1..20).contains(&opened), "{opened}");
    assert_eq!(opened + skipped, 20);
    let recorded: i64 =
        sqlx::query_scalar("SELECT count(*) FROM engine_tickets WHERE phase = 'open'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        recorded as usize,
        sim.incidents().len(),
        "every create that went through is recorded"
    );
}

#[tokio::test]
async fn runs_older_than_the_kept_days_are_deleted_with_their_groups() {
    let sim = start_sim().await;
    let app = spawn_engine_app().await;
    connect(&app, &sim, "6", "0").await;
    let token = app.api_token().await;
    post_scan(
        &app,
        &token,
        "aws",
        now() - 60,
        &[("c1", "r1", "fail", "high")],
    )
    .await;
    let old = run_now(&app).await;
    let pool = app.database().await;
    // As if it had run 91 days ago (90 are kept by default).
    sqlx::query("UPDATE engine_runs SET started_at = started_at - 91 * 86400 WHERE id = ?")
        .bind(old["id"].as_i64().unwrap())
        .execute(&pool)
        .await
        .unwrap();
    let recent = run_now(&app).await;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM engine_runs ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(ids, [recent["id"].as_i64().unwrap()]);
    let groups: i64 = sqlx::query_scalar("SELECT count(*) FROM engine_run_groups WHERE run_id = ?")
        .bind(old["id"].as_i64().unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(groups, 0);
}
