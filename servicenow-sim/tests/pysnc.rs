//! A real client: ServiceNow's own PySNC creates, queries, updates and reads back an
//! incident against the simulator over https, with the OAuth password grant and with Basic
//! auth. Needs `python3` with `pysnc` (scripts/setup installs it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn pysnc_round_trips_an_incident_with_oauth_and_with_basic_auth() {
    let (sim, cert) = servicenow_sim::start_https("127.0.0.1:0".parse().unwrap(), 1800)
        .await
        .unwrap();
    let folder = std::env::temp_dir().join(format!("sim-ca-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let ca_file = folder.join("sim.pem");
    std::fs::write(&ca_file, cert).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pysnc_roundtrip.py");
    let url = sim.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let output = tokio::task::spawn_blocking(move || {
        // PySNC hands its `verify` to some calls only; for the others requests reads
        // REQUESTS_CA_BUNDLE (which machines often point at the system bundle). Name the
        // simulator's certificate both ways; verification stays on.
        Command::new("python3")
            .arg(script)
            .arg(&url)
            .arg(&ca_file)
            .env("REQUESTS_CA_BUNDLE", &ca_file)
            .output()
    })
    .await
    .unwrap()
    .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "PySNC failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("2 passed, 0 failed"), "{stdout}");
    assert_eq!(sim.incidents().len(), 2);
    assert!(
        sim.count("POST", "/oauth_token.do") >= 1,
        "the OAuth round trip asked for no token"
    );
}
