//! The sign-in throttle, decided by the time its caller passes in.
//!
//! - Per user name, a growing delay, never a refusal: after five failures within 15 minutes
//!   each further attempt waits 1, 2, 4, 8, 16, then 30 seconds at most before its password
//!   is checked. Someone guessing from many addresses slows the admin down; they cannot lock
//!   them out, and the right password still signs in.
//! - Per client address, a refusal: twenty failures within 15 minutes, and that address is
//!   refused for the rest of the window.
//!
//! An attempt is counted when it begins, before its password is checked, under one lock:
//! parallel attempts cannot all pass the check before the first failure is counted. A
//! success takes its own count back and clears the user name's failures. A password reset
//! (seen as another password hash) clears them too.
//!
//! Kept in memory: a restart forgets it, which only gives an attacker a restart's worth.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

pub struct LoginThrottle {
    // A std mutex: held for a map operation, never across an await.
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    users: HashMap<String, UserFailures>,
    addresses: HashMap<String, AddressFailures>,
    last_sweep: i64,
}

#[derive(Default)]
struct UserFailures {
    times: VecDeque<i64>,
    /// Which password the failures were against; another one means it was reset.
    password: Option<u64>,
}

#[derive(Default)]
struct AddressFailures {
    times: VecDeque<i64>,
    /// Until when this address's refusal has been audited: once per window.
    refusal_noted_until: i64,
}

/// A sign-in under way, counted as a failure until [`LoginThrottle::succeeded`].
#[derive(Debug)]
pub struct Attempt {
    user: String,
    address: String,
    at: i64,
    /// How long to wait before checking the password.
    pub delay_seconds: u64,
}

/// An address that failed too often.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    /// Seconds until the address may try again.
    pub wait_seconds: i64,
    /// The first refusal of this window: worth an audit entry; later ones are not.
    pub first_in_window: bool,
}

impl LoginThrottle {
    pub const WINDOW_SECONDS: i64 = 15 * 60;
    /// Failures of a user name before its sign-ins are slowed down.
    pub const FREE_FAILURES: usize = 5;
    pub const MAX_DELAY_SECONDS: u64 = 30;
    pub const PER_ADDRESS: usize = 20;

    pub fn new() -> Self {
        Self {
            state: Mutex::new(State::default()),
        }
    }

    /// Counts an attempt of `user` from `address` whose stored password is `password` (a
    /// fingerprint of its hash; `None` for an unknown user): refused when the address has
    /// failed too often, else the attempt and its delay.
    pub fn begin(
        &self,
        user: &str,
        address: &str,
        password: Option<u64>,
        now: i64,
    ) -> Result<Attempt, Refused> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let since = now - Self::WINDOW_SECONDS;
        state.sweep(now, since);

        let from = state.addresses.entry(address.to_string()).or_default();
        forget_before(&mut from.times, since);
        if from.times.len() >= Self::PER_ADDRESS {
            let until = from.times.front().copied().unwrap_or(now) + Self::WINDOW_SECONDS;
            let first_in_window = from.refusal_noted_until <= now;
            if first_in_window {
                from.refusal_noted_until = until;
            }
            return Err(Refused {
                wait_seconds: until - now,
                first_in_window,
            });
        }
        from.times.push_back(now);

        let user = user_key(user);
        let failures = state.users.entry(user.clone()).or_default();
        if failures.password != password {
            failures.times.clear();
            failures.password = password;
        }
        forget_before(&mut failures.times, since);
        let delay_seconds = delay_after(failures.times.len());
        failures.times.push_back(now);
        Ok(Attempt {
            user,
            address: address.to_string(),
            at: now,
            delay_seconds,
        })
    }

    /// The attempt signed in: the user name starts afresh and the address gets its count back.
    pub fn succeeded(&self, attempt: &Attempt) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.users.remove(&attempt.user);
        if let Some(from) = state.addresses.get_mut(&attempt.address)
            && let Some(position) = from.times.iter().position(|&t| t == attempt.at)
        {
            from.times.remove(position);
        }
    }
}

impl State {
    /// Bounds memory: once a minute, forgets the keys whose failures have all left the window.
    fn sweep(&mut self, now: i64, since: i64) {
        if now - self.last_sweep < 60 {
            return;
        }
        self.last_sweep = now;
        self.users
            .retain(|_, f| f.times.back().is_some_and(|&t| t > since));
        self.addresses.retain(|_, f| {
            f.times.back().is_some_and(|&t| t > since) || f.refusal_noted_until > now
        });
    }
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new()
    }
}

/// The wait before an attempt that follows `failures` failures of its user name.
fn delay_after(failures: usize) -> u64 {
    match failures.checked_sub(LoginThrottle::FREE_FAILURES) {
        None => 0,
        Some(extra) => 1u64
            .checked_shl(u32::try_from(extra).unwrap_or(u32::MAX))
            .unwrap_or(u64::MAX)
            .min(LoginThrottle::MAX_DELAY_SECONDS),
    }
}

fn forget_before(times: &mut VecDeque<i64>, since: i64) {
    while times.front().is_some_and(|&t| t <= since) {
        times.pop_front();
    }
}

fn user_key(user: &str) -> String {
    user.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: Option<u64> = Some(7);

    #[test]
    fn failures_slow_a_user_down_more_and_more_up_to_30_seconds() {
        let throttle = LoginThrottle::new();
        let delays: Vec<u64> = (0..12)
            .map(|i| {
                throttle
                    .begin("admin", &format!("10.0.0.{i}"), PASSWORD, 1000 + i)
                    .unwrap()
                    .delay_seconds
            })
            .collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 30, 30]);
        // Another user name is not slowed down; the same one in other letters is.
        assert_eq!(
            throttle
                .begin("other", "x", None, 1020)
                .unwrap()
                .delay_seconds,
            0
        );
        assert_eq!(
            throttle
                .begin("ADMIN", "y", PASSWORD, 1020)
                .unwrap()
                .delay_seconds,
            30
        );
    }

    #[test]
    fn the_slow_down_ends_with_the_window_a_success_or_a_new_password() {
        let throttle = LoginThrottle::new();
        for i in 0..8 {
            throttle.begin("admin", "a", PASSWORD, 1000 + i).unwrap();
        }
        let late = 1007 + LoginThrottle::WINDOW_SECONDS;
        assert_eq!(
            throttle
                .begin("admin", "b", PASSWORD, late)
                .unwrap()
                .delay_seconds,
            0
        );

        let throttle = LoginThrottle::new();
        for _ in 0..8 {
            throttle.begin("admin", "a", PASSWORD, 1000).unwrap();
        }
        assert_eq!(
            throttle
                .begin("admin", "b", Some(8), 1001)
                .unwrap()
                .delay_seconds,
            0
        );

        let throttle = LoginThrottle::new();
        for _ in 0..8 {
            throttle.begin("admin", "a", PASSWORD, 1000).unwrap();
        }
        let right = throttle.begin("admin", "b", PASSWORD, 1001).unwrap();
        throttle.succeeded(&right);
        assert_eq!(
            throttle
                .begin("admin", "b", PASSWORD, 1002)
                .unwrap()
                .delay_seconds,
            0
        );
    }

    #[test]
    fn twenty_attempts_from_one_address_refuse_it_for_the_rest_of_the_window() {
        let throttle = LoginThrottle::new();
        for i in 0..20 {
            throttle
                .begin(&format!("user{i}"), "10.0.0.1", None, 50 + i)
                .unwrap();
        }
        let refused = throttle.begin("fresh", "10.0.0.1", None, 100).unwrap_err();
        assert_eq!(
            refused,
            Refused {
                wait_seconds: 50 + LoginThrottle::WINDOW_SECONDS - 100,
                first_in_window: true
            }
        );
        let again = throttle.begin("fresh", "10.0.0.1", None, 101).unwrap_err();
        assert!(!again.first_in_window, "refusals are noted once a window");
        assert!(throttle.begin("fresh", "10.0.0.2", None, 101).is_ok());
        assert!(
            throttle
                .begin(
                    "fresh",
                    "10.0.0.1",
                    None,
                    50 + LoginThrottle::WINDOW_SECONDS
                )
                .is_ok()
        );
    }

    #[test]
    fn a_success_does_not_count_against_its_address() {
        let throttle = LoginThrottle::new();
        for i in 0..40 {
            let attempt = throttle.begin("admin", "10.0.0.1", PASSWORD, i).unwrap();
            throttle.succeeded(&attempt);
        }
        assert!(throttle.begin("admin", "10.0.0.1", PASSWORD, 41).is_ok());
    }
}
