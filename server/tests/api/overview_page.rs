//! The Overview (`/`): a fresh install shows the three first-run steps with their links;
//! once set up it shows the connection and when Test connection passed, the last run and
//! the next, the failing groups, the open tickets and the scans of the last day.

use crate::engine_support::*;
use crate::helpers::*;

#[tokio::test]
async fn sign_in_lands_on_the_overview_and_a_visitor_is_sent_to_sign_in() {
    let app = spawn_app_without_admin().await;
    app.create_admin().await;
    let response = app
        .call(
            "login",
            &[
                ("form[username]", ADMIN),
                ("form[password]", ADMIN_PASSWORD),
                ("form[next]", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 200, "a script's sign-in");
    let (status, html) = app.get_text("/").await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Overview</h1>"), "{html}");

    let visitor = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = visitor
        .get(format!("{}/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{:?}", response.headers());
    assert_eq!(response.headers()["location"], "/login?next=%2F");
}

#[tokio::test]
async fn a_fresh_install_shows_the_three_steps_each_with_its_link() {
    let app = spawn_app().await;
    let data = app.call_json("load_overview", &[]).await;
    assert_eq!(data["connection"]["saved"], false);
    assert!(data["last_run"].is_null() && data["next_due"].is_null());
    assert_eq!(data["failing_groups"], 0);
    assert_eq!(data["open_tickets"], 0);
    assert_eq!(data["sources"], serde_json::json!([]));
    assert_eq!(data["any_scan"], false);

    let (status, html) = app.get_text("/").await;
    assert_eq!(status, 200);
    for (step, link) in [
        (
            "Connect ServiceNow",
            "href=\"/settings/connection\">ITSM integrations</a>",
        ),
        (
            "Create an API token",
            "href=\"/settings/tokens\">API tokens</a>",
        ),
        ("Send a scan", "href=\"/scans\">Scans</a>"),
    ] {
        assert!(html.contains(step), "{step} is missing: {html}");
        assert!(html.contains(link), "{link} is missing");
    }
    assert!(html.contains("No run yet."));
    assert!(html.contains("No scan has arrived yet."));

    // A token made: that step goes, the others stay.
    app.api_token().await;
    let html = app.get_text("/").await.1;
    assert!(!html.contains("Create an API token"));
    assert!(html.contains("Connect ServiceNow") && html.contains("Send a scan"));
}

#[tokio::test]
async fn once_set_up_it_shows_each_figure_with_its_link_and_no_step() {
    let sim = start_sim().await;
    let app = spawn_engine_app().await;
    connect(&app, &sim, "6", "0").await;
    set_rules(&app, "resources", false).await;

    // Not tested yet, then tested: the time it passed is shown.
    let before = app.call_json("load_overview", &[]).await;
    assert_eq!(before["connection"]["saved"], true);
    assert!(before["connection"]["last_test_passed"].is_null());
    let steps = app.call_json("test_connection", &[]).await;
    assert!(
        steps
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["passed"] == true),
        "{steps}"
    );

    let token = app.api_token().await;
    let t = now() - 120;
    post_scan(
        &app,
        &token,
        "scanner-a",
        t,
        &[
            ("c1", "web-1", "fail", "high"),
            ("c2", "web-1", "fail", "low"),
            ("c1", "web-2", "fail", "high"),
            ("c1", "web-3", "pass", "high"),
        ],
    )
    .await;
    post_scan(
        &app,
        &token,
        "scanner-b",
        t,
        &[("c9", "db-1", "fail", "medium")],
    )
    .await;
    post_scan(
        &app,
        &token,
        "scanner-b",
        t + 60,
        &[("c9", "db-1", "fail", "medium")],
    )
    .await;
    let run = run_now(&app).await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    assert_eq!(count(&run, "opened"), 3);

    let data = app.call_json("load_overview", &[]).await;
    assert_eq!(
        data["connection"]["instance_url"],
        sim.url().trim_end_matches('/')
    );
    assert!(data["connection"]["last_test_passed"].is_string(), "{data}");
    assert_eq!(data["last_run"]["id"], run["id"]);
    assert_eq!(data["last_run"]["trigger"], "run now");
    assert!(data["next_due"].is_string());
    assert_eq!(data["grouping"], "resources");
    assert_eq!(data["failing_groups"], 3, "web-1, web-2 and db-1");
    assert_eq!(data["open_tickets"], 3);
    let sources: Vec<(String, i64)> = data["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["source"].as_str().unwrap().to_string(),
                s["last_day"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        sources.contains(&("scanner-a".to_string(), 1)),
        "{sources:?}"
    );
    assert!(
        sources.contains(&("scanner-b".to_string(), 2)),
        "{sources:?}"
    );

    let (status, html) = app.get_text("/").await;
    assert_eq!(status, 200);
    assert!(!html.contains("Next steps"), "nothing is missing any more");
    assert!(html.contains("Test connection last passed"));
    assert!(html.contains(&format!("href=\"/runs/{}\"", run["id"])));
    assert!(html.contains("href=\"/tickets?state=open&amp;grouping=resources\""));
    assert!(html.contains("data-source=\"scanner-b\""));

    // By controls the same findings make the groups c1, c2 and c9, and no open ticket of
    // that grouping is tracked yet.
    set_rules(&app, "controls", false).await;
    let data = app.call_json("load_overview", &[]).await;
    assert_eq!(data["failing_groups"], 3);
    assert_eq!(data["open_tickets"], 0);

    // A pass says nothing of another instance: after the URL changes, it is not shown.
    app.save_connection(&connection_form(&[])).await;
    let data = app.call_json("load_overview", &[]).await;
    assert!(data["connection"]["last_test_passed"].is_null(), "{data}");
}
