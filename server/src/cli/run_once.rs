//! `itsm-bridge run-once`: one engine run now, for an outside scheduler or a person.

use server::configuration::Config;
use server::database;
use server::startup::shutdown_signal;

/// `itsm-bridge run-once`: one engine run now; prints its counts and outcome. Exits 0 only
/// when the run succeeded; Ctrl+C or SIGTERM ends the running step and records the run as
/// interrupted.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    use server::engine::{NotStarted, Outcome, Trigger};
    let path = config.database_path()?;
    let pool = database::open_existing(&path).await?;
    let cipher =
        server::secrets::SecretCipher::load(config.secret_key.as_ref(), &config.key_file_path()?)?;
    let readers = database::Readers::new(pool.clone(), 1);
    let store = std::sync::Arc::new(server::settings_store::SqliteSettingsStore::new(
        pool.clone(),
        readers.clone(),
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
    readers.close().await;
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
