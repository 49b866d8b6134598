//! `itsm-bridge demo`: the whole path on one machine, in one command. A ServiceNow simulator
//! on loopback, a server on a database of its own (a new temporary folder, or `--folder`;
//! never the configured database or key), a connection saved to the simulator, three
//! sample scans (real scanner output, `server/tests/fixtures/`), one engine run; then it
//! prints the UI's address, a sign-in made for the demo (a generated password, printed
//! once) and the simulator's incident list, and serves until Ctrl+C.

use anyhow::Context;
use app::backend::SettingsStore;
use app::forms::ConnectionForm;
use server::configuration::Config;
use server::engine::{Outcome, Trigger};
use server::settings_store::SqliteSettingsStore;
use server::startup::{Application, shutdown_signal};
use server::{auth, database, ingest, private_file};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// The demo's admin account; its password is made anew by every demo.
const DEMO_USER: &str = "demo";

/// Sample scans, as the scanners wrote them: (what, source given or `None` when the file
/// says it, the file).
const SAMPLES: &[(&str, Option<&str>, &[u8])] = &[
    (
        "Prowler, AWS (OCSF)",
        None,
        include_bytes!("../../tests/fixtures/prowler_example_output_aws.ocsf.json"),
    ),
    (
        "Prowler, Kubernetes (OCSF)",
        Some("prowler-kubernetes-demo-cluster"),
        include_bytes!("../../tests/fixtures/prowler_example_output_kubernetes.ocsf.json"),
    ),
    (
        "Trivy, a Dockerfile",
        None,
        include_bytes!("../../tests/fixtures/trivy_dockerfile.json.golden"),
    ),
];

pub async fn run(config: &Config, folder: Option<&Path>) -> anyhow::Result<()> {
    let started = Instant::now();
    let (folder, temporary) = demo_folder(folder)?;
    let sim = servicenow_sim::start("127.0.0.1:0".parse()?, 3600)
        .await
        .context("Failed to start the ServiceNow simulator")?;
    let demo = demo_config(config, &folder);
    let database_path = demo.database_path()?;

    // The account exists before the server starts, so no setup token is issued.
    let pool = database::open(&database_path).await?;
    let password = generated_password();
    let made = auth::create_first_admin(&pool, DEMO_USER, &password, now()).await;
    pool.close().await;
    made?;

    let app = Application::build(&demo).await?;
    let pool = app.pool();
    let store = app.settings();
    save_connection(&store, &sim.url()).await?;
    for (what, source, bytes) in SAMPLES {
        let request = ingest::IngestRequest {
            format: None,
            source: source.map(str::to_string),
            max_bytes: demo.max_scan_bytes,
            now: now(),
            keep_per_source: demo.scans_kept_per_source,
            spill_folder: folder.clone(),
        };
        ingest::ingest(&pool, std::io::Cursor::new(*bytes), request)
            .await
            .with_context(|| format!("Failed to ingest the sample scan {what}"))?;
    }

    let (stop_engine, engine_stopped) = tokio::sync::watch::channel(false);
    let engine = server::startup::build_engine(
        &demo,
        &database_path,
        store,
        server::startup::servicenow_pacer(&demo),
        Arc::new(auth::SystemClock),
        engine_stopped,
    )
    .await?;
    let run = engine
        .start(Trigger::Command)
        .await
        .map_err(|error| anyhow::anyhow!("The demo's engine run did not start: {error}"))?;
    let report = run.task.await?;
    stop_engine.send_replace(true);
    engine.pool().close().await;
    if report.outcome != Outcome::Succeeded {
        anyhow::bail!(
            "The demo's engine run did not succeed ({}): {}",
            report.outcome.as_str(),
            report.errors.join("; ")
        );
    }

    let url = format!("http://{}", app.local_addr());
    println!(
        "itsm-bridge demo: {} tickets opened in the simulator in {:.1} s (run {}).",
        report.counts.opened,
        started.elapsed().as_secs_f64(),
        report.run_id
    );
    println!("  the UI:                 {url}/");
    println!(
        "  sign in as:             {DEMO_USER} / {password}   (made for this demo, shown once)"
    );
    println!("  the simulator's incidents: {}/", sim.url());
    println!(
        "  the demo's database:    {} ({})",
        database_path.display(),
        if temporary.is_some() {
            "deleted when the demo ends"
        } else {
            "kept"
        }
    );
    println!("Ctrl+C ends the demo.");
    app.run_until_stopped(shutdown_signal()).await?;
    drop(temporary);
    Ok(())
}

/// A new temporary folder, or `--folder` (created, 0700) when it holds no database yet: the
/// demo never writes into an installation's data.
fn demo_folder(folder: Option<&Path>) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    match folder {
        Some(folder) => {
            let database = folder.join("itsm-bridge.db");
            if database.exists() {
                anyhow::bail!(
                    "{} holds a database already; the demo starts from nothing: give a new or \
                     empty folder",
                    folder.display()
                );
            }
            private_file::create_folder(folder)
                .with_context(|| format!("Failed to create {}", folder.display()))?;
            Ok((folder.to_path_buf(), None))
        }
        None => {
            let temporary = tempfile::Builder::new()
                .prefix("itsm-bridge-demo-")
                .tempdir()
                .context("Failed to create a temporary folder for the demo")?;
            Ok((temporary.path().to_path_buf(), Some(temporary)))
        }
    }
}

/// The configuration given, on the demo's own database and key, its engine run only when
/// the demo starts it, and no request cap (the simulator is on this machine).
fn demo_config(config: &Config, folder: &Path) -> Config {
    let mut demo = config.clone();
    demo.command = None;
    demo.database_url = folder.join("itsm-bridge.db").display().to_string();
    demo.key_file = Some(folder.join("itsm-bridge.key"));
    demo.secret_key = None;
    demo.servicenow_ca_file = None;
    demo.no_scheduler = true;
    demo.servicenow_requests_per_second = 10_000;
    demo
}

async fn save_connection(store: &SqliteSettingsStore, instance_url: &str) -> anyhow::Result<()> {
    let form = ConnectionForm {
        instance_url: instance_url.to_string(),
        client_id: servicenow_sim::CLIENT_ID.to_string(),
        client_secret: servicenow_sim::CLIENT_SECRET.to_string(),
        group_sys_id: servicenow_sim::GROUP_SYS_ID.to_string(),
        user_sys_id: servicenow_sim::USER_SYS_ID.to_string(),
        user_id: servicenow_sim::USER_NAME.to_string(),
        password: servicenow_sim::USER_PASSWORD.to_string(),
        ..ConnectionForm::defaults()
    };
    let update = form
        .validate(&store.connection().await?)
        .map_err(|errors| anyhow::anyhow!("The demo's connection was refused: {errors:?}"))?;
    store.save_connection(update).await
}

/// 20 letters and digits from the system's random source.
fn generated_password() -> String {
    const LETTERS: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    server::random::chosen_from(LETTERS, 20)
}

fn now() -> i64 {
    server::timestamps::now_unix()
}
