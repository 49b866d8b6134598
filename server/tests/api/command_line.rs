//! The `itsm-bridge` command line as a new user meets it: a mistyped database path, an
//! unsupported database URL, out-of-range numbers, global options after the subcommand, a
//! bad public URL, and what `--help` says.

use crate::helpers::{itsm_bridge_command, spawn_app};
use std::path::Path;
use std::process::Output;

fn run(args: &[&str], folder: &Path, env: &[(&str, &str)]) -> Output {
    itsm_bridge_command()
        .args(args)
        .current_dir(folder)
        .envs(env.iter().copied())
        .env("RUST_BACKTRACE", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn entries(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

const SCAN: &str = r#"{"schema_version": "1", "source": "s", "scan": {"id": "s", "time": "2026-11-29T06:00:00Z"}, "findings": [{"control": {"id": "c", "title": "t"}, "resource": {"id": "r"}, "status": "fail", "severity": "high"}]}"#;

#[test]
fn commands_refuse_a_database_that_does_not_exist_and_create_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let scan = folder.path().join("scan.json");
    std::fs::write(&scan, SCAN).unwrap();
    let missing = folder.path().join("typo").join("itsm-bridge.db");
    let missing = missing.to_str().unwrap();
    for args in [
        vec![
            "--database-url",
            missing,
            "ingest",
            "--source",
            "s",
            "scan.json",
        ],
        vec![
            "--database-url",
            missing,
            "admin",
            "reset-password",
            "admin",
        ],
        vec!["--database-url", missing, "run-once"],
    ] {
        let output = run(&args, folder.path(), &[]);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(
            stderr(&output).contains(&format!("No database at {missing}")),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert_eq!(
        entries(folder.path()),
        ["scan.json"],
        "something was created"
    );
}

#[test]
fn a_database_url_of_another_scheme_is_a_clear_error_not_a_folder() {
    let folder = tempfile::tempdir().unwrap();
    for args in [vec!["admin", "reset-password", "admin"], vec!["run-once"]] {
        let output = run(
            &args,
            folder.path(),
            &[("DATABASE_URL", "postgres://user@db.example/itsm")],
        );
        assert!(!output.status.success());
        let error = stderr(&output);
        assert!(error.contains("DATABASE_URL"), "{error}");
        assert!(error.contains("SQLite only"), "{error}");
    }
    assert!(
        entries(folder.path()).is_empty(),
        "{:?}",
        entries(folder.path())
    );
}

/// Every numeric setting with a value out of its range, given by flag and by variable.
const OUT_OF_RANGE: &[(&str, &str, &str)] = &[
    (
        "--session-idle-minutes",
        "ITSM_BRIDGE_SESSION_IDLE_MINUTES",
        "0",
    ),
    ("--session-max-hours", "ITSM_BRIDGE_SESSION_MAX_HOURS", "0"),
    (
        "--servicenow-requests-per-second",
        "ITSM_BRIDGE_SERVICENOW_REQUESTS_PER_SECOND",
        "0",
    ),
    (
        "--servicenow-requests-per-hour",
        "ITSM_BRIDGE_SERVICENOW_REQUESTS_PER_HOUR",
        "0",
    ),
    (
        "--servicenow-timeout-seconds",
        "ITSM_BRIDGE_SERVICENOW_TIMEOUT_SECONDS",
        "0",
    ),
    ("--max-scan-bytes", "ITSM_BRIDGE_MAX_SCAN_BYTES", "0"),
    (
        "--scans-kept-per-source",
        "ITSM_BRIDGE_SCANS_KEPT_PER_SOURCE",
        "0",
    ),
    (
        "--engine-lease-seconds",
        "ITSM_BRIDGE_ENGINE_LEASE_SECONDS",
        "0",
    ),
    ("--runs-kept-days", "ITSM_BRIDGE_RUNS_KEPT_DAYS", "0"),
    ("--audit-kept-days", "ITSM_BRIDGE_AUDIT_KEPT_DAYS", "0"),
    (
        "--session-idle-minutes",
        "ITSM_BRIDGE_SESSION_IDLE_MINUTES",
        "-1",
    ),
    (
        "--engine-lease-seconds",
        "ITSM_BRIDGE_ENGINE_LEASE_SECONDS",
        "3601",
    ),
];

#[test]
fn numbers_out_of_range_are_refused_naming_the_flag_or_the_variable_used() {
    let folder = tempfile::tempdir().unwrap();
    let command = ["admin", "reset-password", "admin"];
    for (flag, variable, value) in OUT_OF_RANGE {
        let assignment = format!("{flag}={value}");
        let mut args = vec![assignment.as_str()];
        args.extend(command);
        let by_flag = run(&args, folder.path(), &[]);
        assert_eq!(by_flag.status.code(), Some(2), "{flag}={value} was taken");
        let error = stderr(&by_flag);
        assert!(error.contains(flag), "{flag}: {error}");
        assert!(
            !error.contains(variable),
            "{flag} was blamed on {variable}: {error}"
        );

        let by_variable = run(&command, folder.path(), &[(variable, value)]);
        assert_eq!(
            by_variable.status.code(),
            Some(2),
            "{variable}={value} was taken"
        );
        let error = stderr(&by_variable);
        assert!(error.contains(variable), "{variable}: {error}");
        assert!(error.contains(value), "{variable}: {error}");
    }
    assert!(entries(folder.path()).is_empty());
}

#[test]
fn a_public_url_that_cannot_work_is_refused_before_any_file_is_written() {
    let folder = tempfile::tempdir().unwrap();
    let database = folder.path().join("data").join("itsm-bridge.db");
    let database = database.to_str().unwrap();
    for bad in [
        "ftp://itsm.example.com",
        "https://itsm.example.com/itsm",
        "itsm.example.com",
    ] {
        // Refused as the command line is read, before the server (or a command: one that
        // cannot hang if the check were missing) opens the database or writes the key.
        let by_flag = run(
            &["--database-url", database, "--public-url", bad, "run-once"],
            folder.path(),
            &[],
        );
        assert_eq!(by_flag.status.code(), Some(2), "{bad} was accepted");
        let error = stderr(&by_flag);
        assert!(error.contains("--public-url"), "{error}");
        assert!(!error.contains("ITSM_BRIDGE_PUBLIC_URL"), "{error}");

        let by_variable = run(
            &["--database-url", database, "run-once"],
            folder.path(),
            &[("ITSM_BRIDGE_PUBLIC_URL", bad)],
        );
        assert_eq!(by_variable.status.code(), Some(2), "{bad} was accepted");
        assert!(
            stderr(&by_variable).contains("ITSM_BRIDGE_PUBLIC_URL"),
            "{}",
            stderr(&by_variable)
        );
    }
    assert!(
        entries(folder.path()).is_empty(),
        "{:?}",
        entries(folder.path())
    );
}

#[tokio::test]
async fn global_options_are_taken_after_the_subcommand_too() {
    let app = spawn_app().await;
    let database = app.folder.path().join("itsm-bridge.db");
    let scan = app.folder.path().join("scan.json");
    std::fs::write(&scan, SCAN).unwrap();
    let output = run(
        &[
            "ingest",
            "--source",
            "after",
            scan.to_str().unwrap(),
            "--database-url",
            database.to_str().unwrap(),
            "--scans-kept-per-source",
            "3",
        ],
        app.folder.path(),
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let pool = app.database().await;
    let sources: Vec<String> = sqlx::query_scalar("SELECT source FROM scans")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(sources, ["after"]);
}

#[test]
fn the_help_of_each_command_says_what_it_takes() {
    let folder = tempfile::tempdir().unwrap();
    let reset = run(&["admin", "reset-password", "--help"], folder.path(), &[]);
    let text = String::from_utf8_lossy(&reset.stdout);
    assert!(
        text.contains("The user name of the admin account"),
        "{text}"
    );
    assert!(text.contains("without echo"), "{text}");

    let ingest = run(&["ingest", "--help"], folder.path(), &[]);
    let text = String::from_utf8_lossy(&ingest.stdout);
    for said in [
        "--max-scan-bytes",
        "--scans-kept-per-source",
        "existing database",
    ] {
        assert!(
            text.contains(said),
            "ingest --help does not mention {said}: {text}"
        );
    }
}
