//! `itsm-bridge admin restore FILE`: a backup put back in place of the database, with the
//! server stopped (see `server::backup`).

use server::configuration::Config;

pub async fn run(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let database = config.database_path()?;
    let restored = server::backup::restore(&database, file, server::timestamps::now_unix()).await?;
    println!(
        "Restored {} into {} ({} scans, {} tickets).",
        file.display(),
        database.display(),
        restored.contents.scans,
        restored.contents.tickets
    );
    if let Some(replaced) = &restored.replaced {
        println!(
            "The database it replaced is kept as {}.",
            replaced.display()
        );
    }
    println!(
        "The next engine run looks up every ticket it would open by its correlation_id first: \
         tickets opened after the backup are adopted, not opened again. Start the server with \
         the same key file (or ITSM_BRIDGE_SECRET_KEY) as when the backup was taken."
    );
    Ok(())
}
