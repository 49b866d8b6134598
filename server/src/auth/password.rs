//! Password hashing with Argon2id (RustCrypto `argon2`, its default parameters: 19 MiB,
//! 2 passes), in PHC strings that carry their own salt and parameters.
//!
//! A hash takes tens of milliseconds of one core's full attention, so it never runs on the
//! async workers (two sign-ins at once would stall every request on a 2-core machine): it
//! runs on tokio's blocking pool, and a semaphore lets only a few run at once, leaving the
//! other cores to the rest of the server.

use anyhow::{Context, anyhow};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chacha20poly1305::aead::OsRng;
use std::sync::LazyLock;
use tokio::sync::Semaphore;

/// Hashes at once: half the cores, at least one.
static HASHING: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    Semaphore::new((cores / 2).max(1))
});

/// Runs `work` on the blocking pool, once a hashing permit is free.
async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let _permit = HASHING
        .acquire()
        .await
        .context("The password hashing semaphore was closed")?;
    tokio::task::spawn_blocking(work)
        .await
        .context("A password hashing task failed")
}

/// A new PHC string for `password`.
pub async fn hash(password: String) -> anyhow::Result<String> {
    off_the_workers(move || hash_password(&password)).await?
}

/// Whether `password` matches the PHC string `stored`.
pub async fn verify(password: String, stored: String) -> bool {
    off_the_workers(move || verify_password(&password, &stored))
        .await
        .unwrap_or(false)
}

/// Spends the time of a real check, so that an unknown user name cannot be told apart
/// from a wrong password by how long the answer takes.
pub async fn spend_a_verification(password: String) {
    static DUMMY: LazyLock<String> =
        LazyLock::new(|| hash_password("a password nobody has").unwrap_or_default());
    let _ = off_the_workers(move || verify_password(&password, &DUMMY)).await;
}

fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow!("Failed to hash a password: {e}"))
}

fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse battery ", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn the_same_password_hashes_differently() {
        assert_ne!(
            hash_password("same password!").unwrap(),
            hash_password("same password!").unwrap()
        );
    }

    /// On a one-thread runtime, a task spawned beside a verification runs while the
    /// verification is under way only if the hashing happens off the runtime's thread.
    #[tokio::test(flavor = "current_thread")]
    async fn verifying_leaves_the_async_runtime_free() {
        let hash = hash("correct horse battery".into()).await.unwrap();
        let verifying = tokio::spawn(verify("correct horse battery".into(), hash));
        tokio::task::yield_now().await;
        assert!(
            !verifying.is_finished(),
            "the verification ran on the runtime's thread"
        );
        assert!(verifying.await.unwrap());
    }
}
