//! The ServiceNow client against answers it must not trust: a redirect (which would carry
//! the credentials to another host), a body too large to hold, an absurd token lifetime, a
//! list without end, and a value that tries to add a clause to an encoded query.

use crate::engine_support::start_sim;
use secrecy::SecretString;
use serde_json::{Value, json};
use server::servicenow::{
    ClientSettings, Credentials, Pacer, Record, ServiceNowClient, ServiceNowError,
};
use servicenow_sim::{CLIENT_ID, CLIENT_SECRET, Fault, SimHandle, USER_NAME, USER_PASSWORD};
use std::sync::Arc;
use std::time::Duration;

fn settings() -> ClientSettings {
    ClientSettings {
        timeout: Duration::from_secs(5),
        base_backoff: Duration::from_millis(20),
        ..ClientSettings::default()
    }
}

fn client_with(sim: &SimHandle, settings: ClientSettings) -> ServiceNowClient {
    let credentials = Credentials {
        instance: sim.url(),
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(CLIENT_SECRET.to_string()),
        username: USER_NAME.into(),
        password: SecretString::from(USER_PASSWORD.to_string()),
    };
    ServiceNowClient::new(credentials, settings, Arc::new(Pacer::unlimited())).unwrap()
}

fn fields(value: Value) -> Record {
    value.as_object().unwrap().clone()
}

#[tokio::test]
async fn a_redirected_token_request_is_not_followed_and_the_other_host_sees_nothing() {
    let sim = start_sim().await;
    let elsewhere = start_sim().await;
    let client = client_with(&sim, settings());
    // A 307 re-posts the OAuth form, both secrets in it, to wherever it points.
    sim.inject_token_fault(
        Fault::Redirect {
            status: 307,
            location: elsewhere.url(),
        },
        1,
    );
    let error = client.authenticate().await.unwrap_err();
    let ServiceNowError::Redirected { status, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(*status, 307);
    let shown = error.to_string();
    assert!(
        shown.contains("redirect") && shown.contains(&elsewhere.url()),
        "{shown}"
    );
    assert!(!shown.contains(CLIENT_SECRET) && !shown.contains(USER_PASSWORD));
    assert!(
        elsewhere.log().is_empty(),
        "the redirect was followed: {:?}",
        elsewhere.log()
    );
    assert_eq!(sim.count("POST", "/oauth_token.do"), 1, "and not retried");
}

#[tokio::test]
async fn a_redirected_table_request_is_not_followed_read_or_write() {
    let sim = start_sim().await;
    let elsewhere = start_sim().await;
    let client = client_with(&sim, settings());
    client.authenticate().await.unwrap();
    for status in [301, 302, 307, 308] {
        sim.inject(
            Fault::Redirect {
                status,
                location: elsewhere.url(),
            },
            1,
        );
        let error = client.list("incident", "", &[], 10, 0).await.unwrap_err();
        assert!(
            matches!(error, ServiceNowError::Redirected { status: s, .. } if s == status),
            "{status}: {error:?}"
        );
    }
    sim.inject(
        Fault::Redirect {
            status: 307,
            location: elsewhere.url(),
        },
        1,
    );
    let error = client
        .create("incident", &fields(json!({"correlation_id": "moved"})))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ServiceNowError::Redirected { .. }),
        "{error:?}"
    );
    assert!(
        !error.may_have_reached_instance(),
        "a redirect wrote nothing"
    );
    assert!(elsewhere.log().is_empty(), "{:?}", elsewhere.log());
    assert!(elsewhere.incidents().is_empty());
    assert_eq!(
        sim.count("GET", "/api/now/table/incident"),
        4,
        "a redirect is not retried"
    );
}

#[tokio::test]
async fn a_huge_table_answer_is_refused_with_a_clear_error() {
    let sim = start_sim().await;
    let client = client_with(
        &sim,
        ClientSettings {
            max_answer_bytes: 64 * 1024,
            ..settings()
        },
    );
    client.authenticate().await.unwrap();
    // Valid JSON (an empty list padded with spaces): only its size is wrong.
    sim.inject(Fault::HugeBody { bytes: 1 << 20 }, 1);
    let error = client.list("incident", "", &[], 10, 0).await.unwrap_err();
    assert!(matches!(error, ServiceNowError::TooLarge(_)), "{error:?}");
    assert!(error.to_string().contains("65536 bytes"), "{error}");
    // An answer within the limit still reads.
    sim.inject(Fault::HugeBody { bytes: 60 * 1024 }, 1);
    assert!(client.list("incident", "", &[], 10, 0).await.is_ok());
}

#[tokio::test]
async fn a_huge_token_answer_is_refused_with_a_clear_error() {
    let sim = start_sim().await;
    let client = client_with(
        &sim,
        ClientSettings {
            max_answer_bytes: 64 * 1024,
            ..settings()
        },
    );
    sim.inject_token_fault(Fault::HugeBody { bytes: 1 << 20 }, 1);
    let error = client.authenticate().await.unwrap_err();
    assert!(matches!(error, ServiceNowError::TooLarge(_)), "{error:?}");
}

#[tokio::test]
async fn a_huge_expires_in_does_not_panic_and_the_token_still_works() {
    let sim = start_sim().await;
    let client = client_with(&sim, settings());
    sim.inject_token_fault(Fault::ExpiresIn { seconds: u64::MAX }, 1);
    client.authenticate().await.unwrap();
    assert!(client.list("incident", "", &[], 1, 0).await.is_ok());
    assert_eq!(sim.count("POST", "/oauth_token.do"), 1);
}

#[tokio::test]
async fn list_all_stops_at_its_bound_instead_of_reading_without_end() {
    let sim = start_sim().await;
    let client = client_with(
        &sim,
        ClientSettings {
            max_list_records: 3,
            ..settings()
        },
    );
    for id in ["a", "b", "c", "d", "e"] {
        client
            .create("incident", &fields(json!({"correlation_id": id})))
            .await
            .unwrap();
    }
    let error = client
        .list_all("incident", "", &["sys_id"])
        .await
        .unwrap_err();
    assert!(matches!(error, ServiceNowError::TooLarge(_)), "{error:?}");
    assert!(error.to_string().contains("more than 3 records"), "{error}");
    let three = client
        .list_all("incident", "correlation_idINa,b,c", &["sys_id"])
        .await
        .unwrap();
    assert_eq!(three.len(), 3);
}

#[tokio::test]
async fn a_caret_in_a_looked_up_value_cannot_add_a_query_clause() {
    let sim = start_sim().await;
    let client = client_with(&sim, settings());
    for id in ["plain", "odd^ORcorrelation_idISNOTEMPTY", "new^NQstate=1"] {
        client
            .create("incident", &fields(json!({"correlation_id": id})))
            .await
            .unwrap();
    }
    for id in ["odd^ORcorrelation_idISNOTEMPTY", "new^NQstate=1"] {
        let found = client
            .incidents_by_correlation_id(id)
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(found.len(), 1, "{id}: {found:?}");
        assert_eq!(found[0]["correlation_id"], id);
    }
    // A value that is only a caret's prefix matches nothing.
    assert!(
        client
            .incidents_by_correlation_id("odd")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_sys_id_that_is_not_32_hexadecimal_characters_is_refused_before_any_request() {
    let sim = start_sim().await;
    let client = client_with(&sim, settings());
    client.authenticate().await.unwrap();
    sim.clear_log();
    // A path of its own, a query of its own, or just too short: none may reach the URL.
    for sys_id in ["../sys_user/0123", "abc?sysparm_query=x", "abc", ""] {
        let error = client
            .patch("incident", sys_id, &fields(json!({"work_notes": "x"})))
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("32 hexadecimal characters"),
            "{error}"
        );
        assert!(
            !error.concerns_instance(),
            "it concerns one record: {error}"
        );
        assert!(!error.may_have_reached_instance());
        let error = client.get("sys_user", sys_id).await.unwrap_err();
        assert!(
            error.to_string().contains("32 hexadecimal characters"),
            "{error}"
        );
    }
    assert!(sim.log().is_empty(), "{:?}", sim.log());
}
