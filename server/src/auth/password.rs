//! Password hashing with Argon2id (RustCrypto `argon2`, its default parameters: 19 MiB,
//! 2 passes), in PHC strings that carry their own salt and parameters.
//!
//! A hash takes tens of milliseconds of one core's full attention, so it never runs on the
//! async workers (two sign-ins at once would stall every request on a 2-core machine): it
//! runs on tokio's blocking pool, and a semaphore lets only a few run at once, leaving the
//! other cores to the rest of the server.
//!
//! The permit travels into the blocking task and is released when the hash is done, not
//! when the request is: a client that hangs up mid-sign-in drops its request's future, but
//! the hash it started keeps running, and must keep holding its permit. Waiters are capped
//! too: past [`MAX_WAITING`], a sign-in is refused at once ([`Busy`]) instead of queueing
//! without bound.

use anyhow::anyhow;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use tokio::sync::Semaphore;

/// Sign-ins that may wait for a hashing permit at once; more are refused with [`Busy`].
pub const MAX_WAITING: usize = 64;

/// Too many hashes are waiting already: the caller says "try again shortly".
#[derive(Debug, PartialEq, Eq)]
pub struct Busy;

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Too many sign-ins at once; try again shortly.")
    }
}

impl std::error::Error for Busy {}

/// The server's hashing limit: half the cores at once, at least one.
static HASHING: LazyLock<Hashing> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    Hashing::new((cores / 2).max(1), MAX_WAITING)
});

/// A limit on hashes running at once, with a bounded number of waiters.
struct Hashing {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// Counts one waiter for as long as it lives, also when its future is dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Hashing {
    fn new(at_once: usize, max_waiting: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(at_once)),
            waiting: AtomicUsize::new(0),
            max_waiting,
        }
    }

    /// Runs `work` on the blocking pool once a permit is free; the permit is held by the
    /// blocking task itself, so it stays taken until `work` ends, whatever the caller does.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let permit = {
            let waiting = Waiting(&self.waiting);
            if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
                return Err(Busy.into());
            }
            let permit = self.permits.clone().acquire_owned().await?;
            drop(waiting);
            permit
        };
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        });
        task.await
            .map_err(|e| anyhow!("A password hashing task failed: {e}"))
    }
}

/// A new PHC string for `password`; [`Busy`] (inside the error) when too many wait.
pub async fn hash(password: String) -> anyhow::Result<String> {
    HASHING.run(move || hash_password(&password)).await?
}

/// Whether `password` matches the PHC string `stored`; [`Busy`] when too many wait.
pub async fn verify(password: String, stored: String) -> Result<bool, Busy> {
    match HASHING
        .run(move || verify_password(&password, &stored))
        .await
    {
        Ok(matches) => Ok(matches),
        Err(error) if error.is::<Busy>() => Err(Busy),
        Err(_) => Ok(false),
    }
}

/// Spends the time of a real check, so that an unknown user name cannot be told apart
/// from a wrong password by how long the answer takes.
pub async fn spend_a_verification(password: String) -> Result<(), Busy> {
    static DUMMY: LazyLock<String> =
        LazyLock::new(|| hash_password("a password nobody has").unwrap_or_default());
    verify(password, DUMMY.clone()).await.map(|_| ())
}

fn hash_password(password: &str) -> anyhow::Result<String> {
    // 16 bytes, as `SaltString::generate` would draw.
    let salt = SaltString::encode_b64(&crate::random::bytes::<16>())
        .map_err(|e| anyhow!("Failed to make a password's salt: {e}"))?;
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
        assert!(verifying.await.unwrap().unwrap());
    }

    /// Work that counts how many run at once and blocks until the gate opens.
    struct Gate {
        open: std::sync::Mutex<bool>,
        opened: std::sync::Condvar,
        running: AtomicUsize,
        most_at_once: AtomicUsize,
        started: AtomicUsize,
    }

    impl Gate {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                open: std::sync::Mutex::new(false),
                opened: std::sync::Condvar::new(),
                running: AtomicUsize::new(0),
                most_at_once: AtomicUsize::new(0),
                started: AtomicUsize::new(0),
            })
        }

        fn work(self: &Arc<Self>) -> impl FnOnce() + Send + 'static {
            let gate = self.clone();
            move || {
                gate.started.fetch_add(1, Ordering::SeqCst);
                let now = gate.running.fetch_add(1, Ordering::SeqCst) + 1;
                gate.most_at_once.fetch_max(now, Ordering::SeqCst);
                let mut open = gate.open.lock().unwrap();
                while !*open {
                    open = gate.opened.wait(open).unwrap();
                }
                gate.running.fetch_sub(1, Ordering::SeqCst);
            }
        }

        fn open(&self) {
            *self.open.lock().unwrap() = true;
            self.opened.notify_all();
        }
    }

    /// Clients that hang up mid-sign-in drop their futures; the hashes they started still
    /// hold the permits, so no more than the limit ever run at once.
    #[tokio::test(flavor = "current_thread")]
    async fn hung_up_sign_ins_do_not_free_their_permit_before_the_hash_ends() {
        let hashing = Arc::new(Hashing::new(1, MAX_WAITING));
        let gate = Gate::new();
        let first = tokio::spawn({
            let (hashing, work) = (hashing.clone(), gate.work());
            async move { hashing.run(work).await }
        });
        while gate.started.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        first.abort();
        let _ = first.await;
        let hung_up: Vec<_> = (0..19)
            .map(|_| {
                let (hashing, work) = (hashing.clone(), gate.work());
                tokio::spawn(async move { hashing.run(work).await })
            })
            .collect();
        // Each either waits for the permit (right) or starts its hash (wrong).
        while hashing.waiting.load(Ordering::SeqCst) + gate.started.load(Ordering::SeqCst) < 20 {
            tokio::task::yield_now().await;
        }
        for task in hung_up {
            task.abort();
            let _ = task.await;
        }
        gate.open();
        let permit = hashing.permits.clone().acquire_owned().await.unwrap();
        drop(permit);
        assert_eq!(gate.most_at_once.load(Ordering::SeqCst), 1);
        assert_eq!(gate.started.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn past_the_waiting_limit_a_hash_is_refused_at_once() {
        let hashing = Arc::new(Hashing::new(1, 2));
        let gate = Gate::new();
        let running = tokio::spawn({
            let (hashing, work) = (hashing.clone(), gate.work());
            async move { hashing.run(work).await }
        });
        let waiting: Vec<_> = (0..2)
            .map(|_| {
                let (hashing, work) = (hashing.clone(), gate.work());
                tokio::spawn(async move { hashing.run(work).await })
            })
            .collect();
        while hashing.waiting.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        let refused = hashing.run(gate.work()).await.unwrap_err();
        assert_eq!(refused.downcast_ref::<Busy>(), Some(&Busy));
        assert_eq!(
            refused.to_string(),
            "Too many sign-ins at once; try again shortly."
        );
        gate.open();
        running.await.unwrap().unwrap();
        for task in waiting {
            task.await.unwrap().unwrap();
        }
        assert_eq!(hashing.waiting.load(Ordering::SeqCst), 0);
    }
}
