//! The idle timeout is right at any setting: the last-seen time is written often enough
//! that an active session lives on and an idle one ends on time, even at one minute.

use crate::helpers::{ADMIN, ADMIN_PASSWORD, spawn_app_configured};
use server::auth::ManualClock;
use std::sync::Arc;

#[tokio::test]
async fn a_one_minute_idle_session_lives_while_used_and_ends_a_minute_after() {
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let app = spawn_app_configured(tempfile::tempdir().unwrap(), clock.clone(), |config| {
        config.session_idle_minutes = 1;
    })
    .await;
    app.create_admin().await;
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    for step in 1..=10 {
        clock.advance(30);
        assert_eq!(
            app.call("load_itsm_settings", &[]).await.status(),
            200,
            "a request every 30 s: ended after {} s",
            step * 30
        );
    }
    clock.advance(59);
    assert_eq!(app.call("load_itsm_settings", &[]).await.status(), 200);
    clock.advance(60);
    assert_eq!(app.call("load_itsm_settings", &[]).await.status(), 401);
}
