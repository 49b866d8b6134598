//! Files only the server's user may read: the key for secrets at rest, the setup token.

use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Creates `path` (and its folder) with mode 0600, fails if it exists, writes `text` and a
/// newline, and syncs it to disk.
pub fn create(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("Failed to create the folder {}", folder.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("Failed to create {}", path.display()))?;
    writeln!(file, "{text}")
        .and_then(|_| file.sync_all())
        .with_context(|| format!("Failed to write {}", path.display()))?;
    Ok(())
}
