//! `itsm-bridge`: starts the web server on the configured database.

use clap::Parser;
use server::configuration::Config;
use server::startup::{Application, shutdown_signal};
use server::telemetry;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse().with_environment_secrets();
    telemetry::init(config.log_format);
    let app = Application::build(&config).await?;
    let url = format!("http://{}", app.local_addr());
    tracing::info!(%url, database = %config.database_url, "itsm-bridge is listening");
    println!("itsm-bridge is running: open {url}/ in your browser (Ctrl+C stops it).");
    app.run_until_stopped(shutdown_signal()).await?;
    tracing::info!("itsm-bridge stopped");
    Ok(())
}
