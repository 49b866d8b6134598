//! Time for sessions and throttling, as a parameter: tests move a [`ManualClock`] forward
//! instead of waiting.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// What [`Clock::sleep`] returns: a boxed future, so that `Clock` stays usable as `dyn`.
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

pub trait Clock: Send + Sync + 'static {
    /// Seconds since the Unix epoch.
    fn now(&self) -> i64;

    /// Milliseconds since the Unix epoch: for the engine's lease, shared between processes.
    fn now_ms(&self) -> i64 {
        self.now() * 1000
    }

    /// Waits `seconds` of this clock's time (the sign-in throttle's delays).
    fn sleep(&self, seconds: u64) -> Sleep<'_> {
        Box::pin(tokio::time::sleep(Duration::from_secs(seconds)))
    }

    /// Waits until this clock reads `at` (seconds since the epoch): a queued sign-in's turn.
    fn sleep_until(&self, at: i64) -> Sleep<'_> {
        self.sleep(u64::try_from(at - self.now()).unwrap_or(0))
    }
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        crate::timestamps::now_unix()
    }

    fn now_ms(&self) -> i64 {
        (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
    }
}

/// A clock that only moves when told to.
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start: i64) -> Self {
        Self(AtomicI64::new(start))
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Waiting on a manual clock moves it forward at once: a test sees the delay as time
    /// gone by, without spending it.
    fn sleep(&self, seconds: u64) -> Sleep<'_> {
        self.advance(i64::try_from(seconds).unwrap_or(i64::MAX));
        Box::pin(std::future::ready(()))
    }

    /// Moves the clock to `at` unless it is there already: of parallel waits, the latest
    /// decides how far the time moved, as on a real clock.
    fn sleep_until(&self, at: i64) -> Sleep<'_> {
        self.0.fetch_max(at, Ordering::SeqCst);
        Box::pin(std::future::ready(()))
    }
}
