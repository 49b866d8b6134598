use crate::helpers::*;

#[tokio::test]
async fn pages_carry_a_nonce_policy_that_matches_their_scripts() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/settings/connection", app.address))
        .send()
        .await
        .unwrap();
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["referrer-policy"], "same-origin");
    let body = response.text().await.unwrap();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(policy.contains("'wasm-unsafe-eval'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy");
    assert!(
        body.contains(&format!("nonce=\"{nonce}\"")),
        "the scripts do not carry the policy's nonce"
    );

    let again = app
        .client
        .get(format!("{}/settings/connection", app.address))
        .send()
        .await
        .unwrap();
    let other = again.headers()["content-security-policy"].to_str().unwrap();
    assert!(!other.contains(nonce), "the nonce was reused");
}

/// A client that shows each answer as it is: a redirect is an answer, not followed.
fn anonymous() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn assert_the_headers(response: &reqwest::Response, what: &str) {
    let headers = response.headers();
    let policy = headers
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what} has no policy"));
    assert!(
        policy.to_str().unwrap().contains("frame-ancestors 'none'"),
        "{what}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(headers["referrer-policy"], "same-origin", "{what}");
}

#[tokio::test]
async fn every_answer_has_the_headers_even_a_refusal() {
    let app = spawn_app().await;
    let client = anonymous();
    let url = |path: &str| format!("{}{path}", app.address);
    let requests = [
        ("an open page", client.get(url("/login")), 200),
        ("the health check", client.get(url("/healthz")), 200),
        (
            "a page without a session",
            client.get(url("/no-such-page")),
            303,
        ),
        (
            "a server function without a session",
            client.post(url("/api/load_itsm_settings")),
            401,
        ),
        (
            "a cross-site post",
            app.client
                .post(url("/api/save_itsm_settings"))
                .header("Origin", "https://evil.example"),
            403,
        ),
    ];
    for (what, request, status) in requests {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{what}");
        assert_the_headers(&response, what);
        assert_eq!(response.headers()["cache-control"], "no-store", "{what}");
    }
}

/// Pages hold settings and server functions' answers hold data: no browser or proxy keeps
/// a copy (a shared computer's back button, a caching proxy).
#[tokio::test]
async fn pages_and_server_function_answers_are_not_stored() {
    let app = spawn_app().await;
    let page = app
        .client
        .get(format!("{}/settings/connection", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let answer = app.call("load_connection_settings", &[]).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn strict_transport_security_only_when_served_over_https() {
    let app = spawn_app().await;
    let plain = anonymous()
        .get(format!("{}/login", app.address))
        .send()
        .await
        .unwrap();
    assert!(
        plain.headers().get("strict-transport-security").is_none(),
        "a site served over http must not ask for https"
    );
    let proxied = anonymous()
        .get(format!("{}/login", app.address))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    let hsts = proxied.headers()["strict-transport-security"]
        .to_str()
        .unwrap();
    assert!(hsts.starts_with("max-age="), "{hsts}");

    let public = spawn_app_with(|config| {
        config.public_url = Some("https://itsm.example.com".to_string());
    })
    .await;
    let response = anonymous()
        .get(format!("{}/login", public.address))
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("strict-transport-security")
            .is_some(),
        "an https public URL means https"
    );
}
