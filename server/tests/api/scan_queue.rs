//! Scans posted at once wait their turn for the writer instead of failing, and other writers
//! (a sign-in here) are not held up by the queue.

use crate::helpers::*;
use serde_json::Value;

/// NDJSON of `n` native findings (the source comes from `?source=`): 10 controls a resource.
fn ndjson_scan(n: usize) -> bytes_body::Shared {
    let mut body = String::with_capacity(n * 100);
    for i in 0..n {
        let status = if i % 10 < 3 { "fail" } else { "pass" };
        body.push_str(&format!(
            "{{\"control\":{{\"id\":\"control_{:02}\"}},\"resource\":{{\"id\":\"bucket-{:06}\"}},\"status\":\"{status}\",\"severity\":\"medium\"}}\n",
            i % 10,
            i / 10
        ));
    }
    bytes_body::Shared::from(body.into_bytes())
}

/// One copy of a large body shared by several requests.
mod bytes_body {
    #[derive(Clone)]
    pub struct Shared(std::sync::Arc<Vec<u8>>);

    impl From<Vec<u8>> for Shared {
        fn from(bytes: Vec<u8>) -> Self {
            Self(std::sync::Arc::new(bytes))
        }
    }

    impl Shared {
        /// The body as a stream of 64 KiB pieces (no Content-Length).
        pub fn stream(&self) -> reqwest::Body {
            let bytes = self.0.clone();
            let pieces = (0..bytes.len().div_ceil(65536)).map(move |i| {
                let end = ((i + 1) * 65536).min(bytes.len());
                Ok::<_, std::io::Error>(bytes[i * 65536..end].to_vec())
            });
            reqwest::Body::wrap_stream(futures_util::stream::iter(pieces))
        }
    }
}

#[tokio::test]
async fn eight_large_scans_posted_at_once_are_all_stored_and_a_sign_in_goes_through_meanwhile() {
    const FINDINGS: usize = 100_000;
    // One token sends all eight: a queue of 32 gives it a share of eight.
    let app = spawn_app_with(|c| c.max_queued_scans = 32).await;
    let token = app.api_token().await;
    let body = ndjson_scan(FINDINGS);
    let uploads: Vec<_> = (0..8)
        .map(|i| {
            let request = app
                .client
                .post(format!("{}/api/v1/scans?source=burst-{i}", app.address))
                .bearer_auth(&token)
                .body(body.stream());
            tokio::spawn(async move {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.unwrap())
            })
        })
        .collect();
    // Once the burst is being written, an admin signs in.
    let pool = app.database().await;
    loop {
        let used: Option<i64> = sqlx::query_scalar("SELECT last_used_at FROM api_tokens")
            .fetch_one(&pool)
            .await
            .unwrap();
        if used.is_some() {
            break;
        }
        tokio::task::yield_now().await;
    }
    let signed_in = app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(signed_in.status(), 200);
    // The sign-in was answered while the burst was still under way: an upload had no answer
    // yet and a scan was not yet complete in the database.
    let completed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM scans WHERE completed_at IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        uploads.iter().any(|u| !u.is_finished()) && completed < 8,
        "the sign-in waited for the whole burst ({completed} scans complete)"
    );

    for (i, upload) in uploads.into_iter().enumerate() {
        let (status, answer) = upload.await.unwrap();
        assert_eq!(status, 201, "scan {i}: {answer}");
        assert_eq!(answer["source"], format!("burst-{i}"));
        assert_eq!(answer["findings"], FINDINGS as i64, "scan {i}: {answer}");
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM findings")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 8 * FINDINGS as i64);
}

#[tokio::test]
async fn past_the_queue_bound_an_upload_gets_503_with_retry_after() {
    let app = spawn_app_with(|c| c.max_queued_scans = 1).await;
    let token = app.api_token().await;
    // One upload being received holds the only place: more than a chunk of it is written,
    // and the rest does not come.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let mut opening = String::from(r#"{"source":"slow","findings":["#);
    for i in 0..15_000 {
        opening.push_str(&format!(
            r#"{{"control":{{"id":"c{i}"}},"resource":{{"id":"r"}},"status":"fail","severity":"low"}},"#
        ));
    }
    sender.send(Ok(opening.into_bytes())).await.unwrap();
    let slow = app
        .client
        .post(format!("{}/api/v1/scans", app.address))
        .bearer_auth(&token)
        .body(reqwest::Body::wrap_stream(futures_util::stream::poll_fn(
            move |cx| receiver.poll_recv(cx),
        )))
        .send();
    let slow = tokio::spawn(slow);
    let pool = app.database().await;
    loop {
        let started: i64 = sqlx::query_scalar("SELECT count(*) FROM scans")
            .fetch_one(&pool)
            .await
            .unwrap();
        if started > 0 {
            break;
        }
        tokio::task::yield_now().await;
    }

    let refused = app
        .post_scan(
            "?source=next",
            &token,
            r#"{"control":{"id":"c"},"resource":{"id":"r"},"status":"fail","severity":"low"}"#,
        )
        .await;
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "30");
    assert!(refused.text().await.unwrap().contains("Try again in 30 s"));

    // Once the first upload is over, its place is free again.
    drop(sender);
    assert_eq!(slow.await.unwrap().unwrap().status(), 400);
    let accepted = app
        .post_scan(
            "?source=next",
            &token,
            r#"{"control":{"id":"c"},"resource":{"id":"r"},"status":"fail","severity":"low"}"#,
        )
        .await;
    assert_eq!(accepted.status(), 201);
}

#[tokio::test]
async fn a_client_that_hangs_up_mid_upload_frees_its_place_and_leaves_nothing() {
    let app = spawn_app_with(|c| c.max_queued_scans = 1).await;
    let token = app.api_token().await;
    // An upload with more than a chunk written, whose client then hangs up.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let mut opening = String::from(r#"{"source":"gone","findings":["#);
    for i in 0..15_000 {
        opening.push_str(&format!(
            r#"{{"control":{{"id":"c{i}"}},"resource":{{"id":"r"}},"status":"fail","severity":"low"}},"#
        ));
    }
    sender.send(Ok(opening.into_bytes())).await.unwrap();
    let upload = app
        .client
        .post(format!("{}/api/v1/scans", app.address))
        .bearer_auth(&token)
        .body(reqwest::Body::wrap_stream(futures_util::stream::poll_fn(
            move |cx| receiver.poll_recv(cx),
        )))
        .send();
    let upload = tokio::spawn(upload);
    let pool = app.database().await;
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let mut polls = 0;
    while count("SELECT count(*) FROM findings").await < 10_000 {
        polls += 1;
        assert!(
            polls < 200_000,
            "the upload's first chunk was never written"
        );
        tokio::task::yield_now().await;
    }

    // The client hangs up: its connection closes with the body unfinished.
    upload.abort();
    let _ = upload.await;
    drop(sender);
    let mut polls = 0;
    while count("SELECT count(*) FROM scans").await + count("SELECT count(*) FROM findings").await
        > 0
    {
        polls += 1;
        assert!(polls < 200_000, "the hung-up upload's rows stayed");
        tokio::task::yield_now().await;
    }

    // Its place in the queue is free: the next upload is taken, not told to wait.
    let accepted = app
        .post_scan(
            "?source=next",
            &token,
            r#"{"control":{"id":"c"},"resource":{"id":"r"},"status":"fail","severity":"low"}"#,
        )
        .await;
    assert_eq!(accepted.status(), 201);
}
