//! The simulator as a new user starts it over https: its banner says where the certificate
//! is and how itsm-bridge is told to trust it, and the file it names is that certificate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Kills the simulator when the test ends, passed or failed.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_https_banner_names_the_certificate_file_and_the_flag_that_trusts_it() {
    let folder = tempfile::tempdir().unwrap();
    // A folder that does not exist yet, as `data/` on a fresh clone.
    let cert = folder.path().join("not-yet/sim.pem");
    let mut sim = Running(
        Command::new(env!("CARGO_BIN_EXE_servicenow-sim"))
            .args(["--listen", "127.0.0.1:0", "--https", "--cert-out"])
            .arg(&cert)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the simulator starts"),
    );
    let mut lines = BufReader::new(sim.0.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let second = lines.next().unwrap().unwrap();
    assert!(
        first.starts_with("servicenow-sim on https://127.0.0.1:"),
        "{first}"
    );
    let absolute = std::fs::canonicalize(&cert).unwrap();
    let path = absolute.display().to_string();
    assert!(
        second.contains(&format!("--servicenow-ca-file {path}"))
            && second.contains(&format!("ITSM_BRIDGE_SERVICENOW_CA_FILE={path}")),
        "{second}"
    );
    let pem = std::fs::read_to_string(&absolute).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
}
