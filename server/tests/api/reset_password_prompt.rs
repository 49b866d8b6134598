//! `admin reset-password` on a terminal: it asks twice (without echo, by rpassword) instead
//! of reading a line that `echo 'pw' |` would have left in the shell's history. The
//! terminal is a real pseudo-terminal, made by util-linux's `script`.

use crate::helpers::{ADMIN, itsm_bridge_command, spawn_app};
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};

/// `itsm-bridge ARGS` on a pseudo-terminal, with the test shell's settings removed as
/// `itsm_bridge_command` removes them.
fn on_a_terminal(args: &[&str]) -> Child {
    let bridge = itsm_bridge_command();
    let mut line = bridge.get_program().to_string_lossy().into_owned();
    for arg in args {
        line.push_str(&format!(" '{arg}'"));
    }
    let mut command = Command::new("script");
    for (name, value) in bridge.get_envs() {
        if value.is_none() {
            command.env_remove(name);
        }
    }
    command
        .args(["--quiet", "--return", "--command", &line, "/dev/null"])
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux's script runs")
}

/// Reads the terminal's output until `wanted` shows (or the output ends).
fn read_until(child: &mut Child, seen: &mut String, wanted: &str) {
    let output = child.stdout.as_mut().unwrap();
    let mut byte = [0u8; 1];
    while !seen.contains(wanted) {
        if output.read(&mut byte).unwrap() == 0 {
            break;
        }
        seen.push(char::from(byte[0]));
    }
}

fn answer_prompts(args: &[&str], first: &str, second: &str) -> (bool, String) {
    let mut child = on_a_terminal(args);
    let mut seen = String::new();
    read_until(&mut child, &mut seen, "New password for admin");
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(format!("{first}\n").as_bytes())
        .unwrap();
    read_until(&mut child, &mut seen, "The same password again");
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(format!("{second}\n").as_bytes())
        .unwrap();
    let mut rest = String::new();
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_to_string(&mut rest)
        .unwrap();
    seen.push_str(&rest);
    let success = child.wait().unwrap().success();
    (success, seen)
}

#[tokio::test]
async fn on_a_terminal_the_password_is_asked_twice_and_must_match() {
    let app = spawn_app().await;
    let database = app.folder.path().join("itsm-bridge.db");
    let args = [
        "--database-url",
        database.to_str().unwrap(),
        "admin",
        "reset-password",
        ADMIN,
    ];

    let (success, seen) = answer_prompts(&args, "first typing 12345", "second typing 1234");
    assert!(!success, "differing passwords were taken: {seen}");
    assert!(seen.contains("The two passwords differ"), "{seen}");
    assert_eq!(app.sign_in(ADMIN, "first typing 12345").await.status(), 401);

    let (success, seen) = answer_prompts(&args, "typed on a tty 123", "typed on a tty 123");
    assert!(success, "{seen}");
    assert!(seen.contains("was reset"), "{seen}");
    let signed_in = app.sign_in(ADMIN, "typed on a tty 123").await;
    assert_eq!(signed_in.status(), 200);
}
