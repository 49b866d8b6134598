//! Scan uploads are shared between API tokens (one token cannot take every place in the
//! queue), and a refused upload's client reads the refusal, however much body it had
//! already sent, instead of a connection reset.

use crate::helpers::*;
use server::ingest::tokens;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

const ONE_FINDING: &str =
    r#"{"control":{"id":"c"},"resource":{"id":"r"},"status":"fail","severity":"low"}"#;

/// Starts an upload whose first chunk (15,000 findings) comes and whose rest does not, until
/// the sender is dropped; its answer once the server gives one.
fn stalled_upload(
    app: &TestApp,
    token: &str,
    source: &str,
) -> (
    mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
    tokio::task::JoinHandle<reqwest::Response>,
) {
    let (sender, mut receiver) = mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let mut opening = format!(r#"{{"source":"{source}","findings":["#);
    for i in 0..15_000 {
        opening.push_str(&format!(
            r#"{{"control":{{"id":"c{i}"}},"resource":{{"id":"r"}},"status":"fail","severity":"low"}},"#
        ));
    }
    sender.try_send(Ok(opening.into_bytes())).unwrap();
    let request = app
        .client
        .post(format!("{}/api/v1/scans", app.address))
        .bearer_auth(token)
        .body(reqwest::Body::wrap_stream(futures_util::stream::poll_fn(
            move |cx| receiver.poll_recv(cx),
        )));
    let upload = tokio::spawn(async move { request.send().await.unwrap() });
    (sender, upload)
}

async fn scans_started(pool: &sqlx::SqlitePool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM scans")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn one_token_with_stalled_uploads_leaves_places_for_another_token() {
    let app = spawn_app_with(|c| c.max_queued_scans = 4).await;
    let pool = app.database().await;
    let (_, greedy) = tokens::create(&pool, "greedy scanner", 0).await.unwrap();
    let (_, other) = tokens::create(&pool, "other scanner", 0).await.unwrap();

    // The greedy token tries to fill the whole queue with uploads that stall. Each is either
    // taken (its scan is started) or answered at once.
    let mut senders = Vec::new();
    let mut taken = Vec::new();
    let mut refused = Vec::new();
    for i in 0..4 {
        let (sender, upload) = stalled_upload(&app, &greedy, &format!("greedy-{i}"));
        senders.push(sender);
        let mut polls = 0;
        loop {
            if scans_started(&pool).await > taken.len() as i64 {
                taken.push(upload);
                break;
            }
            if upload.is_finished() {
                refused.push(upload.await.unwrap());
                break;
            }
            polls += 1;
            assert!(polls < 200_000, "upload {i} was neither taken nor answered");
            tokio::task::yield_now().await;
        }
    }

    // Another token still gets a place.
    let accepted = app.post_scan("?source=other", &other, ONE_FINDING).await;
    assert_eq!(
        accepted.status(),
        201,
        "{}",
        accepted.text().await.unwrap_or_default()
    );

    // The greedy token held its share (a quarter of the queue), and was told why beyond it.
    assert_eq!(taken.len(), 1);
    for answer in refused {
        assert_eq!(answer.status(), 503);
        assert_eq!(answer.headers()["retry-after"], "30");
        let text = answer.text().await.unwrap();
        assert!(text.contains("this API token"), "{text}");
    }
    drop(senders);
    for upload in taken {
        assert_eq!(upload.await.unwrap().status(), 400);
    }
}

/// Sends a request of `body_bytes` with `Content-Length` (no `Expect: 100-continue`) the
/// way a simple client does: the whole body first, then it reads the answer. The answer.
async fn upload_then_read(app: &TestApp, token: &str, body_bytes: usize) -> String {
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST /api/v1/scans?source=big HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {body_bytes}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let body = vec![b' '; body_bytes];
    tokio::time::timeout(Duration::from_secs(30), stream.write_all(&body))
        .await
        .expect("the body was sent within 30 s")
        .expect("the server took the body (no connection reset)");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("the server closed the connection after its answer")
        .expect("the answer was read (no connection reset)");
    String::from_utf8_lossy(&answer).into_owned()
}

const BIG: usize = 32 << 20;

#[tokio::test]
async fn a_large_upload_past_the_queue_bound_reads_its_503_and_retry_after() {
    let app = spawn_app_with(|c| c.max_queued_scans = 1).await;
    let pool = app.database().await;
    let (_, first) = tokens::create(&pool, "first scanner", 0).await.unwrap();
    let (_, second) = tokens::create(&pool, "second scanner", 0).await.unwrap();
    let (sender, holder) = stalled_upload(&app, &first, "holder");
    let mut polls = 0;
    while scans_started(&pool).await == 0 {
        polls += 1;
        assert!(polls < 200_000, "the first upload never started");
        tokio::task::yield_now().await;
    }

    let answer = upload_then_read(&app, &second, BIG).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    let lowercase = answer.to_lowercase();
    assert!(lowercase.contains("\r\nretry-after: 30\r\n"), "{answer}");
    assert!(lowercase.contains("\r\nconnection: close\r\n"), "{answer}");
    assert!(answer.contains("Try again in 30 s"), "{answer}");

    // The same streamed (chunked, no length) by an HTTP client library.
    let pieces = (0..BIG / 65536).map(|_| Ok::<_, std::io::Error>(vec![b' '; 65536]));
    let streamed = app
        .client
        .post(format!("{}/api/v1/scans?source=big", app.address))
        .bearer_auth(&second)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            pieces,
        )))
        .send()
        .await
        .expect("the client reads the answer (no connection reset)");
    assert_eq!(streamed.status(), 503);
    assert_eq!(streamed.headers()["retry-after"], "30");
    drop(sender);
    let _ = holder.await;
}

#[tokio::test]
async fn a_large_upload_with_a_wrong_token_or_too_large_reads_its_refusal() {
    let app = spawn_app_with(|c| c.max_scan_bytes = 1 << 20).await;
    let answer = upload_then_read(&app, "not-a-token", BIG).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("unknown or revoked"), "{answer}");

    let token = app.api_token().await;
    let answer = upload_then_read(&app, &token, BIG).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("larger than the limit"), "{answer}");
}
