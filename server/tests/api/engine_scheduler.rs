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
