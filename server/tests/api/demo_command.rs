//! `itsm-bridge demo`: from the command to tickets in its own simulator, with a sign-in
//! made for it, on a database of its own.

use crate::helpers::*;
use std::io::BufRead;
use std::process::Stdio;
use std::time::Duration;

/// The demo's printed lines up to "Ctrl+C ends the demo.", read while it keeps running.
fn lines_until_ready(child: &mut std::process::Child) -> Vec<String> {
    let stdout = child.stdout.take().expect("a piped stdout");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    loop {
        // A bound on a hang (the test fails), not a decision by time.
        match receiver.recv_timeout(Duration::from_secs(300)) {
            Ok(line) => {
                let done = line.starts_with("Ctrl+C ends the demo");
                lines.push(line);
                if done {
                    return lines;
                }
            }
            Err(error) => panic!("the demo printed no end of its banner ({error}): {lines:?}"),
        }
    }
}

/// The first `http://…/` in the line that starts with `label`.
fn url_after(lines: &[String], label: &str) -> String {
    let line = lines
        .iter()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no line {label:?} in {lines:?}"));
    let start = line.find("http://").expect("a URL");
    line[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string()
}

struct Demo(std::process::Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_demo_reaches_opened_tickets_in_its_own_simulator_and_prints_a_sign_in() {
    let folder = tempfile::tempdir().unwrap();
    let demo_folder = folder.path().join("demo");
    let configured = folder.path().join("real").join("itsm-bridge.db");
    let mut demo = Demo(
        itsm_bridge_command()
            .arg("--database-url")
            .arg(&configured)
            .args(["--listen", "127.0.0.1:0", "demo", "--folder"])
            .arg(&demo_folder)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("itsm-bridge demo starts"),
    );
    let lines = lines_until_ready(&mut demo.0);
    let opened: usize = lines[0]
        .split_whitespace()
        .find_map(|word| word.parse().ok())
        .unwrap_or_else(|| panic!("the count of tickets in {:?}", lines[0]));
    assert!(opened > 0, "{lines:?}");
    let ui = url_after(&lines, "the UI:");
    let sim = url_after(&lines, "the simulator's incidents:");
    let sign_in = lines
        .iter()
        .find(|l| l.trim_start().starts_with("sign in as:"))
        .expect("a sign-in line");
    let mut words = sign_in.split_whitespace().skip(3);
    let (user, slash, password) = (
        words.next().unwrap(),
        words.next().unwrap(),
        words.next().unwrap(),
    );
    assert_eq!((user, slash), ("demo", "/"));
    assert!(password.len() >= 12, "{password}");

    // The simulator lists the tickets the run opened.
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let incidents = client
        .get(format!("{sim}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        incidents.matches("nav_to.do?uri=incident.do").count(),
        opened,
        "{incidents}"
    );

    // The printed sign-in opens the UI, whose Tickets page lists them.
    let signed_in = client
        .post(format!("{ui}/api/login"))
        .form(&[
            ("form[username]", user),
            ("form[password]", password),
            ("form[next]", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        signed_in.status(),
        200,
        "{}",
        signed_in.text().await.unwrap()
    );
    let tickets = client
        .get(format!("{ui}/tickets"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(tickets.contains("INC"), "{tickets}");

    // Its database is in its own folder; the configured one was never made.
    assert!(demo_folder.join("itsm-bridge.db").exists());
    assert!(!configured.exists());
    assert!(!configured.parent().unwrap().exists());
}

#[test]
fn the_demo_refuses_a_folder_that_holds_a_database() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("itsm-bridge.db"), "someone's data").unwrap();
    let output = itsm_bridge_command()
        .args(["--listen", "127.0.0.1:0", "demo", "--folder"])
        .arg(folder.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("holds a database already"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(folder.path().join("itsm-bridge.db")).unwrap(),
        "someone's data"
    );
}
