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
        .find(|c| {
            c.starts_with("itsm_bridge_session=") || c.starts_with("__Host-itsm_bridge_session=")
        })
        .expect("a session cookie")
}

/// The status of a server function's answer and its message (the text of its error, or "").
pub async fn refusal(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    let message = body.strip_prefix("ServerError|").unwrap_or_default();
    (status, message.to_string())
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
    assert_eq!(
        refusal(again).await,
        (
            409,
            "An admin account exists already; sign in instead.".into()
        )
    );
}

#[tokio::test]
async fn two_setups_at_once_make_exactly_one_admin() {
    let app = spawn_app_without_admin().await;
    let token = app.setup_token();
    let post = |username: &'static str| {
        let client = reqwest::Client::new();
        let url = format!("{}/api/setup_admin", app.address);
        let token = token.clone();
        async move {
            client
                .post(url)
                .form(&[
                    ("form[setup_token]", token.as_str()),
                    ("form[username]", username),
                    ("form[password]", ADMIN_PASSWORD),
                    ("form[password_confirm]", ADMIN_PASSWORD),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let (first, second) = tokio::join!(post("admin"), post("intruder"));
    let mut answers = vec![refusal(first).await, refusal(second).await];
    answers.sort();
    assert_eq!(answers[0].0, 200, "{answers:?}");
    assert_eq!(
        answers[1],
        (
            409,
            "An admin account exists already; sign in instead.".into()
        )
    );
    let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM admins")
        .fetch_one(&app.database().await)
        .await
        .unwrap();
    assert_eq!(admins, 1);
}

#[tokio::test]
async fn a_wrong_token_or_a_short_password_creates_nothing() {
    let app = spawn_app_without_admin().await;
    let wrong = setup(&app, "not-the-token", ADMIN_PASSWORD, ADMIN_PASSWORD).await;
    assert_eq!(
        refusal(wrong).await,
        (
            422,
            "This is not the setup token of this server; copy it from the server log or the \
             setup-token file."
                .into()
        )
    );
    let token = app.setup_token();
    let short = setup(&app, &token, "elevenchars", "elevenchars").await;
    assert_eq!(
        refusal(short).await,
        (
            422,
            "A password has at least 12 characters; this one has 11.".into()
        )
    );
    let mismatch = setup(&app, &token, ADMIN_PASSWORD, "something else entirely").await;
    assert_eq!(
        refusal(mismatch).await,
        (422, "The two passwords differ.".into())
    );
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
    let secure = session_cookie(&response);
    assert!(
        secure.starts_with("__Host-itsm_bridge_session=") && secure.contains("; Secure"),
        "{secure}"
    );
    assert!(
        secure.contains("; Path=/") && !secure.contains("Domain"),
        "{secure}"
    );

    // Over https only the __Host- cookie opens the session; the plain name is ignored there.
    let id = secure.split(';').next().unwrap().split_once('=').unwrap().1;
    let ask = |cookie: String| {
        reqwest::Client::new()
            .post(format!("{}/api/load_itsm_settings", app.address))
            .header("X-Forwarded-Proto", "https")
            .header("Cookie", cookie)
            .send()
    };
    assert_eq!(
        ask(format!("__Host-itsm_bridge_session={id}"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        ask(format!("itsm_bridge_session={id}"))
            .await
            .unwrap()
            .status(),
        401
    );
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
pub fn reset_password(app: &TestApp, user: &str, password: &str) -> std::process::Output {
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
    // The session is read once before the reset: the server's connection for reads is open,
    // and must still see what another process wrote.
    assert_eq!(app.call("load_itsm_settings", &[]).await.status(), 200);
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

#[tokio::test]
async fn expected_refusals_are_4xx_and_an_internal_error_is_a_bare_500() {
    let app = spawn_app().await;
    let unnamed = app.call("create_api_token", &[("form[name]", "  ")]).await;
    assert_eq!(
        refusal(unnamed).await,
        (
            422,
            "Give the token a name of 1 to 100 characters, e.g. the scanner that will use it."
                .into()
        )
    );
    let wrong = app.sign_in(ADMIN, "not the password at all").await;
    assert_eq!(
        refusal(wrong).await,
        (401, "Wrong user name or password.".into())
    );

    // An unexpected failure: the audit log cannot be written.
    sqlx::query("DROP TABLE audit_log")
        .execute(&app.database().await)
        .await
        .unwrap();
    let failed = app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    let (status, message) = refusal(failed).await;
    assert_eq!(
        (status, message.as_str()),
        (
            500,
            "Could not sign you in: an internal error occurred; the server log has the details."
        )
    );
}

#[tokio::test]
async fn a_reset_whose_sessions_cannot_be_ended_changes_no_password() {
    let app = spawn_app().await;
    // Ending the sessions fails, as a busy or broken database would make it.
    sqlx::query(
        "CREATE TRIGGER no_session_deletes BEFORE DELETE ON sessions \
         BEGIN SELECT RAISE(ABORT, 'sessions cannot be deleted'); END",
    )
    .execute(&app.database().await)
    .await
    .unwrap();
    let output = reset_password(&app, ADMIN, "a new password of length");
    assert!(!output.status.success());
    // The session lives on, and so does the old password: nothing was half done.
    assert_eq!(app.call("load_itsm_settings", &[]).await.status(), 200);
    sqlx::query("DROP TRIGGER no_session_deletes")
        .execute(&app.database().await)
        .await
        .unwrap();
    assert_ne!(
        app.sign_in(ADMIN, "a new password of length")
            .await
            .status(),
        200
    );
    assert_eq!(app.sign_in(ADMIN, ADMIN_PASSWORD).await.status(), 200);
}
