//! Sabotage of the client's failure paths: the refresh grant refused or failing, and a
//! create that times out. Each runs on tokio's paused clock with the simulator in the same
//! runtime, so expiry and timeouts are reached without waiting.

use crate::engine_support::start_sim;
use secrecy::SecretString;
use serde_json::json;
use server::servicenow::{ClientSettings, Credentials, Pacer, ServiceNowClient, ServiceNowError};
use servicenow_sim::{CLIENT_ID, CLIENT_SECRET, Fault, SimHandle, USER_NAME, USER_PASSWORD};
use std::sync::Arc;
use std::time::Duration;

/// Past the simulator's token lifetime (1800 s): the client must get a new token first.
const PAST_EXPIRY: Duration = Duration::from_secs(1800);

async fn sim() -> SimHandle {
    start_sim().await
}

fn client(sim: &SimHandle, max_retries: u32) -> ServiceNowClient {
    let credentials = Credentials {
        instance: sim.url(),
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(CLIENT_SECRET.to_string()),
        username: USER_NAME.into(),
        password: SecretString::from(USER_PASSWORD.to_string()),
    };
    let settings = ClientSettings {
        timeout: Duration::from_secs(2),
        base_backoff: Duration::from_millis(100),
        max_retries,
        ..ClientSettings::default()
    };
    ServiceNowClient::new(credentials, settings, Arc::new(Pacer::unlimited())).unwrap()
}

#[tokio::test(start_paused = true)]
async fn an_expired_refresh_token_falls_back_to_the_password_grant() {
    let sim = sim().await;
    let client = client(&sim, 3);
    client.list("incident", "", &[], 1, 0).await.unwrap();
    sim.expire_refresh_tokens();
    tokio::time::advance(PAST_EXPIRY).await;
    client.list("incident", "", &[], 1, 0).await.unwrap();
    let counters = sim.counters();
    // The first grant, the refused refresh grant, the password grant instead.
    assert_eq!(counters["POST /oauth_token.do 200"], 2, "{counters:?}");
    assert_eq!(counters["POST /oauth_token.do 401"], 1, "{counters:?}");
    assert_eq!(
        counters["GET /api/now/table/incident 200"], 2,
        "{counters:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_refresh_grant_refused_with_an_oauth_error_falls_back_to_the_password_grant() {
    let sim = sim().await;
    let client = client(&sim, 0);
    client.authenticate().await.unwrap();
    tokio::time::advance(PAST_EXPIRY).await;
    // Any refusal of the grant (400 invalid_grant, 401): the password grant, at once.
    sim.inject_token_fault(Fault::Status { status: 400 }, 1);
    client.list("incident", "", &[], 1, 0).await.unwrap();
    let counters = sim.counters();
    assert_eq!(counters["POST /oauth_token.do 400"], 1, "{counters:?}");
    assert_eq!(counters["POST /oauth_token.do 200"], 2, "{counters:?}");
}

#[tokio::test(start_paused = true)]
async fn a_refresh_grant_failing_on_the_server_is_reported_as_such_or_retried() {
    let sim = sim().await;
    // Without retries (as Test connection runs): the failure in words, not "bad credentials".
    let once = client(&sim, 0);
    once.authenticate().await.unwrap();
    tokio::time::advance(PAST_EXPIRY).await;
    sim.inject_token_fault(Fault::Status { status: 503 }, 1);
    let error = once.list("incident", "", &[], 1, 0).await.unwrap_err();
    assert!(
        matches!(error, ServiceNowError::Server { status: 503, .. }),
        "{error:?}"
    );
    let shown = error.to_string();
    assert!(shown.contains("token request"), "{shown}");
    assert!(!shown.contains("client ID and secret"), "{shown}");
    assert_eq!(sim.count("GET", "/api/now/table/incident"), 0);

    // With retries (as the engine runs): the next attempt gets its token and reads.
    let retrying = client(&sim, 3);
    retrying.authenticate().await.unwrap();
    tokio::time::advance(PAST_EXPIRY).await;
    sim.inject_token_fault(Fault::Status { status: 503 }, 1);
    retrying.list("incident", "", &[], 1, 0).await.unwrap();
    assert_eq!(sim.count("GET", "/api/now/table/incident"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_create_that_times_out_is_never_sent_again() {
    let sim = sim().await;
    let client = client(&sim, 3);
    client.authenticate().await.unwrap();
    // The instance creates the incident but answers after 10 s; the client gives up at 2 s.
    sim.inject(Fault::DelayAfterCreate { millis: 10_000 }, 1);
    let fields = json!({"correlation_id": "slow", "short_description": "x"});
    let error = client
        .create("incident", fields.as_object().unwrap())
        .await
        .unwrap_err();
    assert_eq!(error, ServiceNowError::Timeout(Duration::from_secs(2)));
    assert!(
        error.may_have_reached_instance(),
        "the caller must look it up"
    );
    // Long after the instance answered (to nobody), still the one create.
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(sim.count("POST", "/api/now/table/incident"), 1);
    assert_eq!(sim.incidents_with_correlation_id("slow").len(), 1);
}
