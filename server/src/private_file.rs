//! Files only the server's user may read: the key for secrets at rest, the setup token, the
//! database and its `-wal` and `-shm` files, and the folders the server creates for them.

use anyhow::Context;
use std::io::{ErrorKind, Write};
use std::path::Path;

/// Creates `path` (and its folder) with mode 0600, fails if it exists, writes `text` and a
/// newline, and syncs it to disk.
pub fn create(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_folder(folder)
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

/// Creates `folder`, and the folders above it that are missing, readable by their owner only
/// (0700). A folder that exists is left as it is: it may be shared, or the working directory.
pub fn create_folder(folder: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder)
}

/// Creates `path` empty with mode 0600 unless it exists (then leaves it as it is).
pub fn create_empty_if_missing(path: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error).with_context(|| format!("Failed to create {}", path.display())),
    }
}

/// Takes away every permission of the group and of others on `path`, if it exists.
pub fn restrict(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match std::fs::metadata(path) {
            Ok(metadata) => metadata.permissions().mode(),
            // A -wal or -shm file another process removed meanwhile: nothing to restrict.
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(()),
            Err(error) => {
                return Err(error).with_context(|| format!("Failed to read {}", path.display()));
            }
        };
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))
                .with_context(|| {
                    format!("Failed to make {} private to its owner", path.display())
                })?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
