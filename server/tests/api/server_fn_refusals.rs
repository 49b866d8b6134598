//! A server function asked with fields it cannot read, or with a body over the size limit,
//! is refused with 400 or 413 and a plain message, never a 500 carrying the decoder's text.

use crate::helpers::*;

/// Posts `body` as a form to the server function `endpoint`, the way a script would.
async fn post_form(app: &TestApp, endpoint: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
    let response = app
        .client
        .post(format!("{}/api/{endpoint}", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// The body says what went wrong in plain words, and nothing of the decoder or the framework.
fn assert_plain(body: &str, expected: &str) {
    assert!(body.contains(expected), "{body}");
    for internal in [
        "missing field",
        "invalid digit",
        "length limit",
        "Args|",
        "Deserialization|",
        "serde",
        "ParseInt",
    ] {
        assert!(!body.contains(internal), "{internal:?} in {body}");
    }
}

const UNREADABLE: &str = "The request's fields could not be read.";

#[tokio::test]
async fn unreadable_fields_get_400_with_a_plain_message() {
    let app = spawn_app().await;

    // A map where the user name, a text, should be.
    let (status, body) = post_form(&app, "login", "form%5Busername%5D%5Bx%5D=admin").await;
    assert_eq!(status, 400, "{body}");
    assert_plain(&body, UNREADABLE);

    let (status, body) = post_form(&app, "revoke_api_token", "id=abc").await;
    assert_eq!(status, 400, "{body}");
    assert_plain(&body, UNREADABLE);
}

#[tokio::test]
async fn a_body_over_the_size_limit_gets_413_with_a_plain_message() {
    let app = spawn_app().await;
    let oversized = format!("form%5Busername%5D={}", "a".repeat(3 << 20));

    let (status, body) = post_form(&app, "login", oversized.clone()).await;
    assert_eq!(status, 413, "{body}");
    assert_plain(&body, "too large");

    let (status, body) = post_form(&app, "revoke_api_token", oversized).await;
    assert_eq!(status, 413, "{body}");
    assert_plain(&body, "too large");
}
