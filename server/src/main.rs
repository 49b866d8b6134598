//! `itsm-bridge`: starts the web server on the configured database (with the engine's
//! scheduler), or runs a command. This file only parses the command line and hands over;
//! each command's body is a file of its own in `cli/`.

mod cli;

use server::configuration::{AdminCommand, Command, Config};
use server::telemetry;

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
        }) => cli::reset_password::run(&config, user).await,
        Some(Command::Admin {
            action: AdminCommand::Backup { file },
        }) => cli::backup::run(&config, file).await,
        Some(Command::Admin {
            action: AdminCommand::Restore { file },
        }) => cli::restore::run(&config, file).await,
        Some(Command::Demo { folder }) => cli::demo::run(&config, folder.as_deref()).await,
        Some(Command::Ingest {
            source,
            format,
            file,
        }) => cli::ingest::run(&config, source.as_deref(), format.as_deref(), file).await,
        Some(Command::RunOnce) => cli::run_once::run(&config).await,
        None => cli::serve::run(config).await,
    }
}
