//! The one limit on requests to ServiceNow, shared by everything in the process that calls
//! it (Test connection, the ticket engine): at most so many a second, and optionally at most
//! so many in any sliding hour. The limit is per process, not per client, because the
//! instance counts every request of the integration user, whichever part of us sent it.
//!
//! Written here rather than with `governor`: its limit is a rate (a bucket that refills), not
//! a count in any sliding hour, which is what an instance's hourly rate-limit rule counts.

use super::error::ServiceNowError;
use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
// Tokio's clock, so that tests can stop and advance time instead of waiting.
use tokio::time::Instant;

const HOUR: Duration = Duration::from_secs(3600);

/// Hands out send times. Every request, token requests included, waits for its turn here.
pub struct Pacer {
    /// The least time between two requests; `None`: no cap.
    spacing: Option<Duration>,
    /// The most requests in any sliding hour; `None`: no budget.
    per_hour: Option<usize>,
    slots: Mutex<Slots>,
}

struct Slots {
    /// The earliest time the next request may go.
    next: Instant,
    /// The send times handed out within the last hour (some may still lie ahead), oldest
    /// first; never more than the hourly budget, since only the oldest of those decides.
    sent: VecDeque<Instant>,
}

impl Pacer {
    /// At most `per_second` requests a second (0 is taken as 1) and, when set, at most
    /// `per_hour` in any sliding hour (0 is taken as 1: a budget that lets nothing through
    /// would only hide the misconfiguration behind endless deferrals).
    pub fn new(per_second: u32, per_hour: Option<u32>) -> Pacer {
        Pacer {
            spacing: Some(Duration::from_secs(1) / per_second.max(1)),
            per_hour: per_hour.map(|n| n.max(1) as usize),
            slots: Mutex::new(Slots {
                next: Instant::now(),
                sent: VecDeque::new(),
            }),
        }
    }

    /// No cap at all: for tests and benchmarks against the simulator.
    pub fn unlimited() -> Pacer {
        Pacer {
            spacing: None,
            per_hour: None,
            slots: Mutex::new(Slots {
                next: Instant::now(),
                sent: VecDeque::new(),
            }),
        }
    }

    /// Waits for the next send time. When the hourly budget is spent and the next request
    /// may only go more than `max_wait` from now, answers `RateLimited` at once, without
    /// taking a turn, so the caller can put its work off instead of hanging for an hour.
    ///
    /// A turn taken counts even if the caller then drops the request: the budget errs on
    /// the side of sending less than the instance allows, never more.
    ///
    /// Answers how long it waited (zero when the turn was free), for the metrics.
    pub async fn wait_turn(&self, max_wait: Duration) -> Result<Duration, ServiceNowError> {
        let slot = self.take_slot(max_wait)?;
        let now = Instant::now();
        if slot > now {
            tokio::time::sleep_until(slot).await;
        }
        Ok(slot.saturating_duration_since(now))
    }

    fn take_slot(&self, max_wait: Duration) -> Result<Instant, ServiceNowError> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let mut slot = slots.next.max(now);
        if let Some(budget) = self.per_hour {
            while slots.sent.front().is_some_and(|&sent| sent + HOUR <= now) {
                slots.sent.pop_front();
            }
            // `sent` holds at most `budget` times: when full, its oldest must leave the
            // window before another request may go.
            if slots.sent.len() >= budget
                && let Some(&oldest) = slots.sent.front()
            {
                let frees_at = oldest + HOUR;
                if frees_at > slot {
                    let wait = frees_at - now;
                    if wait > max_wait {
                        return Err(ServiceNowError::RateLimited {
                            retry_after: whole_seconds(wait),
                        });
                    }
                    slot = frees_at;
                }
            }
            slots.sent.push_back(slot);
            while slots.sent.len() > budget {
                slots.sent.pop_front();
            }
        }
        if let Some(spacing) = self.spacing {
            slots.next = slot + spacing;
        }
        Ok(slot)
    }
}

/// Rounded up, so that "wait 0 s" is never said while there is something to wait for.
fn whole_seconds(wait: Duration) -> Duration {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Duration::from_secs(seconds)
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer")
            .field("spacing", &self.spacing)
            .field("per_hour", &self.per_hour)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const MINUTE: Duration = Duration::from_secs(60);

    /// The times, from the start, at which `count` turns taken one after another go.
    async fn turns(pacer: &Pacer, count: usize) -> Vec<Duration> {
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..count {
            pacer.wait_turn(HOUR).await.unwrap();
            times.push(start.elapsed());
        }
        times
    }

    #[tokio::test(start_paused = true)]
    async fn five_a_second_go_two_hundred_milliseconds_apart() {
        let pacer = Pacer::new(5, None);
        let times = turns(&pacer, 6).await;
        let expected: Vec<Duration> = (0..6).map(|i| Duration::from_millis(200 * i)).collect();
        assert_eq!(times, expected);
    }

    #[tokio::test(start_paused = true)]
    async fn callers_sharing_one_pacer_share_its_cap() {
        let pacer = Arc::new(Pacer::new(2, None));
        let start = Instant::now();
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let pacer = pacer.clone();
                tokio::spawn(async move {
                    pacer.wait_turn(HOUR).await.unwrap();
                    start.elapsed()
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.push(task.await.unwrap());
        }
        times.sort();
        let expected: Vec<Duration> = (0..4).map(|i| Duration::from_millis(500 * i)).collect();
        assert_eq!(times, expected);
    }

    #[tokio::test(start_paused = true)]
    async fn a_turn_says_how_long_it_waited() {
        let pacer = Pacer::new(2, None);
        assert_eq!(pacer.wait_turn(HOUR).await.unwrap(), Duration::ZERO);
        assert_eq!(
            pacer.wait_turn(HOUR).await.unwrap(),
            Duration::from_millis(500)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_longer_than_the_spacing_is_not_made_up_for_with_a_burst() {
        let pacer = Pacer::new(1, None);
        pacer.wait_turn(HOUR).await.unwrap();
        tokio::time::advance(Duration::from_secs(10)).await;
        let times = turns(&pacer, 2).await;
        assert_eq!(times, [Duration::ZERO, Duration::from_secs(1)]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_hourly_budget_holds_in_any_sliding_hour() {
        let pacer = Pacer::new(1000, Some(3));
        let start = Instant::now();
        // Sent at 0 and 1 ms (the per-second spacing), then at 30 min 1 ms.
        turns(&pacer, 2).await;
        tokio::time::advance(30 * MINUTE).await;
        pacer.wait_turn(HOUR).await.unwrap();
        // The fourth may go only when the first leaves the window, an hour after it.
        pacer.wait_turn(HOUR).await.unwrap();
        assert_eq!(start.elapsed(), HOUR);
        // The fifth, when the second leaves.
        pacer.wait_turn(HOUR).await.unwrap();
        assert_eq!(start.elapsed(), HOUR + Duration::from_millis(1));
        // The sixth, when the third leaves.
        pacer.wait_turn(HOUR).await.unwrap();
        assert_eq!(
            start.elapsed(),
            HOUR + 30 * MINUTE + Duration::from_millis(1)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_spent_budget_answers_rate_limited_at_once_when_the_wait_is_too_long() {
        let pacer = Pacer::new(1000, Some(2));
        let start = Instant::now();
        turns(&pacer, 2).await;
        tokio::time::advance(10 * MINUTE).await;
        let asked = Instant::now();
        let error = pacer.wait_turn(MINUTE).await.unwrap_err();
        assert_eq!(asked.elapsed(), Duration::ZERO, "it waited");
        let ServiceNowError::RateLimited { retry_after } = error else {
            panic!("{error}");
        };
        // The first turn went at 0 and leaves the window at 60 min, 50 min from now
        // (less a millisecond, rounded up).
        assert_eq!(retry_after, 50 * MINUTE);
        // No turn was taken: once the wait fits, the request goes when the first leaves.
        tokio::time::advance(49 * MINUTE).await;
        pacer.wait_turn(MINUTE).await.unwrap();
        assert_eq!(start.elapsed(), HOUR);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_rounds_the_wait_up_to_whole_seconds() {
        let pacer = Pacer::new(1000, Some(1));
        pacer.wait_turn(HOUR).await.unwrap();
        tokio::time::advance(Duration::from_millis(1500)).await;
        let error = pacer.wait_turn(Duration::ZERO).await.unwrap_err();
        assert_eq!(
            error,
            ServiceNowError::RateLimited {
                retry_after: Duration::from_secs(3599)
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_never_waits() {
        let pacer = Pacer::unlimited();
        let times = turns(&pacer, 1000).await;
        assert_eq!(times.last(), Some(&Duration::ZERO));
    }
}
