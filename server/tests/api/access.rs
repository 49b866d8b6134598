//! Every route needs a signed-in admin, except the few that must be open.

use crate::helpers::*;
use reqwest::Method;
use server::http::access::is_open;
use server::startup::route_paths;

fn anonymous() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_route_refuses_a_visitor_without_a_session() {
    let app = spawn_app().await;
    let routes = route_paths();
    assert!(routes.iter().any(|(p, _)| p == "/settings/connection"));
    assert!(
        routes
            .iter()
            .any(|(p, _)| p == "/api/save_connection_settings")
    );
    let client = anonymous();
    let mut checked = 0;
    for (path, method) in routes {
        if is_open(&path) {
            continue;
        }
        let method = Method::from_bytes(method.as_str().as_bytes()).unwrap();
        let response = client
            .request(method.clone(), format!("{}{path}", app.address))
            .form(&[("form[x]", "1")])
            .send()
            .await
            .unwrap();
        // `/metrics` wants an API token, like the scanner API.
        if path.starts_with("/api/") || method != Method::GET || path == "/metrics" {
            assert_eq!(response.status(), 401, "{method} {path} was not refused");
        } else {
            assert_eq!(response.status(), 303, "{method} {path} was not redirected");
            let location = response.headers()["location"].to_str().unwrap();
            assert!(
                location.starts_with("/login?next="),
                "{path} led to {location}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} routes were walked");
}

#[tokio::test]
async fn only_login_setup_health_and_assets_are_open() {
    let open: Vec<_> = route_paths()
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| is_open(p))
        .collect();
    for path in &open {
        assert!(
            ["/login", "/setup", "/healthz", "/readyz"].contains(&path.as_str())
                || [
                    "/api/login",
                    "/api/setup_admin",
                    "/api/load_login_page",
                    "/api/load_setup_page",
                    "/api/current_admin"
                ]
                .contains(&path.as_str()),
            "{path} is open"
        );
    }
    assert!(is_open("/pkg/itsm-bridge.wasm"));
    assert!(!is_open("/pkgs"));
    assert!(!is_open("/pkg/../settings/connection"));
    assert!(!is_open("/pkg/%2e%2e/settings/connection"));
    assert!(!is_open("/settings/connection"));
}

#[tokio::test]
async fn before_the_first_admin_exists_every_page_leads_to_setup() {
    let app = spawn_app_without_admin().await;
    let response = anonymous()
        .get(format!("{}/settings/connection", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/setup");
    let (status, page) = app.get_text("/setup").await;
    assert_eq!(status, 200);
    assert!(page.contains("Create the admin account"));
}

#[tokio::test]
async fn a_page_asked_for_before_signing_in_is_shown_after_it() {
    let app = spawn_app().await;
    let client = anonymous();
    let response = client
        .get(format!("{}/settings/itsm", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["location"],
        "/login?next=%2Fsettings%2Fitsm"
    );

    let response = client
        .post(format!("{}/api/login", app.address))
        .header("Accept", "text/html")
        .form(&[
            ("form[username]", ADMIN),
            ("form[password]", ADMIN_PASSWORD),
            ("form[next]", "/settings/itsm"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/settings/itsm");
}

#[tokio::test]
async fn a_signed_in_admin_reaches_the_pages() {
    let app = spawn_app().await;
    for path in ["/settings/connection", "/settings/itsm", "/audit"] {
        let (status, page) = app.get_text(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(page.contains("Sign out"), "{path} shows no sign-out");
        assert!(
            page.contains(&format!("<span class=\"who\">{ADMIN}</span>")),
            "{path} does not name the admin signed in"
        );
    }
    // The page of an unknown address has the same bar, the admin named.
    let (status, page) = app.get_text("/no-such-page").await;
    assert_eq!(status, 404);
    assert!(
        page.contains(&format!("<span class=\"who\">{ADMIN}</span>")),
        "{page}"
    );
}

/// `/pkg/` is open by prefix: a path that climbs out of it with `..` must not reach a page,
/// nor must any other dot segment, written plainly or percent-encoded.
#[tokio::test]
async fn paths_with_dot_segments_are_refused_before_anything_else() {
    let app = spawn_app().await;
    for target in [
        "/pkg/../settings/connection",
        "/pkg/%2e%2e/settings/connection",
        "/pkg/%2E%2E/settings/itsm",
        "/pkg/.%2e/audit",
        "/pkg/%2e./audit",
        "/pkg/./itsm-bridge.js",
        "/pkg/%2e/itsm-bridge.js",
        "/settings/../settings/connection",
        "/login/..",
    ] {
        for signed_in in [false, true] {
            let (status, body) = app.raw_get(target, signed_in).await;
            assert_eq!(
                status, 400,
                "{target} (signed in: {signed_in}) answered {body}"
            );
            assert!(
                body.contains("dot segment"),
                "{target}: the refusal does not say why: {body}"
            );
            assert!(!body.contains("<html"), "{target} rendered a page");
        }
    }
}

#[tokio::test]
async fn names_with_dots_in_them_are_not_dot_segments() {
    let app = spawn_app().await;
    // No site is built for these tests: the asset is missing, but not refused.
    let (status, _) = app.raw_get("/pkg/itsm-bridge.wasm", false).await;
    assert_ne!(status, 400);
    let (status, _) = app.raw_get("/pkg/..itsm-bridge.js", false).await;
    assert_ne!(status, 400);
    let (status, page) = app.raw_get("/settings/connection?x=..", true).await;
    assert_eq!(status, 200, "{page}");
}

/// With the database gone the guard cannot tell who is asking: it answers 503 and says
/// why, never a page shell, never a 500 with the error's internals.
#[tokio::test]
async fn the_guard_answers_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.take_database_away().await;
    let anonymous = anonymous();
    let requests = [
        (
            "signed in, a page",
            app.client
                .get(format!("{}/settings/connection", app.address)),
        ),
        (
            "signed in, a server function",
            app.client
                .post(format!("{}/api/load_itsm_settings", app.address)),
        ),
        (
            "anonymous, a page",
            anonymous.get(format!("{}/settings/itsm", app.address)),
        ),
        (
            "anonymous, the sign-in page",
            anonymous.get(format!("{}/login", app.address)),
        ),
        (
            "anonymous, the setup page",
            anonymous.get(format!("{}/setup", app.address)),
        ),
    ];
    for (what, request) in requests {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 503, "{what}");
        let body = response.text().await.unwrap();
        assert!(
            body.contains("The database does not answer"),
            "{what}: {body}"
        );
        assert!(!body.contains("<html"), "{what} rendered a page shell");
        for internal in ["sqlx", "pool", "Pool", "sqlite", "SQLite"] {
            assert!(
                !body.contains(internal),
                "{what} leaked {internal:?}: {body}"
            );
        }
    }
}
