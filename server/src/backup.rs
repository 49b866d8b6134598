//! `itsm-bridge admin backup FILE` and `admin restore FILE`.
//!
//! A backup is SQLite's `VACUUM INTO`: one read transaction, so the copy is consistent while
//! the server goes on writing (a scan being received is not in it: its rows are hidden
//! until the upload ends). It is written beside its name and linked into place only when
//! complete, mode 0600, never over an existing file.
//!
//! A restore checks that the file is an itsm-bridge database this release can run, refuses
//! while a process has the database open, keeps the database it replaces (renamed with a
//! timestamp), and marks the restored one (`engine::restored`) so that the engine adopts the
//! tickets opened after the backup instead of opening them again.
//!
//! Neither touches the key file: the secrets in a backup open only with the key that sealed
//! them, so the key file is kept with the backups (apart from them, where that is possible).

use crate::database::MIGRATOR;
use crate::private_file;
use anyhow::{Context, bail};
use sqlx::sqlite::{SqliteConnectOptions, SqliteLockingMode};
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a backup or a restore holds, for the command to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contents {
    pub scans: i64,
    pub tickets: i64,
    pub bytes: u64,
}

/// Writes a consistent copy of the database at `database` to `file` (a new file, 0600; its
/// folder is created, 0700, if missing).
pub async fn backup(database: &Path, file: &Path) -> anyhow::Result<Contents> {
    if !database.exists() {
        bail!(
            "No database at {}: check --database-url (or DATABASE_URL)",
            database.display()
        );
    }
    if file.exists() {
        bail!(
            "{} exists already; a backup never overwrites a file: name a new one",
            file.display()
        );
    }
    // A folder made for the backups (`/var/lib/itsm-bridge/backups`) is made private, as
    // the backups hold what the database holds.
    if let Some(folder) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        private_file::create_folder(folder)
            .with_context(|| format!("Failed to create the folder {}", folder.display()))?;
    }
    let partial = sibling(file, ".partial");
    let _ = std::fs::remove_file(&partial);
    // SQLite writes into an empty file it finds: created first, so it is 0600 from the start.
    private_file::create_empty_if_missing(&partial)?;
    let result = async {
        let mut conn = connect(database, SqliteLockingMode::Normal).await?;
        sqlx::query("VACUUM INTO ?")
            .bind(partial.to_string_lossy().as_ref())
            .execute(&mut conn)
            .await
            .with_context(|| format!("Failed to copy {}", database.display()))?;
        conn.close().await.ok();
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("Failed to write {}", partial.display()))?;
        // A hard link fails when the name exists: another backup written there meanwhile is
        // never replaced.
        std::fs::hard_link(&partial, file)
            .with_context(|| format!("Failed to create {}", file.display()))?;
        anyhow::Ok(())
    }
    .await;
    let _ = std::fs::remove_file(&partial);
    result?;
    let mut conn = connect(file, SqliteLockingMode::Normal).await?;
    let contents = contents(&mut conn, file).await;
    conn.close().await.ok();
    contents
}

/// What a restore did.
#[derive(Clone, Debug)]
pub struct Restored {
    pub contents: Contents,
    /// Where the database it replaced was moved, if there was one.
    pub replaced: Option<PathBuf>,
}

/// Puts the backup `file` in place of the database at `database`, which no process may have
/// open; the database there is kept, renamed `NAME.replaced-YYYYMMDDTHHMMSSZ`. `now` is Unix
/// seconds (the marker and the renamed file's name).
pub async fn restore(database: &Path, file: &Path, now: i64) -> anyhow::Result<Restored> {
    let file_metadata = std::fs::metadata(file)
        .with_context(|| format!("Failed to read the backup {}", file.display()))?;
    if !file_metadata.is_file() {
        bail!("{} is not a file", file.display());
    }
    if let Some(folder) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
        private_file::create_folder(folder).with_context(|| {
            format!("Failed to create the database folder {}", folder.display())
        })?;
    }
    // Checked and brought up to date in a copy beside the database: the backup itself is
    // never changed, and the swap below is a rename within one folder.
    let incoming = sibling(database, ".restoring");
    remove_database_files(&incoming);
    private_file::create_empty_if_missing(&incoming)?;
    let prepared = async {
        copy_into(file, &incoming)?;
        prepare(&incoming, file, now).await
    }
    .await;
    let contents = match prepared {
        Ok(contents) => contents,
        Err(error) => {
            remove_database_files(&incoming);
            return Err(error);
        }
    };
    let replaced = match set_aside(database, now).await {
        Ok(replaced) => replaced,
        Err(error) => {
            remove_database_files(&incoming);
            return Err(error);
        }
    };
    std::fs::rename(&incoming, database).with_context(|| {
        format!(
            "Failed to put the restored database in place at {}",
            database.display()
        )
    })?;
    if let Some(folder) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = std::fs::File::open(folder).and_then(|f| f.sync_all());
    }
    Ok(Restored { contents, replaced })
}

/// Refuses anything but an itsm-bridge database this release can run, then migrates it to
/// this release and marks it restored.
async fn prepare(copy: &Path, file: &Path, now: i64) -> anyhow::Result<Contents> {
    let not_ours = |why: &str| {
        anyhow::anyhow!(
            "{} is not an itsm-bridge backup ({why}); nothing was changed",
            file.display()
        )
    };
    let mut conn = connect(copy, SqliteLockingMode::Normal)
        .await
        .map_err(|_| not_ours("SQLite cannot open it"))?;
    let check: String = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(&mut conn)
        .await
        .map_err(|_| not_ours("not a SQLite database"))?;
    if check != "ok" {
        bail!(
            "{} is damaged (SQLite's check says: {check}); nothing was changed",
            file.display()
        );
    }
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .map_err(|_| not_ours("it has no migrations table"))?;
    let known: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    if versions.first() != known.first() {
        return Err(not_ours("it lacks the first itsm-bridge migration"));
    }
    if let Some(newer) = versions.iter().find(|v| !known.contains(v)) {
        bail!(
            "{} was made by a newer release of itsm-bridge (its migration {newer} is unknown \
             to this one); restore it with that release. Nothing was changed",
            file.display()
        );
    }
    MIGRATOR
        .run(&mut conn)
        .await
        .with_context(|| format!("Failed to bring {} up to this release", file.display()))?;
    crate::engine::restored::mark(&mut conn, now).await?;
    // The server runs in WAL mode; the file goes in place with no -wal beside it.
    sqlx::query("PRAGMA journal_mode = WAL")
        .execute(&mut conn)
        .await
        .context("Failed to set the restored database's journal mode")?;
    let contents = contents(&mut conn, copy).await?;
    conn.close()
        .await
        .context("Failed to close the restored database")?;
    Ok(contents)
}

/// Moves the database at `database` (with its `-wal` and `-shm`) aside, after checking that
/// no process has it open and folding its write-ahead log into it.
async fn set_aside(database: &Path, now: i64) -> anyhow::Result<Option<PathBuf>> {
    if !database.exists() {
        return Ok(None);
    }
    // Every connection to a WAL database holds a shared lock while it is open (a server's
    // pool keeps one open): an exclusive lock is granted only when none is.
    let in_use = || {
        anyhow::anyhow!(
            "The database {} is in use (a running server or command has it open): stop it \
             first (e.g. systemctl stop itsm-bridge), then restore. Nothing was changed",
            database.display()
        )
    };
    let mut conn = match connect(database, SqliteLockingMode::Exclusive).await {
        Ok(conn) => conn,
        Err(error) if is_busy(&error) => return Err(in_use()),
        Err(error) => return Err(error),
    };
    let locked = async {
        sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await?;
        sqlx::query("COMMIT").execute(&mut conn).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut conn)
            .await?;
        anyhow::Ok(())
    }
    .await;
    conn.close().await.ok();
    match locked {
        Err(error) if is_busy(&error) => return Err(in_use()),
        other => other.with_context(|| format!("Failed to lock {}", database.display()))?,
    }
    let stamp = time::OffsetDateTime::from_unix_timestamp(now)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .ok()
        })
        .unwrap_or_else(|| now.to_string());
    let kept = sibling(database, &format!(".replaced-{stamp}"));
    if kept.exists() {
        bail!(
            "{} exists already; wait a second and restore again",
            kept.display()
        );
    }
    // The -wal and -shm go with it: left beside the restored file, SQLite would replay the
    // old log into it.
    for suffix in ["-wal", "-shm", ""] {
        let from = sibling(database, suffix);
        if from.exists() {
            let to = sibling(&kept, suffix);
            std::fs::rename(&from, &to).with_context(|| {
                format!("Failed to move {} to {}", from.display(), to.display())
            })?;
        }
    }
    Ok(Some(kept))
}

async fn contents(conn: &mut SqliteConnection, file: &Path) -> anyhow::Result<Contents> {
    let (scans, tickets): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM scans WHERE completed_at IS NOT NULL), \
                (SELECT count(*) FROM engine_tickets WHERE phase = 'open')",
    )
    .fetch_one(&mut *conn)
    .await
    .with_context(|| format!("Failed to read {}", file.display()))?;
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    Ok(Contents {
        scans,
        tickets,
        bytes,
    })
}

/// One connection, no migration: a backup reads the database as the server left it.
async fn connect(path: &Path, locking: SqliteLockingMode) -> anyhow::Result<SqliteConnection> {
    let busy = match locking {
        // A restore asks once: a database in use stays in use.
        SqliteLockingMode::Exclusive => Duration::ZERO,
        SqliteLockingMode::Normal => Duration::from_secs(5),
    };
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .locking_mode(locking)
        .busy_timeout(busy)
        .connect()
        .await
        .with_context(|| format!("Failed to open {}", path.display()))
}

fn copy_into(from: &Path, to: &Path) -> anyhow::Result<()> {
    // Opened without truncation by `create_empty_if_missing` first, so the copy stays 0600.
    let mut source =
        std::fs::File::open(from).with_context(|| format!("Failed to read {}", from.display()))?;
    let mut target = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(to)
        .with_context(|| format!("Failed to write {}", to.display()))?;
    std::io::copy(&mut source, &mut target)
        .and_then(|_| target.sync_all())
        .with_context(|| format!("Failed to copy {} to {}", from.display(), to.display()))?;
    Ok(())
}

fn is_busy(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<sqlx::Error>()
            .and_then(|e| e.as_database_error())
            .and_then(|e| e.code())
            .is_some_and(|code| code == "5" || code == "6")
    })
}

fn remove_database_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(sibling(path, suffix));
    }
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sibling_keeps_the_folder_and_adds_to_the_name() {
        assert_eq!(
            sibling(Path::new("data/itsm-bridge.db"), "-wal"),
            PathBuf::from("data/itsm-bridge.db-wal")
        );
    }
}
