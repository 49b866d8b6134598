//! The simulator against docs/SERVICENOW.md's list ("The simulator"), one test (or more) per point.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use servicenow_sim::*;

async fn sim() -> SimHandle {
    start("127.0.0.1:0".parse().unwrap(), 1800).await.unwrap()
}

/// Posts a form to the token endpoint.
async fn token_request(sim: &SimHandle, form: &[(&str, &str)]) -> reqwest::Response {
    Client::new()
        .post(format!("{}/oauth_token.do", sim.url()))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// The password grant's answer for the seeded user, with `client_secret`.
async fn password_grant(sim: &SimHandle, client_secret: &str) -> reqwest::Response {
    token_request(
        sim,
        &[
            ("grant_type", "password"),
            ("client_id", CLIENT_ID),
            ("client_secret", client_secret),
            ("username", USER_NAME),
            ("password", USER_PASSWORD),
        ],
    )
    .await
}

async fn token(sim: &SimHandle) -> String {
    let answer: Value = password_grant(sim, CLIENT_SECRET)
        .await
        .json()
        .await
        .unwrap();
    answer["access_token"].as_str().unwrap().to_string()
}

fn table(sim: &SimHandle, path: &str) -> String {
    format!("{}/api/now/table/{path}", sim.url())
}

async fn create(sim: &SimHandle, token: &str, body: Value) -> reqwest::Response {
    Client::new()
        .post(table(sim, "incident"))
        .bearer_auth(token)
        .header("Accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn get(sim: &SimHandle, token: &str, path: &str) -> reqwest::Response {
    Client::new()
        .get(table(sim, path))
        .bearer_auth(token)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
}

// 1. The token endpoint.
#[tokio::test]
async fn the_token_endpoint_takes_form_posts_only_and_answers_like_servicenow() {
    let sim = sim().await;
    let first = token(&sim).await;
    assert_eq!(
        first,
        token(&sim).await,
        "a valid token is handed out again"
    );
    let json_body = Client::new()
        .post(format!("{}/oauth_token.do", sim.url()))
        .json(&json!({"grant_type": "password", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "username": USER_NAME, "password": USER_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        json_body.json::<Value>().await.unwrap(),
        json!({"error_description": "access_denied", "error": "server_error"})
    );
    let wrong = password_grant(&sim, "wrong").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_refresh_grant_works_and_expired_tokens_are_refused() {
    let sim = start("127.0.0.1:0".parse().unwrap(), 1).await.unwrap();
    let answer: Value = password_grant(&sim, CLIENT_SECRET)
        .await
        .json()
        .await
        .unwrap();
    let access = answer["access_token"].as_str().unwrap().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        get(&sim, &access, "incident").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let refresh = answer["refresh_token"].as_str().unwrap();
    let refreshed: Value = token_request(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("refresh_token", refresh),
        ],
    )
    .await
    .json()
    .await
    .unwrap();
    let fresh = refreshed["access_token"].as_str().unwrap();
    assert_ne!(fresh, access);
    assert_eq!(get(&sim, fresh, "incident").await.status(), StatusCode::OK);
}

// 2. The Table API.
#[tokio::test]
async fn a_created_incident_has_string_fields_references_and_a_location() {
    let sim = sim().await;
    let token = token(&sim).await;
    let response = create(&sim, &token, json!({"short_description": "S3 bucket public", "assignment_group": GROUP_SYS_ID, "caller_id": USER_SYS_ID, "urgency": 1, "correlation_id": "itsm-bridge:r:1"})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let record = response.json::<Value>().await.unwrap()["result"].clone();
    let sys_id = record["sys_id"].as_str().unwrap();
    assert_eq!(sys_id.len(), 32);
    assert!(location.ends_with(&format!("/api/now/table/incident/{sys_id}")));
    assert_eq!(record["number"], "INC0010001");
    assert_eq!(record["state"], "1");
    assert_eq!(record["urgency"], "1", "numbers come back as strings");
    assert_eq!(record["active"], "true");
    assert_eq!(record["assignment_group"]["value"], GROUP_SYS_ID);
    assert!(
        record["assignment_group"]["link"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/sys_user_group/{GROUP_SYS_ID}"))
    );
    assert!(record["opened_at"].as_str().unwrap().len() == 19);

    let plain: Value = get(&sim, &token, &format!("incident/{sys_id}?sysparm_exclude_reference_link=true&sysparm_fields=sys_id,assignment_group,work_notes")).await.json().await.unwrap();
    assert_eq!(
        plain["result"],
        json!({"sys_id": sys_id, "assignment_group": GROUP_SYS_ID, "work_notes": ""})
    );
}

#[tokio::test]
async fn resolving_needs_close_fields_and_stamps_resolved_at() {
    let sim = sim().await;
    let token = token(&sim).await;
    let record: Value = create(&sim, &token, json!({"short_description": "x"}))
        .await
        .json()
        .await
        .unwrap();
    let sys_id = record["result"]["sys_id"].as_str().unwrap();
    let patch = |body: Value| {
        let url = table(&sim, &format!("incident/{sys_id}"));
        let token = token.clone();
        async move {
            Client::new()
                .patch(url)
                .bearer_auth(token)
                .header("Accept", "application/json")
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        patch(json!({"state": "6"})).await.status(),
        StatusCode::FORBIDDEN
    );
    let resolved: Value = patch(json!({"state": "6", "close_code": "Solved (Permanently)", "close_notes": "fixed", "work_notes": "note"})).await.json().await.unwrap();
    assert_eq!(resolved["result"]["active"], "false");
    assert!(
        !resolved["result"]["resolved_at"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        resolved["result"]["work_notes"], "",
        "journal fields read back empty"
    );
    let missing = Client::new()
        .patch(table(&sim, "incident/0123456789abcdef0123456789abcdef"))
        .bearer_auth(&token)
        .header("Accept", "application/json")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["error"]["message"],
        "No Record found"
    );
}

#[tokio::test]
async fn lists_carry_total_count_and_link_headers_and_page() {
    let sim = sim().await;
    let token = token(&sim).await;
    for i in 0..5 {
        create(&sim, &token, json!({"short_description": format!("n{i}")})).await;
    }
    let page = get(
        &sim,
        &token,
        "incident?sysparm_limit=2&sysparm_offset=2&sysparm_query=ORDERBYnumber",
    )
    .await;
    assert_eq!(page.headers()["x-total-count"], "5");
    let link = page.headers()["link"].to_str().unwrap().to_string();
    for rel in ["first", "prev", "next", "last"] {
        assert!(link.contains(&format!("rel=\"{rel}\"")), "{link}");
    }
    let body: Value = page.json().await.unwrap();
    let numbers: Vec<_> = body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(numbers, ["INC0010003", "INC0010004"]);
    let none: Value = get(&sim, &token, "incident?sysparm_query=number=INC9")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["result"], json!([]));
}

#[tokio::test]
async fn the_seeded_group_user_and_state_choices_are_there() {
    let sim = sim().await;
    let token = token(&sim).await;
    assert_eq!(
        get(&sim, &token, &format!("sys_user_group/{GROUP_SYS_ID}"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        get(&sim, &token, &format!("sys_user/{USER_SYS_ID}"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        get(&sim, &token, "sys_user/ffffffffffffffffffffffffffffffff")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let states: Value = get(&sim, &token, "sys_choice?sysparm_query=name=incident^element=state^inactive=false&sysparm_fields=value,label").await.json().await.unwrap();
    let values: Vec<_> = states["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["1", "2", "3", "6", "7", "8"]);
}

// 3. The encoded query, and its pitfall.
#[tokio::test]
async fn a_misspelt_field_in_a_query_is_ignored_and_matches_everything() {
    let sim = sim().await;
    let token = token(&sim).await;
    create(&sim, &token, json!({"correlation_id": "a"})).await;
    create(&sim, &token, json!({"correlation_id": "b"})).await;
    let right: Value = get(&sim, &token, "incident?sysparm_query=correlation_id=a")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(right["result"].as_array().unwrap().len(), 1);
    let misspelt: Value = get(&sim, &token, "incident?sysparm_query=correlaton_id=a")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(misspelt["result"].as_array().unwrap().len(), 2);
}

// 4. Auth.
#[tokio::test]
async fn basic_auth_works_and_a_request_without_credentials_gets_the_401_body() {
    let sim = sim().await;
    let basic = Client::new()
        .get(table(&sim, "incident"))
        .basic_auth(USER_NAME, Some(USER_PASSWORD))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::OK);
    let none = Client::new()
        .get(table(&sim, "incident"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let body: Value = none.json().await.unwrap();
    assert_eq!(body["error"]["message"], "User Not Authenticated");
    assert_eq!(body["status"], "failure");
    let html = Client::new()
        .get(table(&sim, "incident"))
        .basic_auth(USER_NAME, Some(USER_PASSWORD))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(
        html.status(),
        StatusCode::BAD_REQUEST,
        "an Accept without JSON is refused"
    );
}

// 5. Faults.
#[tokio::test]
async fn scripted_faults_come_in_order_then_normal_answers_resume() {
    let sim = sim().await;
    let token = token(&sim).await;
    sim.inject(Fault::Status { status: 503 }, 1);
    sim.inject(Fault::RateLimited { retry_after: 7 }, 1);
    sim.inject(Fault::Hibernate, 1);
    assert_eq!(
        get(&sim, &token, "incident").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let limited = get(&sim, &token, "incident").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "7");
    let asleep = get(&sim, &token, "incident").await;
    assert_eq!(asleep.status(), StatusCode::OK);
    assert!(asleep.text().await.unwrap().contains("hibernating"));
    assert_eq!(get(&sim, &token, "incident").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_hourly_limit_is_real() {
    let sim = sim().await;
    let token = token(&sim).await;
    sim.limit_per_hour(3);
    for _ in 0..3 {
        assert_eq!(get(&sim, &token, "incident").await.status(), StatusCode::OK);
    }
    let over = get(&sim, &token, "incident").await;
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = over.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 3500 && retry <= 3600);
    assert_eq!(over.headers()["x-ratelimit-limit"], "3");
    assert!(
        over.json::<Value>().await.unwrap()["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("Rate limit of 3 requests per hour")
    );
}

#[tokio::test]
async fn a_delay_outlasts_a_client_timeout() {
    let sim = sim().await;
    let token = token(&sim).await;
    sim.inject(Fault::Delay { millis: 1500 }, 1);
    let client = Client::builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let result = client
        .get(table(&sim, "incident"))
        .bearer_auth(&token)
        .header("Accept", "application/json")
        .send()
        .await;
    assert!(result.unwrap_err().is_timeout());
}

#[tokio::test]
async fn revoked_tokens_stop_working() {
    let sim = sim().await;
    let token = token(&sim).await;
    sim.revoke_tokens();
    assert_eq!(
        get(&sim, &token, "incident").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_dropped_connection_after_a_create_leaves_the_record_behind() {
    let sim = sim().await;
    let token = token(&sim).await;
    sim.inject(Fault::DropAfterCreate, 1);
    let result = Client::new()
        .post(table(&sim, "incident"))
        .bearer_auth(&token)
        .header("Accept", "application/json")
        .json(&json!({"correlation_id": "dropped"}))
        .send()
        .await;
    assert!(result.is_err(), "the client heard an answer");
    assert_eq!(sim.incidents().len(), 1);
    assert_eq!(sim.incidents()[0]["correlation_id"], "dropped");
}

#[tokio::test]
async fn the_admin_api_scripts_faults_too() {
    let sim = sim().await;
    let token = token(&sim).await;
    let answer = Client::new()
        .post(format!("{}/_sim/faults", sim.url()))
        .json(&json!({"kind": "status", "status": 502, "times": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get(&sim, &token, "incident").await.status(),
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(
        get(&sim, &token, "incident").await.status(),
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(get(&sim, &token, "incident").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_token_fault_hits_the_token_endpoint_and_leaves_the_table_api_alone() {
    let sim = sim().await;
    let token = token(&sim).await;
    sim.inject_token_fault(Fault::Status { status: 503 }, 1);
    assert_eq!(get(&sim, &token, "incident").await.status(), StatusCode::OK);
    let failed = password_grant(&sim, CLIENT_SECRET).await;
    assert_eq!(failed.status(), StatusCode::SERVICE_UNAVAILABLE);
    let answer = Client::new()
        .post(format!("{}/_sim/faults", sim.url()))
        .json(&json!({"kind": "rate_limited", "retry_after": 9, "target": "token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    assert_eq!(get(&sim, &token, "incident").await.status(), StatusCode::OK);
    let limited = password_grant(&sim, CLIENT_SECRET).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "9");
    assert_eq!(
        password_grant(&sim, CLIENT_SECRET).await.status(),
        StatusCode::OK
    );
    let unknown = Client::new()
        .post(format!("{}/_sim/faults", sim.url()))
        .json(&json!({"kind": "hibernate", "target": "tokens"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_ignore_query_fault_answers_every_record() {
    let sim = sim().await;
    let token = token(&sim).await;
    create(&sim, &token, json!({"correlation_id": "a"})).await;
    create(&sim, &token, json!({"correlation_id": "b"})).await;
    sim.inject(Fault::IgnoreQuery, 1);
    let ignored: Value = get(&sim, &token, "incident?sysparm_query=correlation_id=a")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ignored["result"].as_array().unwrap().len(), 2);
    let heeded: Value = get(&sim, &token, "incident?sysparm_query=correlation_id=a")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(heeded["result"].as_array().unwrap().len(), 1);
}

// 6. The request log.
#[tokio::test]
async fn every_request_is_logged_with_its_status() {
    let sim = sim().await;
    let token = token(&sim).await;
    get(&sim, &token, "incident").await;
    create(&sim, &token, json!({})).await;
    assert_eq!(sim.count("POST", "/oauth_token.do"), 1);
    assert_eq!(sim.count("GET", "/api/now/table/incident"), 1);
    let log: Vec<LogEntry> = Client::new()
        .get(format!("{}/_sim/log", sim.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let counters: Value = Client::new()
        .get(format!("{}/_sim/counters", sim.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["POST /api/now/table/incident 201"], 1);
    assert_eq!(counters["GET /api/now/table/incident 200"], 1);
    assert_eq!(
        log.last().unwrap(),
        &LogEntry {
            method: "POST".into(),
            path: "/api/now/table/incident".into(),
            status: 201
        }
    );
}

#[tokio::test]
async fn the_log_can_be_cleared_and_counted_from_the_handle() {
    let sim = sim().await;
    let token = token(&sim).await;
    get(&sim, &token, "incident").await;
    sim.clear_log();
    assert!(sim.log().is_empty());
    create(&sim, &token, json!({})).await;
    get(&sim, &token, "incident/ffffffffffffffffffffffffffffffff").await;
    let counters = sim.counters();
    assert_eq!(
        counters.into_iter().collect::<Vec<_>>(),
        [
            (
                "GET /api/now/table/incident/ffffffffffffffffffffffffffffffff 404".to_string(),
                1
            ),
            ("POST /api/now/table/incident 201".to_string(), 1),
        ]
    );
}

// 7. The journal.
#[tokio::test]
async fn work_notes_are_kept_in_the_journal_oldest_first_and_refused_writes_leave_none() {
    let sim = sim().await;
    let token = token(&sim).await;
    let record: Value = create(
        &sim,
        &token,
        json!({"correlation_id": "k", "work_notes": "opened", "comments": "hello"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let sys_id = record["result"]["sys_id"].as_str().unwrap().to_string();
    let patch = |body: Value| {
        let url = table(&sim, &format!("incident/{sys_id}"));
        let token = token.clone();
        async move {
            Client::new()
                .patch(url)
                .bearer_auth(token)
                .header("Accept", "application/json")
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        patch(json!({"work_notes": "seen again"})).await,
        StatusCode::OK
    );
    assert_eq!(
        patch(json!({"state": "6", "work_notes": "refused by the data policy"})).await,
        StatusCode::FORBIDDEN
    );
    let refused = create(
        &sim,
        &token,
        json!({"state": "7", "work_notes": "refused create"}),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(sim.work_notes(&sys_id), ["opened", "seen again"]);
    let journal = sim.journal();
    assert_eq!(journal.len(), 3);
    let comments: Vec<&JournalEntry> = journal.iter().filter(|e| e.field == "comments").collect();
    assert_eq!(
        comments,
        [&JournalEntry {
            sys_id: sys_id.clone(),
            field: "comments".into(),
            text: "hello".into()
        }]
    );
    create(&sim, &token, json!({"correlation_id": "k"})).await;
    create(&sim, &token, json!({"correlation_id": "other"})).await;
    let same = sim.incidents_with_correlation_id("k");
    assert_eq!(same.len(), 2);
    assert_eq!(same[0]["sys_id"], sys_id, "oldest first");
    assert!(sim.incidents_with_correlation_id("nobody").is_empty());
}

#[tokio::test]
async fn a_lookup_by_sys_ids_finds_exactly_those_in_stored_order() {
    let sim = sim().await;
    let token = token(&sim).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let record: Value = create(&sim, &token, json!({"short_description": format!("n{i}")}))
            .await
            .json()
            .await
            .unwrap();
        ids.push(record["result"]["sys_id"].as_str().unwrap().to_string());
    }
    let query = format!(
        "incident?sysparm_query=sys_idIN{},{},{},ffffffffffffffffffffffffffffffff^state=1&sysparm_fields=sys_id",
        ids[3], ids[0], ids[3]
    );
    let found: Value = get(&sim, &token, &query).await.json().await.unwrap();
    assert_eq!(
        found["result"],
        json!([{"sys_id": ids[0]}, {"sys_id": ids[3]}])
    );
    let none: Value = get(
        &sim,
        &token,
        &format!("incident?sysparm_query=sys_idIN{}^state=2", ids[1]),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(none["result"], json!([]));
}

// 8. An incident's page.
#[tokio::test]
async fn nav_to_shows_an_incidents_number_state_and_short_description() {
    let sim = sim().await;
    let token = token(&sim).await;
    let record: Value = create(
        &sim,
        &token,
        json!({"short_description": "S3 bucket <public>"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let sys_id = record["result"]["sys_id"].as_str().unwrap();
    sim.set_state(sys_id, "2");
    // ServiceNow's links come with the inner query encoded or not; both work.
    for link in [
        format!("{}/nav_to.do?uri=incident.do?sys_id={sys_id}", sim.url()),
        format!(
            "{}/nav_to.do?uri=incident.do%3Fsys_id%3D{sys_id}",
            sim.url()
        ),
    ] {
        let page = Client::new().get(&link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{link}");
        assert!(
            page.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = page.text().await.unwrap();
        assert!(html.contains("INC0010001"), "{html}");
        assert!(html.contains("In Progress"), "{html}");
        assert!(html.contains("S3 bucket &lt;public&gt;"), "{html}");
    }
    for unknown in [
        "nav_to.do?uri=incident.do?sys_id=ffffffffffffffffffffffffffffffff",
        "nav_to.do?uri=problem.do?sys_id=ffffffffffffffffffffffffffffffff",
        "nav_to.do",
    ] {
        let page = Client::new()
            .get(format!("{}/{unknown}", sim.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{unknown}");
        assert!(page.text().await.unwrap().contains("Record not found"));
    }
}

// 9. The service desk.
#[tokio::test]
async fn the_service_desk_moves_and_backdates_incidents() {
    let sim = sim().await;
    let token = token(&sim).await;
    let record: Value = create(&sim, &token, json!({})).await.json().await.unwrap();
    let sys_id = record["result"]["sys_id"].as_str().unwrap();
    assert!(sim.set_state(sys_id, "7"));
    assert!(sim.set_opened_at(sys_id, "2026-01-02 03:04:05"));
    let after: Value = get(&sim, &token, &format!("incident/{sys_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["result"]["state"], "7");
    assert!(!after["result"]["closed_at"].as_str().unwrap().is_empty());
    assert_eq!(after["result"]["opened_at"], "2026-01-02 03:04:05");
    let page = Client::new()
        .get(format!("{}/", sim.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("INC0010001"));
}
