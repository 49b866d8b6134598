//! A run's page (`/runs/{id}`) and `load_run`: what the run did per group (opened INC…,
//! noted, resolved, failed with the error in words), paged; 404 for an unknown run.

use crate::engine_support::*;
use crate::helpers::*;

#[tokio::test]
async fn an_unknown_run_is_a_404_that_says_so() {
    let app = spawn_app().await;
    for path in ["/runs/9999", "/runs/abc", "/runs/-1"] {
        let (status, html) = app.get_text(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("No such run"), "{path}: {html}");
    }
    let answer = app
        .call_json("load_run", &[("id", "9999"), ("page", "1")])
        .await;
    assert!(answer.is_null());
}

#[tokio::test]
async fn a_runs_page_lists_each_group_it_opened_and_the_one_that_failed_in_words() {
    let sim = start_sim().await;
    let app = spawn_engine_app().await;
    connect(&app, &sim, "6", "0").await;
    set_rules(&app, "resources", false).await;
    let token = app.api_token().await;
    post_scan(
        &app,
        &token,
        "scanner",
        now() - 60,
        &[
            ("c1", "web-1", "fail", "high"),
            ("c1", "web-2", "fail", "low"),
        ],
    )
    .await;
    // The token request passes; the first create is refused (a 403 concerns that record
    // only, so the run goes on with the other group).
    sim.inject_token_fault(servicenow_sim::Fault::Delay { millis: 0 }, 1);
    sim.inject(servicenow_sim::Fault::Status { status: 403 }, 1);
    let run = run_now(&app).await;
    assert_eq!(run["outcome"], "partial", "{run}");
    assert_eq!(count(&run, "opened"), 1);
    assert_eq!(count(&run, "failed"), 1);

    let id = run["id"].as_i64().unwrap();
    let detail = app
        .call_json("load_run", &[("id", &id.to_string()), ("page", "1")])
        .await;
    assert_eq!(detail["listed"], 2);
    assert_eq!(detail["pages"], 1);
    let groups = detail["groups"].as_array().unwrap();
    let opened = groups.iter().find(|g| g["action"] == "opened").unwrap();
    assert!(
        opened["number"].as_str().unwrap().starts_with("INC"),
        "{opened}"
    );
    let failed = groups.iter().find(|g| g["action"] == "failed").unwrap();
    assert!(
        failed["detail"].as_str().unwrap().contains("403"),
        "{failed}"
    );

    let (status, html) = app.get_text(&format!("/runs/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("<h1>Run {id}</h1>")), "{html}");
    assert!(
        html.contains("Started by Run now at"),
        "the trigger in words"
    );
    assert!(html.contains(&format!("opened {}", opened["number"].as_str().unwrap())));
    assert!(html.contains("data-action=\"failed\""));
    // The Runs page links each run to its page.
    let runs = app.get_text("/runs").await.1;
    assert!(runs.contains(&format!("href=\"/runs/{id}\"")));
}

#[tokio::test]
async fn a_runs_groups_come_a_hundred_a_page_and_a_page_past_the_end_shows_the_last() {
    let app = spawn_app().await;
    let pool = app.database().await;
    let run: i64 = sqlx::query_scalar(
        "INSERT INTO engine_runs (started_by, holder, started_at, ended_at, outcome, group_count, opened) \
         VALUES ('schedule', 'h', 1700000000, 1700000125, 'succeeded', 250, 250) RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO engine_run_groups (run_id, grouping, group_key, action, number, detail) \
         WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 250) \
         SELECT ?, 'resources', 'res-' || i, 'opened', 'INC' || printf('%07d', i), 'open: failing' \
         FROM seq",
    )
    .bind(run)
    .execute(&pool)
    .await
    .unwrap();
    let id = run.to_string();
    let page = |n: &'static str| {
        let id = id.clone();
        let app = &app;
        async move {
            app.call_json("load_run", &[("id", id.as_str()), ("page", n)])
                .await
        }
    };
    let first = page("1").await;
    assert_eq!(first["pages"], 3);
    assert_eq!(first["groups"].as_array().unwrap().len(), 100);
    assert_eq!(first["groups"][0]["key"], "res-1");
    let last = page("3").await;
    assert_eq!(last["groups"].as_array().unwrap().len(), 50);
    assert_eq!(last["groups"][49]["key"], "res-250");
    let past = page("99").await;
    assert_eq!(past["page"], 3, "clamped to the last page");
    assert_eq!(past["groups"], last["groups"]);

    let (status, html) = app.get_text(&format!("/runs/{run}?page=2")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Page 2 of 3 (250 groups listed)"), "{html}");
    assert!(html.contains(&format!("href=\"/runs/{run}?page=1\"")));
    assert!(html.contains(&format!("href=\"/runs/{run}?page=3\"")));
    assert!(html.contains("Started by schedule at 2023-11-14 22:13:20 UTC; took 2 min 5 s."));
}

/// A group whose every failing finding is set aside (a filter or an exception) and that
/// has no ticket leaves its own row in the run, with the reason, and its own count: it is
/// not "unchanged".
#[tokio::test]
async fn groups_set_aside_have_their_own_row_and_count() {
    let sim = start_sim().await;
    let app = spawn_engine_app().await;
    connect(&app, &sim, "6", "0").await;
    let filters = [
        ("form[grouping]", "resources"),
        ("form[scheduler_interval_minutes]", "60"),
        ("form[sources_mode]", "all"),
        ("form[min_severity]", "high"),
    ];
    assert_eq!(app.save_itsm(&filters).await, serde_json::json!("Saved"));
    let token = app.api_token().await;
    post_scan(
        &app,
        &token,
        "scanner",
        now() - 60,
        &[
            ("c1", "r1", "fail", "high"),
            ("c2", "r2", "fail", "low"),
            ("c3", "r3", "fail", "critical"),
        ],
    )
    .await;
    let until = app::domain::CivilDate::of_unix(now())
        .plus_days(3)
        .to_string();
    let answer = app
        .call_json(
            "add_exception",
            &[
                ("form[scope]", "resource"),
                ("form[control_id]", ""),
                ("form[resource_id]", "r1"),
                ("form[kind]", "false_positive"),
                ("form[reason]", "a test bench"),
                ("form[expires_on]", &until),
            ],
        )
        .await;
    assert_eq!(answer, serde_json::json!("Saved"));

    let run = run_now(&app).await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    assert_eq!(count(&run, "groups"), 3);
    assert_eq!(count(&run, "opened"), 1);
    assert_eq!(count(&run, "set_aside"), 2, "{run}");
    assert_eq!(count(&run, "unchanged"), 0, "{run}");

    let id = run["id"].as_i64().unwrap();
    let detail = app
        .call_json("load_run", &[("id", &id.to_string()), ("page", "1")])
        .await;
    let groups = detail["groups"].as_array().unwrap();
    let row = |key: &str| {
        groups
            .iter()
            .find(|g| g["key"] == key)
            .unwrap_or_else(|| panic!("no row for {key}: {detail}"))
            .clone()
    };
    let excepted = row("r1");
    assert_eq!(excepted["action"], "set aside", "{excepted}");
    assert_eq!(
        excepted["detail"],
        format!("skipped: exception by {ADMIN} until {until}: a test bench")
    );
    let filtered = row("r2");
    assert_eq!(filtered["action"], "set aside", "{filtered}");
    assert!(
        filtered["detail"]
            .as_str()
            .unwrap()
            .contains("severity low is below the lowest chosen"),
        "{filtered}"
    );
    assert_eq!(row("r3")["action"], "opened");

    let (status, html) = app.get_text(&format!("/runs/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("2 set aside"), "the count in words");
    assert!(html.contains("data-action=\"set aside\""));
}

/// The Runs page is rendered without working out the preview (it reads a run's whole
/// snapshot): with JavaScript it is loaded after the page, without it behind a link that
/// shows it.
#[tokio::test]
async fn the_runs_page_renders_without_the_preview_and_links_to_it() {
    let sim = start_sim().await;
    let app = spawn_engine_app().await;
    connect(&app, &sim, "6", "0").await;
    let token = app.api_token().await;
    post_scan(
        &app,
        &token,
        "scanner",
        now() - 60,
        &[("c1", "web-1", "fail", "high")],
    )
    .await;

    let (status, html) = app.get_text("/runs").await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("data-action=\"open\""),
        "the preview was rendered"
    );
    assert!(
        html.contains("href=\"/runs?preview=show#plan-preview\""),
        "no link to the preview: {html}"
    );

    let (status, html) = app.get_text("/runs?preview=show").await;
    assert_eq!(status, 200);
    assert!(html.contains("data-action=\"open\""), "{html}");
}
