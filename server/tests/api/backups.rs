//! `itsm-bridge admin backup` and `admin restore`: a backup taken while the server receives
//! a scan restores into a server that shows the same scans and tickets, and a ticket opened
//! after the backup is adopted by the next run, not opened again.

use crate::engine_support::*;
use crate::helpers::*;
use serde_json::Value;
use std::path::Path;

/// Runs `itsm-bridge --database-url DATABASE admin ARGS…` to its end.
fn admin_command(database: &Path, args: &[&std::ffi::OsStr]) -> std::process::Output {
    itsm_bridge_command()
        .arg("--database-url")
        .arg(database)
        .arg("admin")
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("itsm-bridge runs")
}

/// `admin restore BACKUP` once this test process has let go of the database: a server
/// stopped in-process closes its pools, but sqlx's pool may still be closing a connection
/// (its keeper of `min_connections` can open one as the pool closes), whose lock makes the
/// restore refuse the database as in use. A stopped process holds nothing, so this is only
/// the test's own waiting, bounded: 50 tries 0.1 s apart.
async fn restore_once_let_go(database: &Path, backup: &Path) -> std::process::Output {
    let mut tries = 0;
    loop {
        let output = admin_command(database, &["restore".as_ref(), backup.as_os_str()]);
        tries += 1;
        if output.status.success() || !text(&output.stderr).contains("in use") || tries == 50 {
            return output;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The opening of a native scan of `source` whose findings all fail, cut off after a comma:
/// an upload that has more to come.
fn unfinished_scan(source: &str, n: usize) -> String {
    let findings: Vec<String> = (0..n)
        .map(|i| {
            serde_json::json!({"control": {"id": format!("c{i}")}, "resource": {"id": "r"}, "status": "pass", "severity": "low"})
                .to_string()
        })
        .collect();
    format!(
        r#"{{"source":"{source}","findings":[{},"#,
        findings.join(",")
    )
}

async fn sources(app: &TestApp) -> Vec<String> {
    let scans = app.call_json("load_scans", &[]).await;
    let mut sources: Vec<String> = scans
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap().to_string())
        .collect();
    sources.sort();
    sources
}

/// The numbers of the tickets the Tickets list shows, sorted.
async fn ticket_numbers(app: &TestApp) -> Vec<String> {
    let page = app.call_json("load_tickets", &[]).await;
    let mut numbers: Vec<String> = page["page"]["tickets"]
        .as_array()
        .unwrap_or_else(|| panic!("a list of tickets in {page}"))
        .iter()
        .map(|t| t["number"].as_str().unwrap().to_string())
        .collect();
    numbers.sort();
    numbers
}

#[tokio::test]
async fn a_backup_taken_during_an_upload_restores_and_the_ticket_opened_after_it_is_adopted() {
    let sim = start_sim().await;
    let app = spawn_engine_app().await;
    connect(&app, &sim, "6", "0").await;
    let token = app.api_token().await;
    let t0 = now() - 3600;
    post_scan(&app, &token, "early", t0, &[("c1", "vm-1", "fail", "high")]).await;
    let first = run_now(&app).await;
    assert_eq!(count(&first, "opened"), 1, "{first}");
    let before = ticket_numbers(&app).await;
    assert_eq!(before.len(), 1);

    // An upload is under way (two chunks of it committed, the rest not sent yet) when the
    // backup is taken.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    sender
        .send(Ok(unfinished_scan("in-flight", 25_000).into_bytes()))
        .await
        .unwrap();
    let upload = {
        let request = app
            .client
            .post(format!("{}/api/v1/scans", app.address))
            .bearer_auth(&token)
            .body(reqwest::Body::wrap_stream(futures_util::stream::poll_fn({
                let mut receiver = receiver;
                move |cx| receiver.poll_recv(cx)
            })));
        tokio::spawn(async move { request.send().await.unwrap() })
    };
    let pool = app.database().await;
    let mut written: i64 = 0;
    for _ in 0..200_000 {
        written = sqlx::query_scalar("SELECT count(*) FROM findings")
            .fetch_one(&pool)
            .await
            .unwrap();
        if written >= 20_000 {
            break;
        }
        tokio::task::yield_now().await;
    }
    pool.close().await;
    assert!(
        written >= 20_000,
        "the upload's first chunks were never written ({written} findings): the backup \
         would not be taken during an upload"
    );
    let database = app.folder.path().join("itsm-bridge.db");
    let backups = tempfile::tempdir().unwrap();
    // A folder of its own that does not exist yet, as an operator names one.
    let backup = backups.path().join("backups").join("itsm-bridge-backup.db");
    let taken = admin_command(&database, &["backup".as_ref(), backup.as_os_str()]);
    assert!(taken.status.success(), "{}", text(&taken.stderr));
    assert!(
        text(&taken.stdout).contains("itsm-bridge.key"),
        "the command reminds to keep the key file: {}",
        text(&taken.stdout)
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the backup is readable by its owner only");
    let folder_mode = std::fs::metadata(backup.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(
        folder_mode, 0o700,
        "the folder made for the backup is its owner's only"
    );

    // The upload ends; a scan after the backup brings a ticket the backup does not know.
    sender
        .send(Ok(br#"{"control": {"id": "last"}, "resource": {"id": "r"}, "status": "pass", "severity": "low"}]}"#.to_vec()))
        .await
        .unwrap();
    drop(sender);
    assert_eq!(upload.await.unwrap().status(), 201);
    let late_rows = [("c2", "vm-2", "fail", "critical")];
    post_scan(&app, &token, "late", t0 + 60, &late_rows).await;
    let second = run_now(&app).await;
    assert_eq!(count(&second, "opened"), 1, "{second}");
    let after = ticket_numbers(&app).await;
    assert_eq!(after.len(), 2);
    let late_number = after.iter().find(|n| !before.contains(n)).unwrap().clone();
    let late_incident = sim
        .incidents()
        .into_iter()
        .find(|i| i["number"] == late_number)
        .expect("the late ticket is in the simulator");
    let late_correlation = late_incident["correlation_id"].clone();

    // A restore while the server runs is refused, and changes nothing.
    let refused = admin_command(&database, &["restore".as_ref(), backup.as_os_str()]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("in use"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(ticket_numbers(&app).await, after);

    let folder = app.stop().await;
    let restored = restore_once_let_go(&database, &backup).await;
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    let kept: Vec<String> = std::fs::read_dir(folder.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("itsm-bridge.db.replaced-"))
        .collect();
    assert_eq!(kept.len(), 1, "the replaced database is kept: {kept:?}");

    // The restored server starts and shows what the backup held: the first scan and its
    // ticket, not the upload that was under way nor what came after.
    let app = spawn_app_configured(
        folder,
        std::sync::Arc::new(server::auth::SystemClock),
        |c| {
            c.no_scheduler = true;
            c.servicenow_requests_per_second = 10_000;
            c.servicenow_timeout_seconds = 2;
        },
    )
    .await;
    let signed_in = app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(signed_in.status(), 200);
    assert_eq!(sources(&app).await, ["early"]);
    assert_eq!(ticket_numbers(&app).await, before);

    // The scanner sends the late scan again (its token is in the backup): its ticket is
    // adopted, not opened twice.
    post_scan(&app, &token, "late", t0 + 120, &late_rows).await;
    let incidents_before = sim.incidents().len();
    let third = run_now(&app).await;
    assert_eq!(
        sim.incidents().len(),
        incidents_before,
        "no incident was opened: {third}"
    );
    assert_eq!(
        sim.incidents_with_correlation_id(&late_correlation).len(),
        1
    );
    assert_eq!(ticket_numbers(&app).await, after);
    let run = app
        .call_json(
            "load_run",
            &[("id", &third["id"].to_string()), ("page", "1")],
        )
        .await;
    assert!(
        run.to_string().contains(&format!("adopted {late_number}")),
        "the run says it adopted the ticket: {run}"
    );
    // The run succeeded, so the mark is gone: later runs create without a lookup.
    let pool = app.database().await;
    let marked: i64 = sqlx::query_scalar("SELECT count(*) FROM engine_restored")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(marked, 0);
    let _: Value = third;
}

#[tokio::test]
async fn restore_refuses_a_file_that_is_not_an_itsm_bridge_database_and_changes_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let database = folder.path().join("itsm-bridge.db");
    create_database(&database).await;
    let text_file = folder.path().join("notes.txt");
    std::fs::write(
        &text_file,
        "not a database at all, just some words ".repeat(200),
    )
    .unwrap();
    let other = folder.path().join("other.db");
    let pool = server::database::open_for_engine(&other).await.unwrap();
    sqlx::query("CREATE TABLE things (id INTEGER)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let before: Vec<_> = std::fs::read_dir(folder.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();

    for file in [&text_file, &other] {
        let refused = admin_command(&database, &["restore".as_ref(), file.as_os_str()]);
        assert!(!refused.status.success());
        let message = text(&refused.stderr);
        assert!(
            message.contains("is not an itsm-bridge backup")
                && message.contains("nothing was changed"),
            "{message}"
        );
    }
    let after: Vec<_> = std::fs::read_dir(folder.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before.len(), after.len(), "{after:?}");
}

#[tokio::test]
async fn a_backup_never_overwrites_a_file() {
    let folder = tempfile::tempdir().unwrap();
    let database = folder.path().join("itsm-bridge.db");
    create_database(&database).await;
    let existing = folder.path().join("keep-me.db");
    std::fs::write(&existing, "an earlier backup").unwrap();
    let refused = admin_command(&database, &["backup".as_ref(), existing.as_os_str()]);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("exists already"));
    assert_eq!(
        std::fs::read_to_string(&existing).unwrap(),
        "an earlier backup"
    );
}
