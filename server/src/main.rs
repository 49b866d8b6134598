//! `itsm-bridge`: starts the web server on the configured database (with the engine's
//! scheduler), or runs a command: `ingest`, `run-once`, `admin reset-password USER`.

use anyhow::Context;
use server::configuration::{AdminCommand, Command, Config, LogFormat};
use server::startup::{Application, shutdown_signal};
use server::{auth, database, ingest, telemetry};
use std::io::BufRead;

/// Findings are made on the parser's thread and freed on the writer's, a million a scan:
/// mimalloc frees across threads far faster than glibc's malloc (see README, "Ingestion
/// benchmark").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load();
    telemetry::init(config.log_format);
    match &config.command {
        Some(Command::Admin {
            action: AdminCommand::ResetPassword { user },
        }) => reset_password(&config, user).await,
        Some(Command::Ingest {
            source,
            format,
            file,
        }) => ingest_file(&config, source.as_deref(), format.as_deref(), file).await,
        Some(Command::RunOnce) => run_once(&config).await,
        None => serve(config).await,
    }
}

/// `itsm-bridge ingest`: the scanner API's code path for a file (the source from
/// `--source`, else from the file); non-zero exit on any error.
async fn ingest_file(
    config: &Config,
    source: Option<&str>,
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
    let pool = database::open_existing(&config.database_path()?).await?;
    let request = ingest::IngestRequest {
        format,
        source: source.map(str::to_string),
        max_bytes: config.max_scan_bytes,
        now: server::timestamps::now_unix(),
        keep_per_source: config.scans_kept_per_source,
        spill_folder: config.database_folder()?,
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
    if config.log_format == LogFormat::Text {
        // For a person at a terminal; in JSON mode every line of output is a JSON log line.
        println!("itsm-bridge is running: open {url}/ in your browser (Ctrl+C stops it).");
    }
    tracing::info!(%url, database = %config.database_url, "itsm-bridge is listening");
    app.run_until_stopped(shutdown_signal()).await?;
    tracing::info!("itsm-bridge stopped");
    Ok(())
}

/// Asks for the new password on a terminal (twice, without echo), else reads one line of
/// standard input; never from the command line, where the process list would show it.
async fn reset_password(config: &Config, user: &str) -> anyhow::Result<()> {
    let pool = database::open_existing(&config.database_path()?).await?;
    let password = read_new_password(user)?;
    auth::reset_password(&pool, user, &password).await?;
    pool.close().await;
    println!("The password of {user} was reset; their sessions were ended.");
    Ok(())
}

fn read_new_password(user: &str) -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!(
            "New password for {user} (at least 12 characters): "
        ))
        .context("Failed to read the new password from the terminal")?;
        let second = rpassword::prompt_password("The same password again: ")
            .context("Failed to read the new password from the terminal")?;
        if first != second {
            anyhow::bail!("The two passwords differ; nothing was changed");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("Failed to read the new password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// `itsm-bridge run-once`: one engine run now; prints its counts and outcome. Exits 0 only
/// when the run succeeded; Ctrl+C or SIGTERM ends the running step and records the run as
/// interrupted.
async fn run_once(config: &Config) -> anyhow::Result<()> {
    use server::engine::{NotStarted, Outcome, Trigger};
    let path = config.database_path()?;
    let pool = database::open_existing(&path).await?;
    let cipher =
        server::secrets::SecretCipher::load(config.secret_key.as_ref(), &config.key_file_path()?)?;
    let store = std::sync::Arc::new(server::settings_store::SqliteSettingsStore::new(
        pool.clone(),
        std::sync::Arc::new(cipher),
    ));
    server::startup::seal_secrets_to_their_url(&store).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let engine = server::startup::build_engine(
        config,
        &path,
        store,
        server::startup::servicenow_pacer(config),
        std::sync::Arc::new(server::auth::SystemClock),
        stopped,
    )
    .await?;
    let run = match engine.start(Trigger::Command).await {
        Ok(run) => run,
        Err(error @ (NotStarted::InProgress(_) | NotStarted::Busy | NotStarted::NotConnected)) => {
            anyhow::bail!("{}", capitalized(&error.to_string()))
        }
        Err(NotStarted::Failed(error)) => return Err(error),
    };
    let mut task = run.task;
    let report = tokio::select! {
        report = &mut task => report?,
        () = shutdown_signal() => {
            stop.send_replace(true);
            task.await?
        }
    };
    let c = report.counts;
    println!(
        "run {}: {} ({} groups: {} opened, {} noted, {} resolved, {} unchanged, {} skipped, {} failed)",
        report.run_id,
        report.outcome.as_str(),
        c.groups,
        c.opened,
        c.noted,
        c.resolved,
        c.unchanged,
        c.skipped,
        c.failed
    );
    for error in &report.errors {
        println!("  {error}");
    }
    engine.pool().close().await;
    pool.close().await;
    if report.outcome != Outcome::Succeeded {
        anyhow::bail!(
            "run {} did not succeed: {}",
            report.run_id,
            report.outcome.as_str()
        );
    }
    Ok(())
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
