//! Throttling of failed logins, per user name and per address, over a sliding window.
//! Kept in memory: a restart forgets it, which only gives an attacker a restart's worth.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

pub struct LoginThrottle {
    // A std mutex: held for a map operation, never across an await.
    failures: Mutex<HashMap<String, VecDeque<i64>>>,
    window: i64,
    per_user: usize,
    per_address: usize,
}

impl LoginThrottle {
    pub const WINDOW_SECONDS: i64 = 15 * 60;
    pub const PER_USER: usize = 5;
    pub const PER_ADDRESS: usize = 20;

    pub fn new() -> Self {
        Self {
            failures: Mutex::new(HashMap::new()),
            window: Self::WINDOW_SECONDS,
            per_user: Self::PER_USER,
            per_address: Self::PER_ADDRESS,
        }
    }

    /// `Err(seconds)` to wait when either key has used up its failures in the window.
    pub fn check(&self, user: &str, address: &str, now: i64) -> Result<(), i64> {
        let mut failures = self.lock();
        let mut wait = 0;
        for (key, limit) in [
            (user_key(user), self.per_user),
            (address_key(address), self.per_address),
        ] {
            if let Some(times) = failures.get_mut(&key) {
                while times.front().is_some_and(|&t| t <= now - self.window) {
                    times.pop_front();
                }
                if times.len() >= limit
                    && let Some(&oldest) = times.front()
                {
                    wait = wait.max(oldest + self.window - now);
                }
            }
        }
        if wait > 0 { Err(wait) } else { Ok(()) }
    }

    pub fn record_failure(&self, user: &str, address: &str, now: i64) {
        let mut failures = self.lock();
        for key in [user_key(user), address_key(address)] {
            failures.entry(key).or_default().push_back(now);
        }
        // Bound memory: forget keys whose failures have all left the window.
        let window = self.window;
        failures.retain(|_, times| times.back().is_some_and(|&t| t > now - window));
    }

    pub fn clear_user(&self, user: &str) {
        self.lock().remove(&user_key(user));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<i64>>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new()
    }
}

fn user_key(user: &str) -> String {
    format!("user:{}", user.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_the_user_for_the_rest_of_the_window() {
        let throttle = LoginThrottle::new();
        for i in 0..5 {
            assert!(throttle.check("admin", "a", 1000 + i).is_ok());
            throttle.record_failure("admin", "a", 1000 + i);
        }
        let wait = throttle.check("Admin", "b", 1010).unwrap_err();
        assert_eq!(wait, 1000 + LoginThrottle::WINDOW_SECONDS - 1010);
        assert!(throttle.check("other", "b", 1010).is_ok());
        assert!(
            throttle
                .check("admin", "b", 1000 + LoginThrottle::WINDOW_SECONDS)
                .is_ok()
        );
    }

    #[test]
    fn twenty_failures_from_one_address_lock_the_address() {
        let throttle = LoginThrottle::new();
        for i in 0..20 {
            throttle.record_failure(&format!("user{i}"), "10.0.0.1", 50);
        }
        assert!(throttle.check("fresh", "10.0.0.1", 51).is_err());
        assert!(throttle.check("fresh", "10.0.0.2", 51).is_ok());
    }

    #[test]
    fn a_success_clears_the_user() {
        let throttle = LoginThrottle::new();
        for _ in 0..5 {
            throttle.record_failure("admin", "a", 1);
        }
        throttle.clear_user("admin");
        assert!(throttle.check("admin", "z", 2).is_ok());
    }
}
