//! The sign-in throttle: per user name a growing delay, never a refusal of the right
//! password; per client address a refusal past a limit; the client address from the socket,
//! or from the header a trusted reverse proxy sets.

use crate::accounts::refusal;
use crate::helpers::*;
use server::auth::{Clock, ManualClock};
use server::configuration::Config;
use std::sync::Arc;

const START: i64 = 1_800_000_000;

/// An app whose clock only moves when told to (or when the throttle makes a sign-in wait),
/// behind a reverse proxy that sets X-Forwarded-For when `behind_proxy`.
async fn spawn(clock: Arc<ManualClock>, behind_proxy: bool) -> TestApp {
    let app = spawn_app_configured(tempfile::tempdir().unwrap(), clock, |config| {
        if behind_proxy {
            let mut args = vec!["itsm-bridge", "--trusted-proxy-header", "X-Forwarded-For"];
            let database = config.database_url.clone();
            args.extend([
                "--database-url",
                database.as_str(),
                "--listen",
                "127.0.0.1:0",
            ]);
            let site = config.site_root.clone();
            *config = Config::from_flags_only(args).expect("the flag is known");
            config.site_root = site;
        }
    })
    .await;
    app.create_admin().await;
    app
}

async fn sign_in_from(app: &TestApp, from: &str, password: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/login", app.address))
        .header("X-Forwarded-For", format!("192.0.2.1, {from}"))
        .form(&[("form[username]", ADMIN), ("form[password]", password)])
        .send()
        .await
        .unwrap();
    refusal(response).await
}

async fn audit_actions(app: &TestApp) -> Vec<(String, Option<String>)> {
    sqlx::query_as("SELECT action, address FROM audit_log ORDER BY id")
        .fetch_all(&app.database().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn guesses_from_many_addresses_slow_the_admin_down_but_never_lock_them_out() {
    let clock = Arc::new(ManualClock::new(START));
    let app = spawn(clock.clone(), true).await;
    for i in 0..40 {
        let (status, message) =
            sign_in_from(&app, &format!("198.51.100.{i}"), "a wrong guess").await;
        assert_eq!(status, 401, "{message}");
        assert!(
            message.starts_with("Wrong user name or password."),
            "{message}"
        );
    }
    let before = clock.now();
    assert!(
        before - START >= 5 * 30,
        "the guesses were not slowed down: {} s",
        before - START
    );
    let (status, _) = sign_in_from(&app, "203.0.113.50", ADMIN_PASSWORD).await;
    assert_eq!(status, 200, "the right password was refused");
    let waited = clock.now() - before;
    assert!(
        (1..=30).contains(&waited),
        "the right password waited {waited} s"
    );
}

#[tokio::test]
async fn each_failure_makes_the_next_sign_in_of_that_user_wait_longer() {
    let clock = Arc::new(ManualClock::new(START));
    let app = spawn(clock.clone(), true).await;
    let mut waits = Vec::new();
    for i in 0..10 {
        let before = clock.now();
        sign_in_from(&app, &format!("198.51.100.{i}"), "a wrong guess").await;
        waits.push(clock.now() - before);
    }
    assert_eq!(waits, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16]);
    // The delay is for that user name only.
    let before = clock.now();
    let other = reqwest::Client::new()
        .post(format!("{}/api/login", app.address))
        .form(&[
            ("form[username]", "someone.else"),
            ("form[password]", "a wrong guess"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 401);
    assert_eq!(clock.now(), before);
}

#[tokio::test]
async fn parallel_guesses_from_one_address_are_counted_before_any_is_checked() {
    let clock = Arc::new(ManualClock::new(START));
    let app = spawn(clock.clone(), false).await;
    let guesses = (0..30).map(|_| async {
        let response = reqwest::Client::new()
            .post(format!("{}/api/login", app.address))
            .form(&[
                ("form[username]", ADMIN),
                ("form[password]", "a wrong guess"),
            ])
            .send()
            .await
            .unwrap();
        refusal(response).await
    });
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers.iter().filter(|(status, _)| *status == 401).count();
    let refused: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status == 429)
        .collect();
    assert_eq!((checked, refused.len()), (20, 10), "{answers:?}");
    assert!(
        refused[0]
            .1
            .starts_with("Too many failed sign-ins from your address. Try again in "),
        "{refused:?}"
    );
    // Refused attempts are audited once per address and window, not once each.
    let throttled = audit_actions(&app)
        .await
        .into_iter()
        .filter(|(action, _)| action == "login.throttled")
        .count();
    assert_eq!(throttled, 1);
}

#[tokio::test]
async fn the_address_limit_is_per_client_behind_the_trusted_proxy() {
    let clock = Arc::new(ManualClock::new(START));
    let app = spawn(clock.clone(), true).await;
    for _ in 0..20 {
        assert_eq!(
            sign_in_from(&app, "198.51.100.7", "a wrong guess").await.0,
            401
        );
    }
    let (status, message) = sign_in_from(&app, "198.51.100.7", ADMIN_PASSWORD).await;
    assert_eq!(status, 429, "{message}");
    // Another client behind the same proxy (the same socket address) is not refused.
    assert_eq!(
        sign_in_from(&app, "198.51.100.8", ADMIN_PASSWORD).await.0,
        200
    );
    // The audit log names the client as the proxy saw it: the right-most entry.
    let actions = audit_actions(&app).await;
    assert!(
        actions.contains(&("login.failed".into(), Some("198.51.100.7".into()))),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("login".into(), Some("198.51.100.8".into()))),
        "{actions:?}"
    );
    clock.advance(15 * 60);
    assert_eq!(
        sign_in_from(&app, "198.51.100.7", ADMIN_PASSWORD).await.0,
        200
    );
}

#[tokio::test]
async fn without_a_trusted_proxy_the_forwarded_header_is_ignored() {
    let clock = Arc::new(ManualClock::new(START));
    let app = spawn(clock, false).await;
    sign_in_from(&app, "198.51.100.7", "a wrong guess").await;
    let actions = audit_actions(&app).await;
    assert_eq!(
        actions.last(),
        Some(&("login.failed".into(), Some("127.0.0.1".into())))
    );
}

#[tokio::test]
async fn a_password_reset_ends_the_slow_down_of_that_user() {
    let clock = Arc::new(ManualClock::new(START));
    let app = spawn(clock.clone(), true).await;
    for i in 0..12 {
        sign_in_from(&app, &format!("198.51.100.{i}"), "a wrong guess").await;
    }
    let output = crate::accounts::reset_password(&app, ADMIN, "a brand new password");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let before = clock.now();
    let (status, _) = sign_in_from(&app, "203.0.113.50", "a brand new password").await;
    assert_eq!(status, 200);
    assert_eq!(
        clock.now(),
        before,
        "the sign-in after the reset was slowed down"
    );
}
