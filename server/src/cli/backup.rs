//! `itsm-bridge admin backup FILE`: a consistent copy of the database, taken while the
//! server runs (see `server::backup`).

use server::configuration::Config;

pub async fn run(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let database = config.database_path()?;
    let contents = server::backup::backup(&database, file).await?;
    println!(
        "Backed up {} to {} ({} bytes: {} scans, {} tickets; readable by its owner only).",
        database.display(),
        file.display(),
        contents.bytes,
        contents.scans,
        contents.tickets
    );
    if config.secret_key.is_none() {
        println!(
            "Keep the key file {} with your backups: without it the ServiceNow secrets in a \
             backup cannot be read.",
            config.key_file_path()?.display()
        );
    } else {
        println!(
            "Keep ITSM_BRIDGE_SECRET_KEY with your backups: without it the ServiceNow secrets \
             in a backup cannot be read."
        );
    }
    Ok(())
}
