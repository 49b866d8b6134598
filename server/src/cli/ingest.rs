//! `itsm-bridge ingest`: the scanner API's code path for a file.

use anyhow::Context;
use server::configuration::Config;
use server::{database, ingest};

/// Stores the scan in `file` (`-`: standard input); the source from `--source`, else from
/// the file. Prints the summary as JSON; non-zero exit on any error.
pub async fn run(
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
