//! A slow or stalled scan upload must not hold the database: while its body stalls, sign-in,
//! a settings save and another scan go through, and the stalled scan stays invisible.

use crate::helpers::*;
use serde_json::{Value, json};

/// The opening of a native scan with `n` findings, cut off after a comma: a body that has
/// more to come.
fn unfinished_scan(source: &str, n: usize) -> Vec<u8> {
    let findings: Vec<String> = (0..n)
        .map(|i| {
            json!({"control": {"id": format!("c{i}")}, "resource": {"id": "r"}, "status": "fail", "severity": "low"})
                .to_string()
        })
        .collect();
    format!(
        r#"{{"source":"{source}","findings":[{},"#,
        findings.join(",")
    )
    .into_bytes()
}

/// Waits until `at_least` findings are committed, as another connection sees them: proof
/// that the upload's chunks were written (and their transactions ended) while its body is
/// still open. Bounded by a number of polls, so a writer that keeps one transaction open
/// fails the test instead of hanging it.
async fn wait_for_committed_findings(pool: &sqlx::SqlitePool, at_least: i64) {
    for _ in 0..200_000 {
        let written: i64 = sqlx::query_scalar("SELECT count(*) FROM findings")
            .fetch_one(pool)
            .await
            .unwrap();
        if written >= at_least {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("fewer than {at_least} findings of the stalled upload were ever committed");
}

#[tokio::test]
async fn a_stalled_upload_does_not_stop_sign_in_a_settings_save_or_another_scan() {
    let app = spawn_app().await;
    let token = app.api_token().await;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    sender
        .send(Ok(unfinished_scan("stalled", 25_000)))
        .await
        .unwrap();
    let stalled = {
        let request = app
            .client
            .post(format!("{}/api/v1/scans", app.address))
            .bearer_auth(&token)
            .body(reqwest::Body::wrap_stream(tokio_stream_from(receiver)));
        tokio::spawn(async move { request.send().await.unwrap() })
    };
    // The upload is in: two chunks of it (10,000 findings each) are written and committed,
    // and the rest of its body does not come.
    let pool = app.database().await;
    wait_for_committed_findings(&pool, 20_000).await;

    let signed_in = app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(signed_in.status(), 200, "sign-in during a stalled upload");
    let saved = app
        .save_itsm(&[
            ("form[grouping]", "controls"),
            ("form[scheduler_interval_minutes]", "60"),
        ])
        .await;
    assert_eq!(
        saved,
        json!("Saved"),
        "a settings save during a stalled upload"
    );
    let other = app
        .post_scan(
            "",
            &token,
            json!({"source": "other", "findings": [{"control": {"id": "c"}, "resource": {"id": "r"}, "status": "fail", "severity": "low"}]})
                .to_string(),
        )
        .await;
    assert_eq!(other.status(), 201, "another scan during a stalled upload");

    // The stalled scan is not listed while it is being received.
    let scans = app.call_json("load_scans", &[]).await;
    let sources: Vec<&str> = scans
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["other"]);

    // The body ends without its closing: refused, and nothing of it stays.
    drop(sender);
    let answer = stalled.await.unwrap();
    assert_eq!(answer.status(), 400);
    let (scans, findings): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM scans), (SELECT count(*) FROM findings)")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (scans, findings),
        (1, 1),
        "the refused upload left rows behind"
    );
    let _: Value = answer.json().await.unwrap();
}

/// A body stream fed by a channel: the test decides when more comes, or that it ends.
fn tokio_stream_from(
    mut receiver: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx))
}

#[tokio::test]
async fn a_body_that_stalls_past_the_read_timeout_gets_408_and_leaves_nothing() {
    let app = spawn_app_with(|c| c.body_read_timeout_seconds = 1).await;
    let token = app.api_token().await;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    // More than one chunk's worth, so that rows were written before the stall.
    sender
        .send(Ok(unfinished_scan("stalled", 25_000)))
        .await
        .unwrap();
    let answer = app
        .client
        .post(format!("{}/api/v1/scans", app.address))
        .bearer_auth(&token)
        .body(reqwest::Body::wrap_stream(tokio_stream_from(receiver)))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 408);
    let text = answer.text().await.unwrap();
    assert!(
        text.contains("stalled") && text.contains("nothing was stored"),
        "{text}"
    );
    let (scans, findings): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM scans), (SELECT count(*) FROM findings)")
            .fetch_one(&app.database().await)
            .await
            .unwrap();
    assert_eq!((scans, findings), (0, 0));
    drop(sender);
}

#[tokio::test]
async fn headers_that_never_finish_are_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(|c| c.header_read_timeout_seconds = 1).await;
    let address = app.address.trim_start_matches("http://");
    let mut connection = tokio::net::TcpStream::connect(address).await.unwrap();
    connection
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // The server closes the connection (after a 408 or without answer) instead of waiting
    // for the rest of the headers for ever.
    let mut answer = Vec::new();
    connection.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    // A complete request on a new connection is answered as usual.
    assert_eq!(app.get_text("/healthz").await.0, 200);
}

/// Reads what a connection sends until it is closed; a connection still open after 20 s
/// (the timeout under test is 1 s) fails the test rather than hanging it.
async fn closed_by_the_server(mut connection: tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        connection.read_to_end(&mut answer),
    )
    .await
    .expect("the server kept the connection open past its header timeout")
    .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_cut_off() {
    let app = spawn_app_with(|c| c.header_read_timeout_seconds = 1).await;
    let address = app.address.trim_start_matches("http://");
    let connection = tokio::net::TcpStream::connect(address).await.unwrap();
    let answer = closed_by_the_server(connection).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_connection_that_sends_one_byte_is_cut_off() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app_with(|c| c.header_read_timeout_seconds = 1).await;
    let address = app.address.trim_start_matches("http://");
    let mut connection = tokio::net::TcpStream::connect(address).await.unwrap();
    // The first byte of both `POST` and HTTP/2's preface `PRI * HTTP/2.0`.
    connection.write_all(b"P").await.unwrap();
    let answer = closed_by_the_server(connection).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_body_that_trickles_below_the_minimum_rate_gets_408_and_leaves_nothing() {
    // A grace of 1 s of waiting, then at least 1 MB/s on average: 100 bytes every 100 ms
    // never stalls for the idle timeout but is far too slow.
    let app = spawn_app_with(|c| {
        c.body_read_timeout_seconds = 1;
        c.min_body_bytes_per_second = 1_000_000;
    })
    .await;
    let token = app.api_token().await;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    sender
        .send(Ok(unfinished_scan("trickle", 10)))
        .await
        .unwrap();
    let trickle = tokio::spawn(async move {
        let piece = json!({"control": {"id": "t"}, "resource": {"id": "r"}, "status": "pass", "severity": "low"})
            .to_string()
            + ",";
        let mut every = tokio::time::interval(std::time::Duration::from_millis(100));
        // Stops when the server has cut the body off and the request is gone.
        while sender.send(Ok(piece.clone().into_bytes())).await.is_ok() {
            every.tick().await;
        }
    });
    let answer = app
        .client
        .post(format!("{}/api/v1/scans", app.address))
        .bearer_auth(&token)
        .body(reqwest::Body::wrap_stream(tokio_stream_from(receiver)))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 408);
    let text = answer.text().await.unwrap();
    assert!(
        text.contains("too slowly") && text.contains("nothing was stored"),
        "{text}"
    );
    let (scans, findings): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM scans), (SELECT count(*) FROM findings)")
            .fetch_one(&app.database().await)
            .await
            .unwrap();
    assert_eq!((scans, findings), (0, 0));
    trickle.abort();
}

#[tokio::test]
async fn at_shutdown_an_upload_still_under_way_is_cut_off_after_the_grace_time() {
    let app = spawn_app_with(|c| {
        c.shutdown_grace_seconds = 1;
        // Neither body timeout would end this upload before the test gives up.
        c.body_read_timeout_seconds = 3600;
        c.min_body_bytes_per_second = 0;
    })
    .await;
    let token = app.api_token().await;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    sender
        .send(Ok(unfinished_scan("stalled", 25_000)))
        .await
        .unwrap();
    let stalled = {
        let request = app
            .client
            .post(format!("{}/api/v1/scans", app.address))
            .bearer_auth(&token)
            .body(reqwest::Body::wrap_stream(tokio_stream_from(receiver)));
        tokio::spawn(async move { request.send().await })
    };
    let pool = app.database().await;
    wait_for_committed_findings(&pool, 10_000).await;
    // Without the grace time the server would wait for this body for an hour.
    let folder = tokio::time::timeout(std::time::Duration::from_secs(60), app.stop())
        .await
        .expect("the server stopped, cutting the upload off");
    assert!(
        stalled.await.unwrap().is_err(),
        "the upload's connection was dropped"
    );
    // Nothing of it is visible after a restart (its rows are removed once it has been
    // silent long enough: `scan_crash`).
    let app = spawn_app_in(folder).await;
    let completed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM scans WHERE completed_at IS NOT NULL")
            .fetch_one(&app.database().await)
            .await
            .unwrap();
    assert_eq!(completed, 0);
    drop(sender);
}
