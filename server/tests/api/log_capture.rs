//! The real binary, started in a folder of its own (database `data/itsm-bridge.db`, a free
//! port, no scheduler), with its standard error read line by line: for the tests that look
//! at what the server logs.

use crate::helpers::itsm_bridge_command;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;

/// The server and the lines of its standard error.
pub struct LoggedServer {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    lines: mpsc::Receiver<String>,
    /// The lines read up to the one saying it listens.
    started: Vec<String>,
}

impl LoggedServer {
    /// Starts the server in `folder` with `--log-format log_format`, `RUST_LOG=rust_log`,
    /// the key for secrets at rest `secret_key` and the flags `extra`; returns once it
    /// listens.
    pub fn start(
        folder: &Path,
        log_format: &str,
        rust_log: &str,
        secret_key: &str,
        extra: &[&str],
    ) -> Self {
        let mut child = itsm_bridge_command()
            .args(["--listen", "127.0.0.1:0", "--no-scheduler"])
            .args(["--database-url", "data/itsm-bridge.db"])
            .args(extra)
            .args(["--log-format", log_format])
            .current_dir(folder)
            .env("ITSM_BRIDGE_SECRET_KEY", secret_key)
            .env("RUST_LOG", rust_log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        let mut started = Vec::new();
        let url = loop {
            let line = lines
                .recv()
                .unwrap_or_else(|_| panic!("the server did not start: {started:#?}"));
            let listening = line.contains("itsm-bridge is listening");
            started.push(line.clone());
            if listening {
                let at = line.find("http://127.0.0.1:").expect("the URL");
                let port: String = line[at + "http://127.0.0.1:".len()..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                break format!("http://127.0.0.1:{port}");
            }
        };
        LoggedServer {
            child,
            url,
            lines,
            started,
        }
    }

    /// Stops the server and returns every line it wrote: what it logs of a request is
    /// written before its answer, so the lines of every answered request are there.
    pub fn stop(mut self) -> Vec<String> {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let mut all = self.started;
        all.extend(self.lines.iter());
        all
    }
}
