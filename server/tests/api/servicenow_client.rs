//! The ServiceNow client against the simulator and its faults. What waits (Retry-After,
//! backoff, token expiry, the rate cap) is tested on tokio's paused clock: the simulator runs
//! in the same runtime, so a test waits for nothing real.

use crate::engine_support::start_sim;
use secrecy::SecretString;
use serde_json::{Value, json};
use server::servicenow::{
    ClientSettings, Credentials, Pacer, Record, ServiceNowClient, ServiceNowError,
};
use servicenow_sim::{CLIENT_ID, CLIENT_SECRET, Fault, SimHandle, USER_NAME, USER_PASSWORD};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

async fn sim() -> SimHandle {
    start_sim().await
}

fn credentials(sim: &SimHandle, password: &str) -> Credentials {
    Credentials {
        instance: sim.url(),
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(CLIENT_SECRET.to_string()),
        username: USER_NAME.into(),
        password: SecretString::from(password.to_string()),
    }
}

/// Short backoffs; a timeout long enough that a loaded machine never reaches it for real
/// (the tests that time out run on paused time).
fn fast() -> ClientSettings {
    ClientSettings {
        timeout: Duration::from_secs(5),
        base_backoff: Duration::from_millis(20),
        ..ClientSettings::default()
    }
}

fn unpaced() -> Arc<Pacer> {
    Arc::new(Pacer::unlimited())
}

fn client(sim: &SimHandle) -> ServiceNowClient {
    ServiceNowClient::new(credentials(sim, USER_PASSWORD), fast(), unpaced()).unwrap()
}

fn fields(value: Value) -> Record {
    value.as_object().unwrap().clone()
}

#[tokio::test]
async fn creates_reads_patches_and_lists_incidents_with_a_form_encoded_password_grant() {
    let sim = sim().await;
    let client = client(&sim);
    let created = client
        .create("incident", &fields(json!({"short_description": "x", "correlation_id": "k1", "assignment_group": servicenow_sim::GROUP_SYS_ID})))
        .await
        .unwrap();
    let sys_id = created["sys_id"].as_str().unwrap();
    assert_eq!(
        created["assignment_group"],
        servicenow_sim::GROUP_SYS_ID,
        "references come as plain values"
    );
    let patched = client
        .patch(
            "incident",
            sys_id,
            &fields(json!({"work_notes": "n", "state": "2"})),
        )
        .await
        .unwrap();
    assert_eq!(patched["state"], "2");
    assert_eq!(client.get("incident", sys_id).await.unwrap()["state"], "2");
    let page = client
        .list("incident", "state=2", &["sys_id", "number"], 10, 0)
        .await
        .unwrap();
    assert_eq!((page.records.len(), page.total), (1, Some(1)));
    // The token endpoint refuses anything but a form post, and one token served them all.
    assert_eq!(sim.count("POST", "/oauth_token.do"), 1);
}

#[tokio::test(start_paused = true)]
async fn reads_are_retried_after_server_errors_and_timeouts_then_succeed() {
    let sim = sim().await;
    let client = client(&sim);
    client.authenticate().await.unwrap();
    sim.inject(Fault::Status { status: 503 }, 1);
    sim.inject(Fault::Status { status: 502 }, 1);
    sim.inject(Fault::Delay { millis: 10_000 }, 1);
    assert!(client.list("incident", "", &[], 10, 0).await.is_ok());
    assert_eq!(
        sim.count("GET", "/api/now/table/incident"),
        3,
        "the timed-out one never answered"
    );
}

#[tokio::test]
async fn reads_give_up_after_the_retries_with_the_last_error() {
    let sim = sim().await;
    let client = client(&sim);
    client.authenticate().await.unwrap();
    sim.inject(Fault::Status { status: 500 }, 4);
    let error = client.list("incident", "", &[], 10, 0).await.unwrap_err();
    assert!(
        matches!(error, ServiceNowError::Server { status: 500, .. }),
        "{error}"
    );
    assert_eq!(
        sim.count("GET", "/api/now/table/incident"),
        4,
        "1 try and 3 retries"
    );
}

#[tokio::test]
async fn a_create_is_never_sent_twice() {
    let sim = sim().await;
    let client = client(&sim);
    client.authenticate().await.unwrap();
    sim.inject(Fault::Status { status: 503 }, 1);
    assert!(client.create("incident", &fields(json!({}))).await.is_err());
    sim.inject(Fault::DropAfterCreate, 1);
    let error = client
        .create("incident", &fields(json!({"correlation_id": "dropped"})))
        .await
        .unwrap_err();
    assert!(matches!(error, ServiceNowError::Network(_)), "{error}");
    assert_eq!(sim.count("POST", "/api/now/table/incident"), 2);
    // After such a failure the caller looks the record up before creating anything.
    assert_eq!(
        client
            .incidents_by_correlation_id("dropped")
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_is_waited_out_as_it_asks_or_reported_when_too_long() {
    let sim = sim().await;
    let client = client(&sim);
    client.authenticate().await.unwrap();
    sim.inject(Fault::RateLimited { retry_after: 7 }, 1);
    let started = Instant::now();
    assert!(client.list("incident", "", &[], 10, 0).await.is_ok());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(7) && waited < Duration::from_secs(8),
        "Retry-After was not obeyed: {waited:?}"
    );
    sim.inject(Fault::RateLimited { retry_after: 3600 }, 1);
    let started = Instant::now();
    let error = client.list("incident", "", &[], 10, 0).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1), "it waited");
    assert_eq!(
        error,
        ServiceNowError::RateLimited {
            retry_after: Duration::from_secs(3600)
        }
    );
}

#[tokio::test]
async fn a_revoked_token_is_replaced_once() {
    let sim = sim().await;
    let client = client(&sim);
    client.authenticate().await.unwrap();
    sim.revoke_tokens();
    assert!(client.list("incident", "", &[], 10, 0).await.is_ok());
    assert_eq!(sim.count("POST", "/oauth_token.do"), 2);
}

#[tokio::test]
async fn wrong_credentials_are_named_without_showing_them() {
    let sim = sim().await;
    let client =
        ServiceNowClient::new(credentials(&sim, "wrong-password-xyz"), fast(), unpaced()).unwrap();
    let error = client.list("incident", "", &[], 10, 0).await.unwrap_err();
    assert!(
        matches!(error, ServiceNowError::BadCredentials(_)),
        "{error}"
    );
    let shown = format!(
        "{error} {error:?} {:?}",
        credentials(&sim, "wrong-password-xyz")
    );
    for secret in ["wrong-password-xyz", CLIENT_SECRET] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(shown.contains("access_denied"));
}

#[tokio::test]
async fn a_sleeping_instance_is_an_error_not_an_empty_list() {
    let sim = sim().await;
    let client = client(&sim);
    client.authenticate().await.unwrap();
    sim.inject(Fault::Hibernate, 1);
    let error = client.list("incident", "", &[], 10, 0).await.unwrap_err();
    assert!(matches!(error, ServiceNowError::NotJson(_)), "{error}");
    assert!(error.to_string().contains("sleeping"));
}

#[tokio::test]
async fn no_such_record_and_an_unreachable_instance_are_told_apart() {
    let sim = sim().await;
    let client = client(&sim);
    let error = client
        .get("sys_user_group", "ffffffffffffffffffffffffffffffff")
        .await
        .unwrap_err();
    assert!(matches!(error, ServiceNowError::NotFound(_)), "{error}");
    let nowhere = Credentials {
        instance: "http://127.0.0.1:9".into(),
        ..credentials(&sim, USER_PASSWORD)
    };
    let settings = ClientSettings {
        max_retries: 0,
        ..fast()
    };
    let error = ServiceNowClient::new(nowhere, settings, unpaced())
        .unwrap()
        .authenticate()
        .await
        .unwrap_err();
    assert!(matches!(error, ServiceNowError::Network(_)), "{error}");
}

#[tokio::test]
async fn query_results_are_checked_again_on_our_side() {
    let sim = sim().await;
    let client = client(&sim);
    for id in ["a", "b", "c"] {
        client
            .create("incident", &fields(json!({"correlation_id": id})))
            .await
            .unwrap();
    }
    let found = client.incidents_by_correlation_id("b").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["correlation_id"], "b");
    sim.inject(Fault::IgnoreQuery, 1);
    let error = client.incidents_by_correlation_id("b").await.unwrap_err();
    assert!(
        matches!(error, ServiceNowError::QueryIgnored(_)),
        "the instance ignored the query and the client believed it: {error:?}"
    );
}

// The pacer's own tests (paused time) show the caps; this shows that every request, token
// requests included, of every client sharing a pacer counts against them.
#[tokio::test(start_paused = true)]
async fn clients_sharing_a_pacer_share_its_hourly_budget_token_requests_included() {
    let sim = sim().await;
    let pacer = Arc::new(Pacer::new(1000, Some(3)));
    let first =
        ServiceNowClient::new(credentials(&sim, USER_PASSWORD), fast(), pacer.clone()).unwrap();
    let second = ServiceNowClient::new(credentials(&sim, USER_PASSWORD), fast(), pacer).unwrap();
    first.list("incident", "", &[], 1, 0).await.unwrap();
    second.authenticate().await.unwrap();
    let started = Instant::now();
    let error = second.list("incident", "", &[], 1, 0).await.unwrap_err();
    let ServiceNowError::RateLimited { retry_after } = error else {
        panic!("{error}");
    };
    assert!(
        retry_after > Duration::from_secs(3500),
        "the budget frees up in an hour: {retry_after:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "it waited instead of answering at once"
    );
    assert_eq!(
        sim.log().len(),
        3,
        "two token requests and one read; the fourth was never sent"
    );
}

#[tokio::test]
async fn a_server_error_at_the_token_endpoint_is_reported_as_one_not_as_bad_credentials() {
    let sim = sim().await;
    let client = client(&sim);
    sim.inject_token_fault(Fault::Status { status: 503 }, 1);
    let error = client.authenticate().await.unwrap_err();
    assert!(
        matches!(error, ServiceNowError::Server { status: 503, .. }),
        "{error}"
    );
    let shown = error.to_string();
    assert!(!shown.contains("client ID and secret"), "{shown}");
    assert!(shown.contains("token request"), "{shown}");
}

#[tokio::test]
async fn a_sleeping_instance_at_the_token_endpoint_is_not_bad_credentials() {
    let sim = sim().await;
    let client = client(&sim);
    sim.inject_token_fault(Fault::Hibernate, 1);
    let error = client.authenticate().await.unwrap_err();
    assert!(matches!(error, ServiceNowError::NotJson(_)), "{error}");
}

#[tokio::test(start_paused = true)]
async fn a_429_at_the_token_endpoint_is_waited_out_like_any_other() {
    let sim = sim().await;
    let client = client(&sim);
    sim.inject_token_fault(Fault::RateLimited { retry_after: 30 }, 1);
    let started = Instant::now();
    assert!(client.list("incident", "", &[], 10, 0).await.is_ok());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(30) && waited < Duration::from_secs(31),
        "Retry-After was not obeyed: {waited:?}"
    );
    let counters = sim.counters();
    assert_eq!(counters["POST /oauth_token.do 429"], 1, "{counters:?}");
    assert_eq!(counters["POST /oauth_token.do 200"], 1, "{counters:?}");
    assert_eq!(
        counters["GET /api/now/table/incident 200"], 1,
        "{counters:?}"
    );
}

#[tokio::test]
async fn a_failed_token_request_is_retried_even_before_a_create_since_nothing_was_written() {
    let sim = sim().await;
    let client = client(&sim);
    sim.inject_token_fault(Fault::Status { status: 502 }, 1);
    client
        .create("incident", &fields(json!({"correlation_id": "once"})))
        .await
        .unwrap();
    assert_eq!(sim.count("POST", "/oauth_token.do"), 2);
    assert_eq!(sim.incidents_with_correlation_id("once").len(), 1);
}

#[tokio::test]
async fn refused_credentials_are_asked_for_once_not_retried() {
    let sim = sim().await;
    let client =
        ServiceNowClient::new(credentials(&sim, "wrong-password-xyz"), fast(), unpaced()).unwrap();
    assert!(client.list("incident", "", &[], 10, 0).await.is_err());
    assert_eq!(sim.count("POST", "/oauth_token.do"), 1);
}

#[tokio::test]
async fn an_https_instance_is_trusted_through_the_ca_file_and_only_so() {
    let (sim, cert) = servicenow_sim::start_https("127.0.0.1:0".parse().unwrap(), 1800)
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let ca_file = folder.path().join("sim.pem");
    std::fs::write(&ca_file, cert).unwrap();
    let trusting = ClientSettings {
        ca_file: Some(ca_file),
        ..fast()
    };
    let client =
        ServiceNowClient::new(credentials(&sim, USER_PASSWORD), trusting, unpaced()).unwrap();
    assert!(client.list("incident", "", &[], 1, 0).await.is_ok());

    let strict = ClientSettings {
        max_retries: 0,
        ..fast()
    };
    let error = ServiceNowClient::new(credentials(&sim, USER_PASSWORD), strict, unpaced())
        .unwrap()
        .authenticate()
        .await
        .unwrap_err();
    assert!(matches!(error, ServiceNowError::Tls(_)), "{error}");
}

#[tokio::test(start_paused = true)]
async fn backoff_between_read_retries_doubles_with_jitter() {
    let sim = sim().await;
    let client = ServiceNowClient::new(
        credentials(&sim, USER_PASSWORD),
        ClientSettings {
            base_backoff: Duration::from_secs(1),
            ..fast()
        },
        unpaced(),
    )
    .unwrap();
    client.authenticate().await.unwrap();
    sim.inject(Fault::Status { status: 503 }, 3);
    let started = Instant::now();
    assert!(client.list("incident", "", &[], 10, 0).await.is_ok());
    // Waits of 1 to 2 s, 2 to 4 s, then 4 to 8 s (half to all of base x 2^attempt).
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(7) && waited <= Duration::from_secs(14),
        "{waited:?}"
    );
    assert_eq!(sim.count("GET", "/api/now/table/incident"), 4);
}

#[tokio::test(start_paused = true)]
async fn the_token_is_reused_until_a_minute_before_it_expires_then_refreshed() {
    let sim = sim().await;
    let client = client(&sim);
    client.list("incident", "", &[], 1, 0).await.unwrap();
    // The simulator's tokens last 1800 s and it says 1799: still good 90 s before the end.
    tokio::time::advance(Duration::from_secs(1799 - 90)).await;
    client.list("incident", "", &[], 1, 0).await.unwrap();
    assert_eq!(
        sim.count("POST", "/oauth_token.do"),
        1,
        "refreshed too early"
    );
    // Within the last minute: a new token before the request.
    tokio::time::advance(Duration::from_secs(40)).await;
    client.list("incident", "", &[], 1, 0).await.unwrap();
    assert_eq!(
        sim.count("POST", "/oauth_token.do"),
        2,
        "the token was not refreshed before it expired"
    );
    assert_eq!(sim.count("GET", "/api/now/table/incident"), 3);
}

#[tokio::test(start_paused = true)]
async fn a_token_shorter_lived_than_the_margin_is_still_used_until_half_its_life() {
    // 20 s tokens (it says 19): renewed after 9.5 s, not before every request.
    let sim = servicenow_sim::start("127.0.0.1:0".parse().unwrap(), 20)
        .await
        .unwrap();
    let client = client(&sim);
    for _ in 0..3 {
        client.list("incident", "", &[], 1, 0).await.unwrap();
    }
    assert_eq!(sim.count("POST", "/oauth_token.do"), 1);
    tokio::time::advance(Duration::from_secs(10)).await;
    client.list("incident", "", &[], 1, 0).await.unwrap();
    assert_eq!(sim.count("POST", "/oauth_token.do"), 2);
}
