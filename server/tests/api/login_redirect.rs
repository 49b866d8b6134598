//! Where sign-in sends the browser afterwards: only a path on this site, whatever `next` holds.

use crate::helpers::*;
use app::forms::safe_next;
use proptest::prelude::*;

/// Signs in with `next` as a browser without JavaScript does; returns the status and Location.
async fn sign_in_with_next(app: &TestApp, next: &str) -> (u16, String) {
    let response = app
        .client
        .post(format!("{}/api/login", app.address))
        .header("Accept", "text/html")
        .form(&[
            ("form[username]", ADMIN),
            ("form[password]", ADMIN_PASSWORD),
            ("form[next]", next),
        ])
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (response.status().as_u16(), location)
}

#[tokio::test]
async fn a_next_that_would_leave_the_site_leads_to_the_settings_instead() {
    let app = spawn_app_without_admin().await;
    app.create_admin().await;
    // The form field is percent-decoded once by the server: "/\t/evil.example" reaches it as
    // typed in the first case, "/%09/evil.example" in the second.
    for next in [
        "/\t/evil.example",
        "/%09/evil.example",
        "/%0a",
        "/%0d%0aSet-Cookie:x=1",
        "/ /evil.example",
        "/%20/evil.example",
        "/%5cevil.example",
        "/\\evil.example",
        "/%2f/evil.example",
        "//evil.example",
        "https://evil.example/",
        "/\u{0}",
        "/\u{a0}/evil.example",
    ] {
        let (status, location) = sign_in_with_next(&app, next).await;
        assert_eq!(status, 302, "{next:?}");
        assert_eq!(location, "/", "{next:?}");
    }
    // A newline at the end is trimmed away (it used to panic after the session was made).
    assert_eq!(sign_in_with_next(&app, "/\n").await, (302, "/".into()));
    assert_eq!(sign_in_with_next(&app, "/x\ny").await, (302, "/".into()));
}

#[tokio::test]
async fn a_next_on_this_site_is_followed() {
    let app = spawn_app_without_admin().await;
    app.create_admin().await;
    for next in ["/audit", "/scans/3?page=2", "/settings/itsm#top"] {
        assert_eq!(
            sign_in_with_next(&app, next).await,
            (302, next.to_string()),
            "{next:?}"
        );
    }
}

/// Where a browser goes with `location` from a page of this site.
fn resolved_host(location: &str) -> Option<String> {
    let base = url::Url::parse("https://itsm.example.com/login").unwrap();
    // Browsers drop tabs and newlines from a URL before parsing it, as the URL standard says.
    base.join(location)
        .ok()
        .and_then(|url| url.host_str().map(str::to_string))
}

/// Values like a `next` an attacker would try: a leading `/`, then printable ASCII mixed
/// with `%XX` escapes (some of slashes, backslashes, tabs, newlines), control characters,
/// whitespace and backslashes. Unlike `any::<String>()`, a fair share of these is accepted,
/// so the property below checks accepted values, not only the fallback.
fn next_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => "[ -~]{1,6}",
        2 => "%[0-9a-fA-F]{2}",
        2 => "%(09|0a|0A|0d|00|5c|5C|2f|2F|20|7f)",
        1 => "[\t\n\r\x00\x0b\u{a0}\\\\/]",
    ];
    proptest::collection::vec(piece, 0..8).prop_map(|pieces| format!("/{}", pieces.concat()))
}

/// What a browser does with an accepted `next`: it stays on the site, as sent and once
/// percent-decoded (what a server behind might see).
fn assert_stays_on_the_site(next: &str, target: &str) -> Result<(), TestCaseError> {
    prop_assert!(target.starts_with('/'), "{next:?} -> {target:?}");
    prop_assert!(http::HeaderValue::from_str(target).is_ok(), "{target:?}");
    prop_assert_eq!(resolved_host(target), Some("itsm.example.com".to_string()));
    let decoded: String = url::form_urlencoded::parse(format!("x={target}").as_bytes())
        .map(|(_, v)| v.into_owned())
        .collect();
    prop_assert_eq!(
        resolved_host(&decoded),
        Some("itsm.example.com".to_string()),
        "{:?}",
        decoded
    );
    Ok(())
}

/// `next` was accepted as it is rather than replaced by the fallback (`/`, which is also a
/// `next` that is accepted as it is).
fn accepted(next: &str, target: &str) -> bool {
    target == next.trim()
}

#[test]
fn the_generated_values_exercise_acceptance() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = next_like();
    let total = 2000;
    let mut taken = 0;
    for _ in 0..total {
        let next = strategy.new_tree(&mut runner).unwrap().current();
        let target = safe_next(&next);
        assert_stays_on_the_site(&next, &target).unwrap();
        taken += usize::from(accepted(&next, &target));
    }
    // A strategy that almost never produces an acceptable value would test only the
    // fallback: at least a fifth must be accepted, and some refused.
    assert!(taken * 5 >= total, "only {taken} of {total} accepted");
    assert!(
        taken < total,
        "nothing was refused: the strategy is too tame"
    );
}

proptest! {
    #[test]
    fn the_accepted_next_always_stays_on_the_site(
        next in prop_oneof![3 => next_like(), 1 => any::<String>()],
    ) {
        let target = safe_next(&next);
        assert_stays_on_the_site(&next, &target)?;
    }

    #[test]
    fn slashes_tabs_and_backslashes_at_the_start_never_pass(
        middle in "[/\\\\\t\n\r %09%0a%5c%2f]{1,6}",
        host in "[a-z]{1,8}\\.example",
    ) {
        let target = safe_next(&format!("/{middle}{host}"));
        prop_assert_eq!(resolved_host(&target), Some("itsm.example.com".to_string()));
        prop_assert!(!target.contains('\\') && !target.chars().any(char::is_whitespace));
    }
}
