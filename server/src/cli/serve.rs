//! `itsm-bridge` without a command: the web server, until Ctrl+C or SIGTERM.

use server::configuration::{Config, LogFormat};
use server::startup::{Application, shutdown_signal};

pub async fn run(config: Config) -> anyhow::Result<()> {
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
