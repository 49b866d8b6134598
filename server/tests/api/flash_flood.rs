//! The flash store under a flood of refused sign-ins from anyone: they keep to their own
//! budget, so a signed-in admin's messages (a new API token, shown once) are still kept, and
//! a person's own refused sign-in still shows its message.

use crate::helpers::*;

/// A refused sign-in without JavaScript, with the largest `next` the form takes, in
/// characters of 4 bytes: before the fix each kept ~8 KiB, and ~500 filled the store.
async fn refused_sign_in(client: &reqwest::Client, app: &TestApp, next: usize) -> String {
    let next = format!("/{}", "\u{1F600}".repeat(next));
    let response = client
        .post(format!("{}/api/login", app.address))
        .header("Accept", "text/html")
        .form(&[
            ("form[username]", "bad name!"),
            ("form[password]", "whatever"),
            ("form[next]", next.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    response.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn refused_sign_ins_from_anyone_never_crowd_out_an_admins_new_token() {
    let app = spawn_app().await;
    let anyone = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Large flashes first, then smaller ones to fill what room they leave.
    for (posts, next) in [(700, 2000), (150, 200), (100, 0)] {
        for _ in 0..posts {
            refused_sign_in(&anyone, &app, next).await;
        }
    }

    // The admin, without JavaScript, creates a token: it is shown after the redirect.
    let response = app
        .client
        .post(format!("{}/api/create_api_token", app.address))
        .header("Accept", "text/html")
        // A long name: the token's flash is larger than the smallest refused sign-in's.
        .form(&[("form[name]", "\u{1F600}".repeat(100).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let (_, page) = app.get_text(&location).await;
    assert!(
        page.contains("itsmb_") && page.contains("not shown again"),
        "the new token was not shown: {location}"
    );

    // Someone's own refused sign-in, after the flood, still says why.
    let location = refused_sign_in(&anyone, &app, 2000).await;
    assert!(location.starts_with("/login?flash="), "{location}");
    let page = anyone
        .get(format!("{}{location}", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("is not allowed"),
        "no message after the flood"
    );
}
