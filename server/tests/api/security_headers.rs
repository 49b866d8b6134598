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

#[tokio::test]
async fn every_answer_has_the_headers_even_a_refusal() {
    let app = spawn_app().await;
    for path in ["/healthz", "/login", "/no-such-page"] {
        let response = reqwest::get(format!("{}{path}", app.address))
            .await
            .unwrap();
        let policy = response.headers().get("content-security-policy");
        assert!(policy.is_some(), "{path} has no policy");
        assert!(response.headers().get("x-content-type-options").is_some());
    }
}
