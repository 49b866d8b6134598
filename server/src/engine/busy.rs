//! Short writes retried while the database is busy. Another writer (a scan upload, a
//! settings save) can hold SQLite's write lock for a moment; the engine waits its turn a
//! bounded number of times, then ends the run as "database busy" rather than failing group
//! after group.

use std::future::Future;
use std::time::Duration;

const ATTEMPTS: u32 = 4;

/// Why a database step of the engine failed.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("the database stayed busy (another writer held it); the rest was left to the next run")]
    Busy,
    #[error("the database failed: {0:#}")]
    Failed(anyhow::Error),
}

/// Whether an error is SQLite's "busy" or "locked" (the lock was not free in time).
pub fn is_busy(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<sqlx::Error>()
            .and_then(|e| match e {
                sqlx::Error::Database(db) => db.code(),
                _ => None,
            })
            .is_some_and(|code| matches!(code.as_ref(), "5" | "6" | "261" | "517" | "262"))
    })
}

/// Runs `write` until it succeeds, is not busy, or was busy `ATTEMPTS` times.
pub async fn retry_busy<T, F, Fut>(mut write: F) -> Result<T, DatabaseError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let mut attempt = 0;
    loop {
        match write().await {
            Ok(value) => return Ok(value),
            Err(error) if is_busy(&error) => {
                attempt += 1;
                if attempt >= ATTEMPTS {
                    tracing::warn!(error = format!("{error:#}"), "the database stayed busy");
                    return Err(DatabaseError::Busy);
                }
                tokio::time::sleep(Duration::from_millis(250) * attempt).await;
            }
            Err(error) => return Err(DatabaseError::Failed(error)),
        }
    }
}
