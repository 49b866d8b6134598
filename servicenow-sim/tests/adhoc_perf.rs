//! AD-HOC, not committed: timings of the simulator with 10,000 incidents.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use reqwest::Client;
use serde_json::{Value, json};
use servicenow_sim::*;
use std::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn adhoc_perf() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let sim = start("127.0.0.1:0".parse().unwrap(), 1800).await.unwrap();
    let http = Client::new();
    let answer: Value = http
        .post(format!("{}/oauth_token.do", sim.url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("username", USER_NAME),
            ("password", USER_PASSWORD),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = answer["access_token"].as_str().unwrap().to_string();
    let url = format!("{}/api/now/table/incident", sim.url());

    let t = Instant::now();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let r: Value = http
            .post(&url)
            .bearer_auth(&token)
            .header("Accept", "application/json")
            .json(&json!({"short_description": format!("n{i}"), "correlation_id": format!("c{i}")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(r["result"]["sys_id"].as_str().unwrap().to_string());
    }
    let create = t.elapsed();

    let t = Instant::now();
    let mut found = 0;
    for chunk in ids.chunks(100).take(100) {
        let q = format!("sys_idIN{}", chunk.join(","));
        let r: Value = http
            .get(&url)
            .bearer_auth(&token)
            .header("Accept", "application/json")
            .query(&[
                ("sysparm_query", q.as_str()),
                ("sysparm_limit", "1000"),
                ("sysparm_fields", "sys_id,state"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        found += r["result"].as_array().unwrap().len();
    }
    let query = t.elapsed();
    assert_eq!(found, n.min(10_000));

    let t = Instant::now();
    for id in &ids {
        let r = http
            .patch(format!("{url}/{id}"))
            .bearer_auth(&token)
            .header("Accept", "application/json")
            .json(&json!({"work_notes": "again", "urgency": "2"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let patch = t.elapsed();

    // In-process: the instance alone, without HTTP.
    let mut inst = instance::Instance::seeded(1800);
    let t = Instant::now();
    let mut local = Vec::new();
    for i in 0..n {
        let f = json!({"short_description": format!("n{i}")});
        local.push(inst.create_incident(f.as_object().unwrap())["sys_id"].clone());
    }
    let local_create = t.elapsed();
    let t = Instant::now();
    for id in &local {
        inst.incident_mut(id)
            .unwrap()
            .insert("urgency".into(), "2".into());
    }
    let local_mut = t.elapsed();
    let fields = inst.fields("incident");
    let rows = inst.tables["incident"].clone();
    let t = Instant::now();
    let mut m = 0;
    for chunk in local.chunks(100).take(100) {
        let q = query::Query::parse(&format!("sys_idIN{}", chunk.join(",")), &fields);
        m += rows.iter().filter(|r| q.matches(r)).count();
    }
    let local_query = t.elapsed();
    assert_eq!(m, n.min(10_000));
    let t = Instant::now();
    let mut m2 = 0;
    for chunk in local.chunks(100).take(100) {
        let q = query::Query::parse(&format!("sys_idIN{}", chunk.join(",")), &fields);
        m2 += inst.matching("incident", &q).unwrap().len();
    }
    let local_indexed = t.elapsed();
    assert_eq!(m2, m);
    eprintln!("in-process via Instance::matching (index): {local_indexed:?}");
    eprintln!(
        "N={n}\nHTTP: create {create:?} ({:.0}/s), 100 sys_idIN queries {query:?}, patch {patch:?} ({:.0}/s)\nin-process: create {local_create:?}, incident_mut x{n} {local_mut:?}, 100 sys_idIN<100> over {n} rows {local_query:?}",
        n as f64 / create.as_secs_f64(),
        n as f64 / patch.as_secs_f64()
    );
}
