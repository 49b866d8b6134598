//! The engine's rules as an admin steers them: the preview of the next run, the filters of
//! the ITSM settings page and the exceptions. The preview must equal the run that follows
//! it, action for action, whatever the scans, ticket states, settings and exceptions.

use crate::engine_support::*;
use crate::helpers::*;
use app::domain::Grouping;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use server::engine::model::GroupKey;
use servicenow_sim::SimHandle;
use std::collections::BTreeSet;

/// The preview's acting rows as (group, action), in the run's words.
fn previewed_actions(preview: &Value) -> BTreeSet<(String, String)> {
    let preview = &preview["Preview"];
    assert_eq!(preview["more"], 0, "the test keeps every group listed");
    preview["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| {
            let action = match r["action"].as_str().unwrap() {
                "open" => "opened",
                "note" => "noted",
                "resolve" => "resolved",
                "skipped" => "set aside",
                _ => return None,
            };
            Some((r["group"].as_str().unwrap().to_string(), action.to_string()))
        })
        .collect()
}

fn previewed_groups(preview: &Value) -> i64 {
    preview["Preview"]["rows"].as_array().unwrap().len() as i64
}

/// What a run did per group, as (group, action).
async fn run_actions(app: &TestApp, run_id: i64) -> BTreeSet<(String, String)> {
    let pool = app.database().await;
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT grouping, group_key, action FROM engine_run_groups WHERE run_id = ?",
    )
    .bind(run_id)
    .fetch_all(&pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(grouping, key, action)| {
            let kind = if grouping == "resources" {
                "resource"
            } else {
                "control"
            };
            (format!("{kind} {key}"), action)
        })
        .collect()
}

async fn preview(app: &TestApp, fields: &[(&str, &str)]) -> Value {
    app.call_json("preview_itsm_settings", fields).await
}

/// The ITSM form's fields for the settings chosen.
fn itsm_fields<'a>(
    grouping: &'a str,
    auto_resolve: bool,
    sources: &'a [&'a str],
    min_severity: &'a str,
) -> Vec<(String, String)> {
    let mut fields = vec![
        ("form[grouping]".to_string(), grouping.to_string()),
        ("form[scheduler_interval_minutes]".into(), "60".into()),
        ("form[min_severity]".into(), min_severity.to_string()),
    ];
    if auto_resolve {
        fields.push(("form[auto_resolve]".into(), "true".into()));
    }
    if sources.is_empty() {
        fields.push(("form[sources_mode]".into(), "all".into()));
    } else {
        fields.push(("form[sources_mode]".into(), "chosen".into()));
        for (i, s) in sources.iter().enumerate() {
            fields.push((format!("form[sources][{i}]"), s.to_string()));
        }
    }
    fields
}

fn borrowed(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

const SOURCES: [&str; 2] = ["aws", "trivy"];
const CONTROLS: [&str; 3] = ["C0", "C1", "C2"];
const RESOURCES: [&str; 4] = ["r0", "r1", "r2", "r3"];
const SEVERITIES: [&str; 6] = [
    "informational",
    "low",
    "medium",
    "high",
    "critical",
    "unknown",
];

/// One scan of `source`: each (control, resource) failing, passing or absent at random.
async fn random_scan(app: &TestApp, token: &str, rng: &mut StdRng, source: &str, at: i64) {
    let mut rows: Vec<(String, String, &str, &str)> = Vec::new();
    for control in CONTROLS {
        for resource in RESOURCES {
            match rng.gen_range(0..10) {
                0..=3 => rows.push((
                    control.into(),
                    resource.into(),
                    "fail",
                    SEVERITIES.choose(rng).unwrap(),
                )),
                4..=7 => rows.push((control.into(), resource.into(), "pass", "low")),
                _ => {}
            }
        }
    }
    let rows: Vec<Row<'_>> = rows
        .iter()
        .map(|(c, r, s, v)| (c.as_str(), r.as_str(), *s, *v))
        .collect();
    post_scan(app, token, source, at, &rows).await;
}

/// The service desk works on some tickets: resolves (before or after the next scans),
/// closes, or takes them in progress.
fn desk_works(sim: &SimHandle, rng: &mut StdRng, scans_at: i64) {
    for incident in sim.incidents() {
        if !matches!(incident["state"].as_str(), "1" | "2" | "3") || rng.gen_bool(0.6) {
            continue;
        }
        let sys_id = &incident["sys_id"];
        match rng.gen_range(0..4) {
            0 => {
                assert!(sim.set_state(sys_id, "6"));
                let at = scans_at + if rng.gen_bool(0.5) { -300 } else { 900 };
                assert!(sim.set_resolved_at(sys_id, &server::timestamps::format_unix(at)));
            }
            1 => assert!(sim.set_state(sys_id, "7")),
            _ => assert!(sim.set_state(sys_id, "2")),
        }
    }
}

/// Round after round of random scans, desk work, settings, filters and exceptions: the
/// preview (of the saved settings, and of the same values typed in the form before they
/// were saved) lists exactly what the next run then does, group by group. Seeded, so a
/// failure replays.
#[tokio::test]
async fn the_preview_equals_the_next_run_action_for_action() {
    let sim = start_sim().await;
    let app = spawn_engine_app().await;
    let token = app.api_token().await;
    let mut rng = StdRng::seed_from_u64(9);
    let base = now() - 1_000_000;
    let mut compared_actions = 0;
    let mut groupings_seen = BTreeSet::new();
    let (mut young_intents, mut old_intents) = (0, 0);
    for round in 0..24 {
        let status = ["6", "6", "7", "2"].choose(&mut rng).unwrap();
        connect(&app, &sim, status, "0").await;
        // The grouping of this round, saved before the run that refreshes its tickets: the
        // preview reads the states stored by the last refresh, and a refresh reads only
        // the tickets of the grouping in use.
        let grouping = *["resources", "controls"].choose(&mut rng).unwrap();
        groupings_seen.insert(grouping);
        let fields = itsm_fields(grouping, rng.gen_bool(0.5), &[], "");
        assert_eq!(
            app.save_itsm(&borrowed(&fields)).await,
            serde_json::json!("Saved")
        );
        let at = base + round * 2_000;
        desk_works(&sim, &mut rng, at + 1_000);
        for source in SOURCES {
            random_scan(&app, &token, &mut rng, source, at).await;
        }
        // A run that refreshes the states the desk changed (and acts on the scans).
        run_now(&app).await;
        // Now and then a create that had no answer, as a run that crashed between sending
        // it and recording the answer leaves it: its intent is pending, and the next run
        // looks it up first. It is young (the create may still land: the group waits) or,
        // as if that run were long ago, old (the next run drops it and decides again).
        if rng.gen_bool(0.5) {
            let pool = app.database().await;
            let url: String = sqlx::query_scalar("SELECT instance_url FROM connection_settings")
                .fetch_one(&pool)
                .await
                .unwrap();
            let install_id = server::engine::store::install_id(&pool).await.unwrap();
            let id = if grouping == "resources" {
                *RESOURCES.choose(&mut rng).unwrap()
            } else {
                *CONTROLS.choose(&mut rng).unwrap()
            };
            let key = GroupKey::new(Grouping::parse(grouping).unwrap(), id.to_string());
            let young = old_intents > young_intents;
            let created_at = if young { now() } else { now() - 3_600 };
            server::engine::store::record_intent(
                &pool,
                &key,
                &install_id,
                &url,
                &[],
                None,
                created_at,
            )
            .await
            .unwrap();
            if young {
                young_intents += 1;
            } else {
                old_intents += 1;
            }
        }

        for source in SOURCES {
            if rng.gen_bool(0.8) {
                random_scan(&app, &token, &mut rng, source, at + 1_000).await;
            }
        }
        if rng.gen_bool(0.4) {
            let control = *CONTROLS.choose(&mut rng).unwrap();
            let resource = *RESOURCES.choose(&mut rng).unwrap();
            let scope = *["pair", "control", "resource"].choose(&mut rng).unwrap();
            let answer = app
                .call_json(
                    "add_exception",
                    &[
                        ("form[scope]", scope),
                        ("form[control_id]", control),
                        ("form[resource_id]", resource),
                        ("form[kind]", "false_positive"),
                        ("form[reason]", "generated"),
                        (
                            "form[expires_on]",
                            &app::domain::CivilDate::of_unix(now())
                                .plus_days(30)
                                .to_string(),
                        ),
                    ],
                )
                .await;
            assert_eq!(answer, serde_json::json!("Saved"));
        }
        if rng.gen_bool(0.2) {
            let listed = app.call_json("load_exceptions", &[]).await;
            if let Some(holding) = listed["exceptions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["status"] == "holds")
            {
                let id = holding["id"].as_i64().unwrap().to_string();
                app.call_json("end_exception", &[("id", &id)]).await;
            }
        }
        let sources: &[&str] = [&[][..], &["aws"][..], &["trivy"][..], &SOURCES[..]]
            .choose(&mut rng)
            .unwrap();
        let severity = *["", "", "low", "medium", "high", "critical"]
            .choose(&mut rng)
            .unwrap();
        let fields = itsm_fields(grouping, rng.gen_bool(0.5), sources, severity);
        let what_if = preview(&app, &borrowed(&fields)).await;
        assert_eq!(
            app.save_itsm(&borrowed(&fields)).await,
            serde_json::json!("Saved")
        );
        let saved = preview(&app, &[]).await;
        assert_eq!(
            what_if["Preview"]["rows"], saved["Preview"]["rows"],
            "round {round}: the what-if equals the saved settings' preview"
        );

        let run = run_now(&app).await;
        let run_id = run["id"].as_i64().unwrap();
        assert_eq!(count(&run, "failed"), 0, "{run}");
        let expected = previewed_actions(&saved);
        assert_eq!(
            run_actions(&app, run_id).await,
            expected,
            "round {round}: run {run}, preview {saved:#}"
        );
        assert_eq!(
            count(&run, "groups"),
            previewed_groups(&saved),
            "round {round}"
        );
        compared_actions += expected.len();
    }
    assert!(
        compared_actions > 20,
        "only {compared_actions} actions compared"
    );
    assert_eq!(groupings_seen.len(), 2);
    assert!(
        young_intents > 0 && old_intents > 0,
        "pending intents compared: {young_intents} young, {old_intents} old"
    );
}

#[tokio::test]
async fn without_a_connection_the_preview_says_no_run_does_anything() {
    let app = spawn_engine_app().await;
    let answer = preview(&app, &[]).await;
    assert_eq!(answer["Preview"]["connected"], false, "{answer}");
    assert_eq!(answer["Preview"]["rows"], serde_json::json!([]));
    let page = app
        .client
        .get(format!("{}/settings/itsm", app.address))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        200,
        "a page that renders its preview is not redirected"
    );
    let page = page.text().await.unwrap();
    assert!(page.contains("No ServiceNow connection is saved, so no run does anything yet."));
}

#[tokio::test]
async fn a_what_if_with_invalid_values_previews_nothing_and_saves_nothing() {
    let app = spawn_engine_app().await;
    let answer = preview(
        &app,
        &[
            ("form[grouping]", "both"),
            ("form[scheduler_interval_minutes]", "60"),
            ("form[sources_mode]", "chosen"),
        ],
    )
    .await;
    let errors = &answer["Invalid"];
    assert!(errors["grouping"].is_string(), "{answer}");
    assert_eq!(
        errors["sources"],
        "Tick at least one source, or choose All sources."
    );
    assert_eq!(app.load_itsm().await["settings"]["grouping"], "resources");
}

#[tokio::test]
async fn filters_change_the_preview_then_the_run_and_never_resolve_a_ticket() {
    let sim = start_sim().await;
    let app = spawn_engine_app().await;
    connect(&app, &sim, "6", "0").await;
    set_rules(&app, "resources", true).await;
    let token = app.api_token().await;
    let start = now() - 10_000;
    post_scan(&app, &token, "aws", start, &[("c1", "r1", "fail", "low")]).await;
    post_scan(
        &app,
        &token,
        "trivy",
        start,
        &[("c2", "r2", "fail", "critical")],
    )
    .await;
    assert_eq!(count(&run_now(&app).await, "opened"), 2);

    // Only critical findings from trivy become tickets from now on.
    let fields = itsm_fields("resources", true, &["trivy"], "critical");
    let what_if = preview(&app, &borrowed(&fields)).await;
    assert_eq!(
        app.save_itsm(&borrowed(&fields)).await,
        serde_json::json!("Saved")
    );
    let settings = app.load_itsm().await["settings"].clone();
    assert_eq!(settings["sources"], serde_json::json!(["trivy"]));
    assert_eq!(settings["min_severity"], "critical");
    post_scan(
        &app,
        &token,
        "aws",
        start + 100,
        &[
            ("c1", "r1", "fail", "low"),
            ("c3", "r3", "fail", "critical"),
        ],
    )
    .await;
    let preview_now = preview(&app, &[]).await;
    let rows = preview_now["Preview"]["rows"].as_array().unwrap().clone();
    let row = |group: &str| {
        rows.iter()
            .find(|r| r["group"] == group)
            .unwrap_or_else(|| panic!("no row for {group} in {rows:?}"))
            .clone()
    };
    // r1's ticket: its finding is set aside, so it counts as absent: a note, never a resolve.
    assert_eq!(row("resource r1")["action"], "note", "{rows:?}");
    assert!(
        row("resource r1")["reason"]
            .as_str()
            .unwrap()
            .contains("source aws is not among the sources chosen on ITSM settings"),
        "{rows:?}"
    );
    // r3 fails newly, but from aws: skipped, with the reason.
    assert_eq!(row("resource r3")["action"], "skipped");
    assert_eq!(
        row("resource r3")["reason"],
        "skipped: source aws is not among the sources chosen on ITSM settings"
    );
    assert_eq!(row("resource r2")["action"], "nothing");
    assert_ne!(what_if, preview_now, "the new aws scan changed the preview");

    let run = run_now(&app).await;
    assert_eq!(
        (
            count(&run, "opened"),
            count(&run, "noted"),
            count(&run, "resolved")
        ),
        (0, 1, 0),
        "{run}"
    );
    let r1 = incidents_about(&sim, "r1");
    assert_eq!(r1.len(), 1);
    assert_eq!(
        r1[0]["state"], "1",
        "a set-aside finding never resolves its ticket"
    );
    let notes = sim.work_notes(&r1[0]["sys_id"]);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("set aside by the filters or an exception")),
        "{notes:?}"
    );
    assert!(incidents_about(&sim, "r3").is_empty());
}

#[tokio::test]
async fn an_exception_skips_its_finding_until_it_expires_or_ends() {
    let ScannedEngine {
        start,
        clock,
        sim,
        app,
        ..
    } = engine_with_scan(&[("c1", "r1", "fail", "high"), ("c2", "r2", "fail", "high")]).await;
    let today = app::domain::CivilDate::of_unix(start);
    let until = today.plus_days(2).to_string();
    let add = |scope, control, resource, until: String| {
        let app = &app;
        async move { add_exception(app, scope, control, resource, &until).await }
    };
    // More than a year ahead is refused, and nothing is stored.
    let too_far = today.plus_days(366).to_string();
    let refused = add("pair", "c1", "r1", too_far).await;
    assert!(refused["Invalid"]["expires_on"].is_string(), "{refused}");
    assert_eq!(
        add("pair", "c1", "r1", until.clone()).await,
        serde_json::json!("Saved")
    );
    assert_eq!(
        add("control", "c2", "", until.clone()).await,
        serde_json::json!("Saved")
    );

    let shown = preview(&app, &[]).await;
    let rows = shown["Preview"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{shown}");
    for row in rows {
        assert_eq!(row["action"], "skipped");
        assert_eq!(
            row["reason"],
            format!("skipped: exception by {ADMIN} until {until}: {EXCEPTION_REASON}")
        );
    }
    let run = run_now(&app).await;
    assert_eq!(count(&run, "opened"), 0, "{run}");
    assert!(sim.incidents().is_empty());

    // End now on the control's: c2 counts again at once.
    let listed = app.call_json("load_exceptions", &[]).await;
    let exceptions = listed["exceptions"].as_array().unwrap();
    assert_eq!(exceptions.len(), 2);
    let control = exceptions
        .iter()
        .find(|e| e["scope"] == "control c2")
        .unwrap();
    let id = control["id"].as_i64().unwrap().to_string();
    let ended = app.call_json("end_exception", &[("id", &id)]).await;
    assert!(ended.as_str().unwrap().contains("ended"), "{ended}");
    let again = app.call("end_exception", &[("id", &id)]).await;
    assert_eq!(again.status(), 409, "an ended exception cannot end twice");
    let run = run_now(&app).await;
    assert_eq!(count(&run, "opened"), 1, "{run}");
    assert_eq!(incidents_about(&sim, "r2").len(), 1);

    // Past its last day the pair's exception holds no more: r1 opens.
    clock.advance(3 * 86_400);
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    let listed = app.call_json("load_exceptions", &[]).await;
    let statuses: BTreeSet<String> = listed["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        statuses,
        ["ended".to_string(), "expired".to_string()].into()
    );
    let shown = preview(&app, &[]).await;
    assert!(
        shown["Preview"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["group"] == "resource r1" && r["action"] == "open"),
        "{shown}"
    );
    assert_eq!(count(&run_now(&app).await, "opened"), 1);
    assert_eq!(incidents_about(&sim, "r1").len(), 1);

    // Audited: who, what, why.
    let audit = app.call_json("load_audit_log", &[]).await;
    let details: Vec<String> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("exception."))
        .map(|e| format!("{} {} {}", e["actor"], e["action"], e["detail"]))
        .collect();
    assert_eq!(details.len(), 3, "{details:?}");
    assert!(details.iter().any(|d| d.contains("exception.add")
        && d.contains("Accepted risk for control c1 on resource r1")
        && d.contains("vendor fix due")));
    assert!(
        details
            .iter()
            .any(|d| d.contains("exception.end") && d.contains("control c2"))
    );
}

#[tokio::test]
async fn the_pages_need_a_signed_in_admin_and_work_without_javascript() {
    let app = spawn_engine_app().await;
    let (status, page) = app.get_text("/exceptions").await;
    assert_eq!(status, 200);
    assert!(page.contains("No exception yet"), "{page}");
    // A plain form post goes back to the page with the outcome.
    let response = app
        .client
        .post(format!("{}/api/add_exception", app.address))
        .header("Accept", "text/html")
        .form(&[
            ("form[scope]", "resource"),
            ("form[resource_id]", "r-9"),
            ("form[kind]", "false_positive"),
            ("form[reason]", "test host"),
            ("form[expires_on]", "1999-01-01"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/exceptions?flash="), "{location}");
    let (_, page) = app.get_text(&location).await;
    assert!(page.contains("Choose a day from today"), "{page}");
    assert!(page.contains("test host"), "the values come back: {page}");

    // The Preview button without JavaScript: back to the page, showing the values posted.
    let response = app
        .client
        .post(format!("{}/api/preview_itsm_settings", app.address))
        .header("Accept", "text/html")
        .form(&[
            ("form[grouping]", "controls"),
            ("form[scheduler_interval_minutes]", "60"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("/settings/itsm?preview="),
        "{location}"
    );
    let (_, page) = app.get_text(&location).await;
    assert!(
        page.contains("For the values in the form, not saved"),
        "{page}"
    );
    assert_eq!(app.load_itsm().await["settings"]["grouping"], "resources");

    let stranger = reqwest::Client::new();
    for path in [
        "/api/load_exceptions",
        "/api/preview_itsm_settings",
        "/api/preview_itsm_settings_html",
    ] {
        let status = stranger
            .post(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap()
            .status();
        assert!(
            status == 401 || status == 403 || status.is_redirection(),
            "{path}: {status}"
        );
    }
}

/// An exception holds through the last second of its last day (UTC) and no longer: at
/// 23:59:59 of that day a run still sets the finding aside, at 00:00:00 after it the
/// finding opens its ticket.
#[tokio::test]
async fn an_exception_holds_to_the_last_second_of_its_last_day_and_not_one_more() {
    let ScannedEngine {
        start,
        clock,
        sim,
        app,
        ..
    } = engine_with_scan(&[("c1", "r1", "fail", "high")]).await;
    let last_day = app::domain::CivilDate::of_unix(start);
    let answer = add_exception(&app, "pair", "c1", "r1", &last_day.to_string()).await;
    assert_eq!(answer, serde_json::json!("Saved"));
    let day_after = last_day.plus_days(1).start_unix();

    // The last second of the last day: still set aside.
    clock.advance(day_after - 1 - start);
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    let shown = preview(&app, &[]).await;
    assert_eq!(shown["Preview"]["rows"][0]["action"], "skipped", "{shown}");
    let run = run_now(&app).await;
    assert_eq!(count(&run, "opened"), 0, "{run}");
    assert!(sim.incidents().is_empty());

    // The first second after it: the finding counts again.
    clock.advance(1);
    let shown = preview(&app, &[]).await;
    assert_eq!(shown["Preview"]["rows"][0]["action"], "open", "{shown}");
    let run = run_now(&app).await;
    assert_eq!(count(&run, "opened"), 1, "{run}");
    assert_eq!(incidents_about(&sim, "r1").len(), 1);
}

/// The preview the pages put in place is rendered on the server: the same groups and
/// actions as the preview's data, names from the scan escaped (never markup), and the
/// fields' errors when the form's values are not valid settings.
#[tokio::test]
async fn the_preview_html_shows_the_plans_rows_with_names_escaped() {
    let ScannedEngine { app, .. } = engine_with_scan(&[
        ("c1", "r<b>1</b>&\"", "fail", "high"),
        ("c2", "r2", "pass", "low"),
    ])
    .await;
    let data = preview(&app, &[]).await;
    let html = app.call_json("preview_itsm_settings_html", &[]).await;
    let html = html.as_str().expect("the HTML, as a JSON string");
    let rows = data["Preview"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "one failing group: {data}");
    for row in rows {
        let group = row["group"].as_str().unwrap();
        let escaped = group
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        let action = row["action"].as_str().unwrap();
        let tr = format!("<tr data-group=\"{escaped}\" data-action=\"{action}\">");
        assert!(html.contains(&tr), "no {tr} in {html}");
    }
    assert!(
        html.contains("<td>resource r&lt;b&gt;1&lt;/b&gt;&amp;\"</td>"),
        "the resource's name escaped in its cell: {html}"
    );
    assert!(!html.contains("<b>1</b>"), "markup from a scan: {html}");
    assert!(html.contains("data-unsaved=\"false\""), "{html}");

    let fields = itsm_fields("controls", false, &[], "");
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let html = app.call_json("preview_itsm_settings_html", &fields).await;
    let html = html.as_str().unwrap();
    assert!(html.contains("data-unsaved=\"true\""), "{html}");
    assert!(html.contains("data-group=\"control c1\""), "{html}");

    let html = app
        .call_json(
            "preview_itsm_settings_html",
            &[
                ("form[grouping]", "controls"),
                ("form[scheduler_interval_minutes]", "3"),
            ],
        )
        .await;
    let html = html.as_str().unwrap();
    assert!(
        html.contains("No preview: the values in the form are not valid settings."),
        "{html}"
    );
    assert!(!html.contains("data-action"), "{html}");
    assert!(
        html.contains("Enter a whole number of minutes from 5 to"),
        "the interval's error: {html}"
    );
}

/// Without JavaScript, a Preview of invalid values comes back with each field's error next
/// to its field, as a Save does, the values as typed, and nothing saved or previewed.
#[tokio::test]
async fn a_plain_preview_of_invalid_values_shows_each_fields_error_next_to_it() {
    let app = spawn_engine_app().await;
    let response = app
        .client
        .post(format!("{}/api/preview_itsm_settings", app.address))
        .header("Accept", "text/html")
        .form(&[
            ("form[grouping]", "controls"),
            ("form[scheduler_interval_minutes]", "3"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let (_, page) = app.get_text(&location).await;
    assert!(
        page.contains("data-error-for=\"scheduler_interval_minutes\""),
        "no error next to the field: {page}"
    );
    assert!(page.contains("value=\"3\""), "the value typed comes back");
    assert_eq!(app.load_itsm().await["settings"]["grouping"], "resources");
}
