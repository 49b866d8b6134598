use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn a_cross_site_post_gets_403_and_saves_nothing() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/save_connection_settings", app.address))
        .header("Origin", "https://evil.example")
        .form(&connection_form(&[]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(app.load_connection().await["view"]["updated_at"].is_null());
}

#[tokio::test]
async fn a_post_marked_cross_site_by_the_browser_gets_403() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/save_itsm_settings", app.address))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[
            ("form[grouping]", "controls"),
            ("form[scheduler_interval_minutes]", "15"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(app.load_itsm().await["settings"]["grouping"], "resources");
}

#[tokio::test]
async fn a_same_origin_browser_post_passes() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/save_connection_settings", app.address))
        .header("Origin", &app.address)
        .header("Sec-Fetch-Site", "same-origin")
        .form(&connection_form(&[]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!("Saved")
    );
}

/// The origin is compared whole: the same host over the other scheme is another site.
#[tokio::test]
async fn the_same_host_over_https_is_another_origin_for_a_site_served_over_http() {
    let app = spawn_app().await;
    let https_origin = app.address.replacen("http://", "https://", 1);
    let response = app
        .client
        .post(format!("{}/api/save_itsm_settings", app.address))
        .header("Origin", https_origin)
        .form(&[
            ("form[grouping]", "controls"),
            ("form[scheduler_interval_minutes]", "15"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(app.load_itsm().await["settings"]["grouping"], "resources");
}

#[tokio::test]
async fn behind_a_tls_proxy_only_the_https_origin_passes() {
    let app = spawn_app().await;
    let host = app.address.trim_start_matches("http://").to_string();
    // Over https the session lives in the `__Host-` cookie, which a client only sends back
    // over https: sign in through the proxy and send that cookie by hand.
    let signed_in = reqwest::Client::new()
        .post(format!("{}/api/login", app.address))
        .header("X-Forwarded-Proto", "https")
        .form(&[
            ("form[username]", ADMIN),
            ("form[password]", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-itsm_bridge_session="))
        .expect("a __Host- session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let post = |origin: String| {
        reqwest::Client::new()
            .post(format!("{}/api/save_itsm_settings", app.address))
            .header("X-Forwarded-Proto", "https")
            .header("Cookie", cookie.clone())
            .header("Origin", origin)
            .form(&[
                ("form[grouping]", "controls"),
                ("form[scheduler_interval_minutes]", "15"),
            ])
            .send()
    };
    assert_eq!(post(format!("http://{host}")).await.unwrap().status(), 403);
    assert_eq!(app.load_itsm().await["settings"]["grouping"], "resources");
    assert_eq!(post(format!("https://{host}")).await.unwrap().status(), 200);
    assert_eq!(app.load_itsm().await["settings"]["grouping"], "controls");
}

#[tokio::test]
async fn a_rebound_name_gets_421_and_its_same_origin_post_saves_nothing() {
    // DNS rebinding: evil.example now resolves to this loopback server, so a page of
    // evil.example posts to it as its own origin.
    let app = spawn_app().await;
    let page = app
        .client
        .get(format!("{}/settings/connection", app.address))
        .header("Host", "evil.example:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 421);
    assert!(page.text().await.unwrap().contains("--public-url"));
    let post = app
        .client
        .post(format!("{}/api/save_itsm_settings", app.address))
        .header("Host", "evil.example:3000")
        .header("Origin", "http://evil.example:3000")
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[
            ("form[grouping]", "controls"),
            ("form[scheduler_interval_minutes]", "15"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 421);
    assert_eq!(app.load_itsm().await["settings"]["grouping"], "resources");
    // Its own loopback names still work.
    let local = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("Host", "localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(local.status(), 200);
}
