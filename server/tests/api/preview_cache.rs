//! The preview is worked out once per state of what it depends on: a second preview with
//! nothing changed reads no snapshot, and a change to any part of what it depends on (the
//! settings previewed, the scans, the tickets, the exceptions, the connection's rules,
//! the time an exception ends) gives a fresh one. The reads are counted by the cache.

use crate::engine_support::*;
use crate::helpers::*;
use app::api::PlanPreview;
use app::domain::{CivilDate, Grouping};
use app::forms::ItsmSettings;
use server::auth::{Clock, ManualClock};
use server::engine::preview_cache::PreviewCache;
use sqlx::SqlitePool;
use std::sync::Arc;

struct Previews {
    cache: PreviewCache,
    pool: SqlitePool,
    clock: Arc<ManualClock>,
}

impl Previews {
    async fn of(&self, settings: &ItsmSettings) -> PlanPreview {
        let url: String = sqlx::query_scalar("SELECT instance_url FROM connection_settings")
            .fetch_one(&self.pool)
            .await
            .unwrap();
        self.cache
            .preview(&self.pool, Some(&url), settings.clone(), self.clock.now())
            .await
            .unwrap()
    }

    fn reads(&self) -> u64 {
        self.cache.snapshots_read()
    }
}

fn action_of(preview: &PlanPreview, group: &str) -> String {
    preview
        .rows
        .iter()
        .find(|r| r.group == group)
        .map(|r| r.action.clone())
        .unwrap_or_else(|| panic!("no row for {group}: {preview:?}"))
}

async fn except_resource(app: &TestApp, resource: &str, until: CivilDate) {
    let answer = add_exception(app, "resource", "", resource, &until.to_string()).await;
    assert_eq!(answer, serde_json::json!("Saved"));
}

/// The engine with its scan, and previews read through a cache of its own.
async fn previews_of_a_scan() -> (ScannedEngine, Previews) {
    let scanned = engine_with_scan(&[("c1", "r1", "fail", "high")]).await;
    let previews = Previews {
        cache: PreviewCache::new(60),
        pool: scanned.app.database().await,
        clock: scanned.clock.clone(),
    };
    (scanned, previews)
}

#[tokio::test]
async fn a_second_preview_with_nothing_changed_reads_no_snapshot_and_each_change_reads_one() {
    let (
        ScannedEngine {
            start,
            clock,
            sim,
            app,
            token,
        },
        previews,
    ) = previews_of_a_scan().await;
    let saved = ItsmSettings::default();

    let first = previews.of(&saved).await;
    assert_eq!(previews.reads(), 1);
    assert_eq!(action_of(&first, "resource r1"), "open");
    clock.advance(30);
    let again = previews.of(&saved).await;
    assert_eq!(previews.reads(), 1, "nothing changed: no second read");
    assert_eq!(again.rows, first.rows);

    // Other settings (a what-if) are a preview of their own; the saved one stays cached.
    let by_controls = ItsmSettings {
        grouping: Grouping::Controls,
        ..saved.clone()
    };
    assert_eq!(
        action_of(&previews.of(&by_controls).await, "control c1"),
        "open"
    );
    assert_eq!(previews.reads(), 2);
    previews.of(&saved).await;
    assert_eq!(previews.reads(), 2);

    // A new scan.
    post_scan(
        &app,
        &token,
        "aws",
        start - 50,
        &[("c1", "r1", "fail", "high"), ("c1", "r2", "fail", "high")],
    )
    .await;
    assert_eq!(action_of(&previews.of(&saved).await, "resource r2"), "open");
    assert_eq!(previews.reads(), 3);

    // A run: tickets opened, states stored.
    let run = run_now(&app).await;
    assert_eq!(count(&run, "opened"), 2, "{run}");
    assert_eq!(
        action_of(&previews.of(&saved).await, "resource r2"),
        "nothing"
    );
    assert_eq!(previews.reads(), 4);

    // An exception granted, then ended.
    post_scan(
        &app,
        &token,
        "aws",
        start - 40,
        &[("c1", "r3", "fail", "high")],
    )
    .await;
    previews.of(&saved).await;
    assert_eq!(previews.reads(), 5);
    except_resource(&app, "r3", CivilDate::of_unix(clock.now())).await;
    assert_eq!(
        action_of(&previews.of(&saved).await, "resource r3"),
        "skipped"
    );
    assert_eq!(previews.reads(), 6);
    // The day it was granted for ends: the preview is worked out again, by the time.
    let day_after = CivilDate::of_unix(clock.now()).plus_days(1).start_unix();
    clock.advance(day_after - clock.now());
    assert_eq!(action_of(&previews.of(&saved).await, "resource r3"), "open");
    assert_eq!(previews.reads(), 7);
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    except_resource(&app, "r3", CivilDate::of_unix(clock.now()).plus_days(5)).await;
    assert_eq!(
        action_of(&previews.of(&saved).await, "resource r3"),
        "skipped"
    );
    assert_eq!(previews.reads(), 8);
    let listed = app.call_json("load_exceptions", &[]).await;
    let holding = listed["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["status"] == "holds")
        .unwrap()["id"]
        .to_string();
    app.call_json("end_exception", &[("id", &holding)]).await;
    assert_eq!(action_of(&previews.of(&saved).await, "resource r3"), "open");
    assert_eq!(previews.reads(), 9);

    // The connection's rules.
    connect(&app, &sim, "7", "0").await;
    previews.of(&saved).await;
    assert_eq!(previews.reads(), 10);

    // And nothing changed again: a lookup.
    previews.of(&saved).await;
    assert_eq!(previews.reads(), 10);
}

#[tokio::test]
async fn the_interval_alone_reads_no_snapshot_and_a_retired_source_sent_again_reads_one() {
    let (
        ScannedEngine {
            start,
            // Held, so the simulator runs to the end.
            sim: _sim,
            app,
            token,
            ..
        },
        previews,
    ) = previews_of_a_scan().await;
    let saved = ItsmSettings::default();
    assert_eq!(action_of(&previews.of(&saved).await, "resource r1"), "open");
    assert_eq!(previews.reads(), 1);

    // How often runs happen changes nothing a run decides.
    let every_five = ItsmSettings {
        scheduler_interval_minutes: 5,
        ..saved.clone()
    };
    previews.of(&every_five).await;
    assert_eq!(previews.reads(), 1, "the interval alone: no second read");

    // The source retired, then sent again with other findings: the new scan may be given
    // the old one's id, and the preview must still be of the new one.
    let retired = app.call_json("retire_source", &[("source", "aws")]).await;
    assert!(retired.to_string().contains("aws"), "{retired}");
    post_scan(
        &app,
        &token,
        "aws",
        start - 10,
        &[("c1", "r9", "fail", "high")],
    )
    .await;
    let fresh = previews.of(&saved).await;
    assert_eq!(previews.reads(), 2);
    assert_eq!(action_of(&fresh, "resource r9"), "open");
    assert!(
        fresh.rows.iter().all(|r| r.group != "resource r1"),
        "{fresh:?}"
    );
}
