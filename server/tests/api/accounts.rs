//! First-run setup, sign-in, sessions, throttling, sign-out and the password reset.

use crate::helpers::*;
use server::auth::ManualClock;
use std::sync::Arc;

fn session_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("itsm_bridge_session="))
        .expect("a session cookie")
}

async fn setup(app: &TestApp, token: &str, password: &str, confirm: &str) -> reqwest::Response {
    app.call(
        "setup_admin",
        &[
            ("form[setup_token]", token),
            ("form[username]", ADMIN),
            ("form[password]", password),
            ("form[password_confirm]", confirm),
        ],
    )
    .await
}

#[tokio::test]
async fn the_setup_token_works_once_and_its_file_goes() {
    let app = spawn_app_without_admin().await;
    let token = app.setup_token();
    let file = app.folder.path().join("itsm-bridge.setup-token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(
        setup(&app, &token, ADMIN_PASSWORD, ADMIN_PASSWORD)
            .await
            .status(),
        200
    );
    assert!(!file.exists());
    let again = setup(
        &app,
        &token,
        "another long password",
        "another long password",
    )
    .await;
    assert_eq!(again.status(), 500);
    assert!(again.text().await.unwrap().contains("exists already"));
}

#[tokio::test]
async fn a_wrong_token_or_a_short_password_creates_nothing() {
    let app = spawn_app_without_admin().await;
    let wrong = setup(&app, "not-the-token", ADMIN_PASSWORD, ADMIN_PASSWORD).await;
    assert!(wrong.text().await.unwrap().contains("setup_token"));
    let token = app.setup_token();
    let short = setup(&app, &token, "elevenchars", "elevenchars").await;
    assert!(short.text().await.unwrap().contains("password"));
    let mismatch = setup(&app, &token, ADMIN_PASSWORD, "something else entirely").await;
    assert!(mismatch.text().await.unwrap().contains("password_confirm"));
    assert_ne!(app.sign_in(ADMIN, ADMIN_PASSWORD).await.status(), 200);
    // The token still works after those refusals.
    assert_eq!(
        setup(&app, &token, ADMIN_PASSWORD, ADMIN_PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_lax_and_secure_behind_https() {
    let app = spawn_app_without_admin().await;
    app.create_admin().await;
    let cookie = session_cookie(&app.sign_in(ADMIN, ADMIN_PASSWORD).await);
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "{cookie}");

    let response = app
        .client
        .post(format!("{}/api/login", app.address))
        .header("X-Forwarded-Proto", "https")
        .form(&[
            ("form[username]", ADMIN),
            ("form[password]", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert!(session_cookie(&response).contains("; Secure"));
}

#[tokio::test]
async fn signing_in_again_makes_a_new_session_id_and_ends_the_old_one() {
    let app = spawn_app_without_admin().await;
    app.create_admin().await;
    let first = session_cookie(&app.sign_in(ADMIN, ADMIN_PASSWORD).await);
    let second = session_cookie(&app.sign_in(ADMIN, ADMIN_PASSWORD).await);
    assert_ne!(first, second);
    let old_id = first.split(';').next().unwrap();
    let replayed = reqwest::Client::new()
        .post(format!("{}/api/load_itsm_settings", app.address))
        .header("Cookie", old_id)
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), 401);
}

#[tokio::test]
async fn a_session_ends_after_30_idle_minutes() {
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let app = spawn_app_with_clock(tempfile::tempdir().unwrap(), clock.clone()).await;
    app.create_admin().await;
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    clock.advance(29 * 60);
    assert_eq!(app.call("load_itsm_settings", &[]).await.status(), 200);
    clock.advance(29 * 60);
    assert_eq!(
        app.call("load_itsm_settings", &[]).await.status(),
        200,
        "activity did not keep it alive"
    );
    clock.advance(30 * 60);
    assert_eq!(app.call("load_itsm_settings", &[]).await.status(), 401);
}

#[tokio::test]
async fn a_session_ends_12_hours_after_sign_in_even_when_busy() {
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let app = spawn_app_with_clock(tempfile::tempdir().unwrap(), clock.clone()).await;
    app.create_admin().await;
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    for _ in 0..(12 * 3 - 1) {
        clock.advance(20 * 60);
        assert_eq!(app.call("load_itsm_settings", &[]).await.status(), 200);
    }
    clock.advance(20 * 60);
    assert_eq!(app.call("load_itsm_settings", &[]).await.status(), 401);
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_user_for_15_minutes() {
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let app = spawn_app_with_clock(tempfile::tempdir().unwrap(), clock.clone()).await;
    app.create_admin().await;
    for _ in 0..5 {
        let wrong = app.sign_in(ADMIN, "not the password at all").await;
        assert!(
            wrong
                .text()
                .await
                .unwrap()
                .contains("Wrong user name or password")
        );
    }
    let locked = app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    assert!(
        locked
            .text()
            .await
            .unwrap()
            .contains("Too many failed sign-ins. Try again in 15 minutes.")
    );
    clock.advance(15 * 60);
    assert_eq!(app.sign_in(ADMIN, ADMIN_PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn an_unknown_user_gets_the_same_answer_as_a_wrong_password() {
    let app = spawn_app().await;
    let unknown = app
        .sign_in("nobody", ADMIN_PASSWORD)
        .await
        .text()
        .await
        .unwrap();
    let wrong = app
        .sign_in(ADMIN, "wrong password here")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(unknown, wrong);
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = spawn_app().await;
    let response = app.call("logout", &[]).await;
    assert!(session_cookie(&response).contains("Max-Age=0"));
    assert_eq!(app.call("load_itsm_settings", &[]).await.status(), 401);
}

/// Runs `itsm-bridge admin reset-password USER` with the password on standard input.
fn reset_password(app: &TestApp, user: &str, password: &str) -> std::process::Output {
    use std::io::Write;
    let database = app.folder.path().join("itsm-bridge.db");
    let mut child = crate::helpers::itsm_bridge_command()
        .args([
            "--database-url",
            database.to_str().unwrap(),
            "admin",
            "reset-password",
            user,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn the_command_line_resets_a_password_and_ends_its_sessions() {
    let app = spawn_app().await;
    let output = reset_password(&app, ADMIN, "a new password of length");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    assert_eq!(
        app.call("load_itsm_settings", &[]).await.status(),
        401,
        "the old session lives on"
    );
    assert_ne!(app.sign_in(ADMIN, ADMIN_PASSWORD).await.status(), 200);
    assert_eq!(
        app.sign_in(ADMIN, "a new password of length")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn the_command_line_refuses_a_short_password_or_an_unknown_user() {
    let app = spawn_app().await;
    for (user, password) in [(ADMIN, "short"), ("nobody", "long enough password")] {
        let output = reset_password(&app, user, password);
        assert!(!output.status.success(), "{user}/{password} was accepted");
    }
}
