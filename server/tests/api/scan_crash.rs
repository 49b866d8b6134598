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
