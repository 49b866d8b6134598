//! What the server says as it starts, run as the real binary: logs on standard error that
//! are all JSON in JSON mode (standard output silent), free of colour codes when not
//! written to a terminal, the settings in effect without the secret key, the missing site
//! named, and the first run's setup token as the README's "First run" says.

use crate::helpers::itsm_bridge_command;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;

const SECRET_KEY: &str = "c2VjcmV0LWtleS1vZi10aGUtdGVzdC0zMi1ieXRlcyE=";

struct Started {
    stdout: String,
    stderr: Vec<String>,
}

/// Starts the server on a free port in `folder`, reads its log up to the line saying it
/// listens, then stops it (SIGKILL: only what it wrote at start is looked at). In text mode
/// the banner for a person is printed on standard output before that line, so a test sees
/// whatever reaches standard output at start.
fn start_and_stop(folder: &Path, extra: &[&str]) -> Started {
    let mut child = itsm_bridge_command()
        .args(["--listen", "127.0.0.1:0", "--no-scheduler"])
        .args(["--database-url", "data/itsm-bridge.db"])
        .args(extra)
        .current_dir(folder)
        .env("ITSM_BRIDGE_SECRET_KEY", SECRET_KEY)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = Vec::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        let listening = line.contains("itsm-bridge is listening");
        stderr.push(line);
        if listening {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("itsm-bridge is listening")),
        "the server did not start: {stderr:#?}"
    );
    Started { stdout, stderr }
}

#[test]
fn json_logs_are_all_json_and_say_the_settings_but_not_the_key() {
    let folder = tempfile::tempdir().unwrap();
    let started = start_and_stop(
        folder.path(),
        &["--log-format", "json", "--session-idle-minutes", "7"],
    );
    assert_eq!(started.stdout, "", "plain text on standard output");
    for line in &started.stderr {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not JSON: {line}"
        );
        assert!(
            !line.contains(SECRET_KEY),
            "the secret key was logged: {line}"
        );
    }
    let settings = started
        .stderr
        .iter()
        .find(|l| l.contains("starting with these settings"))
        .expect("the settings are logged");
    for said in [
        "session_idle_minutes: 7",
        "data/itsm-bridge.db",
        "no_scheduler: true",
    ] {
        assert!(settings.contains(said), "{said} missing from {settings}");
    }
}

#[test]
fn text_logs_to_a_file_have_no_colour_codes() {
    let folder = tempfile::tempdir().unwrap();
    let started = start_and_stop(folder.path(), &[]);
    assert!(started.stderr.len() > 2, "{:#?}", started.stderr);
    for line in &started.stderr {
        assert!(!line.contains('\u{1b}'), "an escape code: {line:?}");
    }
    assert!(
        started
            .stdout
            .contains("itsm-bridge is running: open http://127.0.0.1:")
    );
}

#[test]
fn a_missing_site_is_named_in_an_error_at_start() {
    let folder = tempfile::tempdir().unwrap();
    let started = start_and_stop(folder.path(), &["--site-root", "nowhere/site"]);
    let expected = folder.path().join("nowhere/site");
    assert!(
        started
            .stderr
            .iter()
            .any(|l| l.contains("ERROR") && l.contains(expected.to_str().unwrap())),
        "{:#?}",
        started.stderr
    );
}

/// The README's "First run": a WARN line with `setup_token=…`, the same token in
/// `data/itsm-bridge.setup-token`, mode 0600, beside the database it creates.
#[test]
fn the_first_run_prints_the_setup_token_and_writes_it_where_the_readme_says() {
    let folder = tempfile::tempdir().unwrap();
    let started = start_and_stop(folder.path(), &[]);
    let line = started
        .stderr
        .iter()
        .find(|l| l.contains("WARN") && l.contains("setup_token="))
        .expect("a WARN line with the setup token");
    let file = folder.path().join("data/itsm-bridge.setup-token");
    let token = std::fs::read_to_string(&file).unwrap();
    assert!(
        line.contains(&format!("setup_token={}", token.trim())),
        "{line}"
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(folder.path().join("data/itsm-bridge.db").exists());
}
