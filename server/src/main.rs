//! `itsm-bridge`: starts the web server on the configured database, or runs an admin
//! command (`itsm-bridge admin reset-password USER`).

use anyhow::Context;
use clap::Parser;
use server::configuration::{AdminCommand, Command, Config};
use server::startup::{Application, shutdown_signal};
use server::{auth, database, ingest, telemetry};
use std::io::BufRead;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse().with_environment_secrets();
    telemetry::init(config.log_format);
    match &config.command {
        Some(Command::Admin {
            action: AdminCommand::ResetPassword { user },
        }) => reset_password(&config, user).await,
        Some(Command::Ingest {
            source,
            format,
            file,
        }) => ingest_file(&config, source, format.as_deref(), file).await,
        None => serve(config).await,
    }
}

/// `itsm-bridge ingest`: the scanner API's code path for a file; non-zero exit on any error.
async fn ingest_file(
    config: &Config,
    source: &str,
    format: Option<&str>,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    let format = format
        .map(str::parse::<ingest::Format>)
        .transpose()
        .map_err(|message| anyhow::anyhow!(message))?;
    let reader: Box<dyn std::io::Read + Send> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(file)
                .with_context(|| format!("Failed to open {}", file.display()))?,
        )
    };
    let pool = database::open(&config.database_path()?).await?;
    let request = ingest::IngestRequest {
        format,
        source: Some(source.to_string()),
        max_bytes: config.max_scan_bytes,
        now: server::timestamps::now_unix(),
        keep_per_source: config.scans_kept_per_source,
    };
    let result = ingest::ingest(&pool, reader, request).await;
    pool.close().await;
    let summary = result?;
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(&config).await?;
    let url = format!("http://{}", app.local_addr());
    tracing::info!(%url, database = %config.database_url, "itsm-bridge is listening");
    println!("itsm-bridge is running: open {url}/ in your browser (Ctrl+C stops it).");
    app.run_until_stopped(shutdown_signal()).await?;
    tracing::info!("itsm-bridge stopped");
    Ok(())
}

/// Reads the new password from standard input (one line), so it shows in no process list.
async fn reset_password(config: &Config, user: &str) -> anyhow::Result<()> {
    eprintln!("New password for {user} (at least 12 characters), then Enter:");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("Failed to read the new password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']);
    let pool = database::open(&config.database_path()?).await?;
    auth::reset_password(&pool, user, password).await?;
    pool.close().await;
    println!("The password of {user} was reset; their sessions were ended.");
    Ok(())
}
