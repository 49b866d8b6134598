//! An upload whose process dies midway (killed) leaves no visible scan, and its rows are
//! removed by a later ingestion once its heartbeat is old.

use crate::helpers::*;
use server::ingest::ScanWriter;
use server::ingest::store::ABANDONED_AFTER_SECONDS;
use std::io::Write;
use std::process::{Command, Stdio};

#[tokio::test]
async fn a_killed_upload_leaves_no_visible_scan_and_its_rows_are_removed_later() {
    let app = spawn_app().await;
    let database = app.folder.path().join("itsm-bridge.db");
    // `itsm-bridge ingest -` on the same database, fed more than a chunk, then killed.
    let mut child = Command::new(env!("CARGO_BIN_EXE_itsm-bridge"))
        .arg("--database-url")
        .arg(&database)
        .args(["ingest", "--source", "crashed", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut opening = String::from(r#"{"findings":["#);
    for i in 0..25_000 {
        opening.push_str(&format!(
            r#"{{"control":{{"id":"c{i}"}},"resource":{{"id":"r"}},"status":"fail","severity":"low"}},"#
        ));
    }
    stdin.write_all(opening.as_bytes()).unwrap();
    stdin.flush().unwrap();
    let pool = app.database().await;
    let written = loop {
        let written: i64 = sqlx::query_scalar("SELECT count(*) FROM findings")
            .fetch_one(&pool)
            .await
            .unwrap();
        if written > 0 {
            break written;
        }
        tokio::task::yield_now().await;
    };
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);

    // Rows were written, but no page and not the engine sees a scan.
    assert!(written >= 10_000, "{written}");
    let scans = app.call_json("load_scans", &[]).await;
    assert_eq!(scans, serde_json::json!([]));
    assert!(
        server::ingest::store::current_failing(&pool)
            .await
            .unwrap()
            .is_empty()
    );

    // While its heartbeat is recent it may be a live upload: kept. Once old: removed.
    let now = server::timestamps::now_unix();
    let writer = ScanWriter::new(pool.clone());
    assert_eq!(writer.remove_abandoned(now).await.unwrap(), 0);
    assert_eq!(
        writer
            .remove_abandoned(now + ABANDONED_AFTER_SECONDS + 60)
            .await
            .unwrap(),
        1
    );
    let (scans, findings): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM scans), (SELECT count(*) FROM findings)")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((scans, findings), (0, 0));
}

/// A body fed by the test, a piece at a time: `read` blocks until the next piece comes, and
/// the body ends when the sender is dropped.
pub struct FedBody {
    pieces: std::sync::mpsc::Receiver<Vec<u8>>,
    current: std::io::Cursor<Vec<u8>>,
}

impl FedBody {
    pub fn new() -> (std::sync::mpsc::Sender<Vec<u8>>, Self) {
        let (sender, pieces) = std::sync::mpsc::channel();
        let body = Self {
            pieces,
            current: std::io::Cursor::new(Vec::new()),
        };
        (sender, body)
    }
}

impl std::io::Read for FedBody {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let read = self.current.read(buffer)?;
            if read > 0 {
                return Ok(read);
            }
            match self.pieces.recv() {
                Ok(piece) => self.current = std::io::Cursor::new(piece),
                Err(_) => return Ok(0),
            }
        }
    }
}

/// Native findings `from..to`, each followed by a comma.
pub fn native_findings(from: usize, to: usize) -> Vec<u8> {
    let mut text = String::new();
    for i in from..to {
        text.push_str(&format!(
            r#"{{"control":{{"id":"c{i}"}},"resource":{{"id":"r"}},"status":"fail","severity":"low"}},"#
        ));
    }
    text.into_bytes()
}

/// Waits until at least `rows` findings are stored (an upload's chunks are written).
pub async fn wait_for_rows(pool: &sqlx::SqlitePool, rows: i64) {
    for _ in 0..100_000 {
        let written: i64 = sqlx::query_scalar("SELECT count(*) FROM findings")
            .fetch_one(pool)
            .await
            .unwrap();
        if written >= rows {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("fewer than {rows} findings were ever written");
}

#[tokio::test]
async fn an_upload_whose_rows_a_cleanup_removed_is_refused_not_stored_partly() {
    let app = spawn_app().await;
    let pool = app.database().await;
    let writer = std::sync::Arc::new(ScanWriter::new(pool.clone()));
    let now = server::timestamps::now_unix();
    let (body, reader) = FedBody::new();
    let request = server::ingest::IngestRequest {
        format: None,
        source: Some("live".into()),
        max_bytes: 1 << 30,
        now,
        keep_per_source: 10,
        spill_folder: app.folder.path().to_path_buf(),
    };
    let upload = tokio::spawn({
        let writer = writer.clone();
        async move { server::ingest::ingest_with(&writer, None, reader, request).await }
    });
    let mut opening = br#"{"findings":["#.to_vec();
    opening.extend(native_findings(0, 20_000));
    body.send(opening).unwrap();
    wait_for_rows(&pool, 20_000).await;

    // Another process's cleanup, whose clock says the upload has been silent for 11
    // minutes, deletes one chunk of its rows before the upload goes on.
    let mut conn = pool.acquire().await.unwrap();
    let scan_id: i64 = sqlx::query_scalar("SELECT id FROM scans")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    server::ingest::store::delete_chunk(&mut conn, scan_id, now + 60)
        .await
        .unwrap();
    drop(conn);

    let mut rest = native_findings(20_000, 25_000);
    rest.pop();
    rest.extend(b"]}");
    body.send(rest).unwrap();
    drop(body);
    let outcome = upload.await.unwrap();
    assert!(outcome.is_err(), "stored a damaged scan: {outcome:?}");
    let completed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM scans WHERE completed_at IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(completed, 0);

    // The writer closed the connection its failed turn used; the next upload gets another.
    let request = |source: &str| server::ingest::IngestRequest {
        format: None,
        source: Some(source.into()),
        max_bytes: 1 << 30,
        now,
        keep_per_source: 10,
        spill_folder: app.folder.path().to_path_buf(),
    };
    let scan = |findings: std::ops::Range<usize>| {
        let mut body = br#"{"findings":["#.to_vec();
        body.extend(native_findings(findings.start, findings.end));
        body.pop();
        body.extend(b"]}");
        std::io::Cursor::new(body)
    };
    let stored = server::ingest::ingest_with(&writer, None, scan(0..15_000), request("next"))
        .await
        .expect("the next upload is stored");
    assert_eq!(stored.findings, 15_000);

    // A closed writer (the server stopping) writes nothing more.
    writer.close().await;
    let refused = server::ingest::ingest_with(&writer, None, scan(0..10), request("late")).await;
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("the server is stopping"),
        "a closed writer wrote"
    );
}

#[tokio::test]
async fn a_live_upload_dated_by_the_time_of_its_writes_survives_a_cleanup() {
    use server::auth::ManualClock;
    let app = spawn_app().await;
    let pool = app.database().await;
    let now = server::timestamps::now_unix();
    let clock = std::sync::Arc::new(ManualClock::new(now));
    let writer = std::sync::Arc::new(ScanWriter::new(pool.clone()).with_clock(clock.clone()));
    let (body, reader) = FedBody::new();
    let request = server::ingest::IngestRequest {
        format: None,
        source: Some("slow".into()),
        max_bytes: 1 << 30,
        now,
        keep_per_source: 10,
        spill_folder: app.folder.path().to_path_buf(),
    };
    let upload = tokio::spawn({
        let writer = writer.clone();
        async move { server::ingest::ingest_with(&writer, None, reader, request).await }
    });
    let mut opening = br#"{"findings":["#.to_vec();
    opening.extend(native_findings(0, 10_000));
    body.send(opening).unwrap();
    wait_for_rows(&pool, 10_000).await;
    // Eleven minutes after the upload began (a slow body), it writes its second chunk.
    clock.advance(ABANDONED_AFTER_SECONDS + 60);
    body.send(native_findings(10_000, 20_000)).unwrap();
    wait_for_rows(&pool, 20_000).await;

    // Another upload's cleanup, at that same time, leaves it alone.
    let cleanup = ScanWriter::new(pool.clone());
    assert_eq!(
        cleanup
            .remove_abandoned(server::auth::Clock::now(&*clock))
            .await
            .unwrap(),
        0
    );

    let mut rest = native_findings(20_000, 25_000);
    rest.pop();
    rest.extend(b"]}");
    body.send(rest).unwrap();
    drop(body);
    let summary = upload.await.unwrap().unwrap();
    assert_eq!(summary.findings, 25_000);
}
