//! A browser without JavaScript posts the form itself and follows the redirect back.

use crate::helpers::*;

async fn plain_post(app: &TestApp, endpoint: &str, page: &str, fields: &[(&str, &str)]) -> String {
    let response = app
        .client
        .post(format!("{}/api/{endpoint}", app.address))
        .header("Accept", "text/html,application/xhtml+xml")
        .header("Referer", format!("{}{page}", app.address))
        .header("Origin", &app.address)
        .form(fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&format!("{page}?flash=")),
        "redirected to {location}"
    );
    let (status, body) = app.get_text(&location).await;
    assert_eq!(status, 200);
    body
}

#[tokio::test]
async fn a_valid_plain_post_redirects_back_to_a_saved_page() {
    let app = spawn_app().await;
    let page = plain_post(
        &app,
        "save_connection_settings",
        "/settings/connection",
        &connection_form(&[]),
    )
    .await;
    assert!(page.contains("Saved."), "{page}");
    assert!(page.contains("value=\"itsm-bridge-client\""));
}

#[tokio::test]
async fn an_invalid_plain_post_shows_each_message_and_what_was_typed() {
    let app = spawn_app().await;
    let page = plain_post(
        &app,
        "save_connection_settings",
        "/settings/connection",
        &connection_form(&[("user_sys_id", "not-hex"), ("client_id", "kept-client")]),
    )
    .await;
    assert!(page.contains("Nothing was saved"), "{page}");
    assert!(page.contains("id=\"user_sys_id-error\""), "{page}");
    assert!(
        page.contains("value=\"not-hex\""),
        "the typed value was lost"
    );
    assert!(page.contains("value=\"kept-client\""));
    for secret in [CLIENT_SECRET, PASSWORD] {
        assert!(!page.contains(secret));
    }
    assert!(app.load_connection().await["view"]["updated_at"].is_null());
}

#[tokio::test]
async fn the_itsm_page_works_without_javascript() {
    let app = spawn_app().await;
    let page = plain_post(
        &app,
        "save_itsm_settings",
        "/settings/itsm",
        &[
            ("form[grouping]", "controls"),
            ("form[scheduler_interval_minutes]", "45"),
        ],
    )
    .await;
    assert!(page.contains("Saved."), "{page}");
    assert_eq!(app.load_itsm().await["settings"]["grouping"], "controls");
}

#[tokio::test]
async fn a_flash_is_shown_once() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/save_itsm_settings", app.address))
        .header("Accept", "text/html")
        .form(&[
            ("form[grouping]", "controls"),
            ("form[scheduler_interval_minutes]", "45"),
        ])
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(app.get_text(&location).await.1.contains("Saved."));
    assert!(!app.get_text(&location).await.1.contains("Saved."));
}

/// The navigation marks the page shown (`aria-current="page"`, which the stylesheet
/// highlights and screen readers announce), the overview only on itself.
#[tokio::test]
async fn the_navigation_marks_the_page_shown() {
    let app = spawn_app().await;
    for (path, current) in [
        ("/", r#"<a href="/" aria-current="page">Overview</a>"#),
        (
            "/scans",
            r#"<a href="/scans" aria-current="page">Scans</a>"#,
        ),
        ("/runs/1", r#"<a href="/runs" aria-current="page">Runs</a>"#),
    ] {
        let (status, page) = app.get_text(path).await;
        assert!(status == 200 || status == 404, "{path}: {status}");
        assert!(page.contains(current), "{path}: {page}");
        assert_eq!(page.matches("aria-current").count(), 1, "{path}");
    }
    let (_, scans) = app.get_text("/scans").await;
    assert!(scans.contains(r#"<a href="/">Overview</a>"#), "{scans}");
}
