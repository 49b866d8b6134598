//! A scan of 100,000 findings posted through the scanner API while a run is under way: the
//! scan is stored whole with its counts, the run still succeeds, and the run works only from
//! what was stored when it started; the new scan's failing groups are opened by the next run.

use crate::engine_support::*;
use server::engine::run_store;
use servicenow_sim::Fault;
use std::collections::BTreeSet;
use std::fmt::Write;
use std::time::{Duration, Instant};

const CREATE: &str = "/api/now/table/incident";

/// A native scan of source `gcp`: 1,000 controls on 100 resources; control g-c000 fails on
/// the first 50 resources, every other finding passes.
fn hundred_thousand_findings() -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(now() - 60)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut body = format!(
        r#"{{"schema_version":"1","source":"gcp","scan":{{"id":"gcp-big","time":"{at}"}},"findings":["#
    );
    for control in 0..1_000 {
        for resource in 0..100 {
            let status = if control == 0 && resource < 50 {
                "fail"
            } else {
                "pass"
            };
            if control + resource > 0 {
                body.push(',');
            }
            write!(
                body,
                r#"{{"control":{{"id":"g-c{control:03}","title":"Title of g-c{control:03}"}},"resource":{{"id":"g-r{resource:02}","name":"name-g-r{resource:02}","type":"vm"}},"status":"{status}","severity":"medium"}}"#
            )
            .unwrap();
        }
    }
    body.push_str("]}");
    body
}

fn created(sim: &servicenow_sim::SimHandle) -> usize {
    sim.log()
        .iter()
        .filter(|e| e.method == "POST" && e.path == CREATE && e.status == 201)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100000_finding_scan_posted_during_a_run_is_stored_and_left_to_the_next_run() {
    let sim = start_sim().await;
    let app = spawn_engine_app().await;
    connect(&app, &sim, "6", "0").await;
    let token = app.api_token().await;
    let resources: Vec<String> = (0..200).map(|n| format!("a-r{n:03}")).collect();
    let rows: Vec<Row> = resources
        .iter()
        .map(|r| ("c1", r.as_str(), "fail", "high"))
        .collect();
    post_scan(&app, &token, "aws", now() - 120, &rows).await;
    let big = hundred_thousand_findings();

    // The run's token request passes; its first create waits a moment and a half.
    sim.inject_token_fault(Fault::Delay { millis: 0 }, 1);
    sim.inject(Fault::Delay { millis: 1_500 }, 1);
    let started = app.call_json("run_now", &[]).await;
    let run_id = started["run_id"].as_i64().expect("a run id");
    // The run asks for its token once it has read the findings it works from.
    let deadline = Instant::now() + Duration::from_secs(30);
    while sim.count("POST", "/oauth_token.do") == 0 {
        assert!(
            Instant::now() < deadline,
            "the run never reached ServiceNow"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The scan is written in short transactions and no longer holds the run's writes up:
    // while it is being stored, each create the run makes is followed by a slow one, so the
    // run is still going when the scan is stored, however slow the machine.
    let post = app.post_scan("", &token, big);
    tokio::pin!(post);
    let mut seen = created(&sim);
    let response = loop {
        tokio::select! {
            response = &mut post => break response,
            () = tokio::time::sleep(Duration::from_millis(20)) => {
                let now_created = created(&sim);
                if now_created > seen {
                    sim.inject(Fault::Delay { millis: 1_500 }, 1);
                    seen = now_created;
                }
            }
        }
    };
    let created_when_stored = created(&sim);
    assert_eq!(response.status(), 201);
    let summary: serde_json::Value = response.json().await.unwrap();
    assert_eq!(summary["source"], "gcp", "{summary}");
    assert_eq!(
        (
            &summary["findings"],
            &summary["failing"],
            &summary["passing"],
            &summary["other"]
        ),
        (
            &serde_json::json!(100_000),
            &serde_json::json!(50),
            &serde_json::json!(99_950),
            &serde_json::json!(0)
        ),
        "{summary}"
    );
    assert!(
        created_when_stored < 200,
        "the run was still going when the scan was stored ({created_when_stored} creates)"
    );

    let run = wait_for_run(&app, run_id).await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    assert_eq!(
        (count(&run, "groups"), count(&run, "opened")),
        (200, 200),
        "{run}"
    );
    let pool = app.database().await;
    let acted_on: BTreeSet<String> = run_store::run_groups(&pool, run_id)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, key, _, _, _)| key)
        .collect();
    let expected: BTreeSet<String> = resources.iter().cloned().collect();
    assert_eq!(
        acted_on, expected,
        "the run's groups are the first scan's only"
    );
    assert_eq!(sim.incidents().len(), 200);
    assert!(incidents_about(&sim, "name-g-r").is_empty());

    // The next run opens the groups of the scan stored during the last one.
    let next = run_now(&app).await;
    assert_eq!(next["outcome"], "succeeded", "{next}");
    assert_eq!(
        (
            count(&next, "groups"),
            count(&next, "opened"),
            count(&next, "unchanged")
        ),
        (250, 50, 200),
        "{next}"
    );
    let opened = incidents_about(&sim, "name-g-r");
    assert_eq!(opened.len(), 50);
    for n in 0..50 {
        let name = format!("name-g-r{n:02}");
        assert_eq!(
            opened
                .iter()
                .filter(|i| i["short_description"].contains(&format!("{name} (")))
                .count(),
            1,
            "{name}"
        );
    }
    assert_eq!(sim.incidents().len(), 250);
}
