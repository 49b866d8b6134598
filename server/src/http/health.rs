//! `GET /healthz` (the process answers) and `GET /readyz` (the database answers, and is
//! still the file the server opened).

use axum::http::StatusCode;
use sqlx::SqlitePool;
use std::path::PathBuf;

pub async fn healthz() -> &'static str {
    "ok"
}

/// The database file the server opened. SQLite keeps writing to a file that was deleted or
/// replaced under it, and all of that is lost at the next start: readiness says so.
#[derive(Clone, Debug)]
pub struct DatabaseFile {
    path: PathBuf,
    /// The file's identity (device, inode) when the server opened it.
    identity: Option<(u64, u64)>,
}

impl DatabaseFile {
    pub fn new(path: PathBuf) -> Self {
        let identity = identity(&path);
        Self { path, identity }
    }

    /// Whether the file at the path is still the one opened.
    fn is_the_one_opened(&self) -> bool {
        self.identity.is_none() || identity(&self.path) == self.identity
    }
}

#[cfg(unix)]
fn identity(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(path: &std::path::Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|_| (0, 0))
}

/// What readiness checks: the server's pool, and that its file is the one opened.
#[derive(Clone, Debug)]
pub struct Readiness {
    pub pool: SqlitePool,
    pub file: DatabaseFile,
}

pub async fn readyz(Readiness { pool, file }: Readiness) -> (StatusCode, &'static str) {
    if let Err(error) = sqlx::query("SELECT 1").execute(&pool).await {
        tracing::error!(error = %error, "readiness check: the database does not answer");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the database does not answer",
        );
    }
    let same = tokio::task::spawn_blocking({
        let file = file.clone();
        move || file.is_the_one_opened()
    })
    .await
    .unwrap_or(false);
    if !same {
        tracing::error!(
            path = %file.path.display(),
            "readiness check: the database file was deleted or replaced while the server \
             ran; what it writes now is lost at the next start: restart it"
        );
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the database file was deleted or replaced",
        );
    }
    (StatusCode::OK, "ready")
}
