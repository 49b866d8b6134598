//! The sign-in throttle, decided by the time its caller passes in.
//!
//! - Per user name, a growing delay: after five failures within 15 minutes each further
//!   attempt waits 1, 2, 4, 8, 16, then 30 seconds at most before its password is checked.
//!   The waits queue up: each user name has a next free slot, and an attempt is checked
//!   `delay` seconds after the previous one's check (or after now, if none is waiting), so
//!   parallel guesses are checked one per delay, not all at once after 30 seconds. An
//!   attempt whose check would wait more than [`LoginThrottle::MAX_WAIT_SECONDS`] is refused
//!   with the time to come back: someone guessing from many addresses slows the admin down
//!   and may make them come back later, but never stops the checks for good.
//! - Per client network, a refusal: twenty failures within 15 minutes, and that network is
//!   refused for the rest of the window. A network is an IPv4 address or an IPv6 /64 (one
//!   customer's usual share); an IPv4-mapped IPv6 address counts as its IPv4 address.
//!
//! An attempt is counted when it begins, before its password is checked, under one lock:
//! parallel attempts cannot all pass the check before the first failure is counted. A
//! success takes its own count back and clears the user name's failures. A password reset
//! (seen as another password hash) clears them too.
//!
//! Kept in memory, at most [`LoginThrottle::MAX_KEYS`] user names and networks each (the
//! oldest forgotten first, see [`CappedMap`]); a restart forgets it, which only gives an
//! attacker a restart's worth.
//!
//! Written here rather than with `governor` (or `tower_governor`): those limit a rate of
//! requests per key and refuse the rest; this queues one user name's checks a growing delay
//! apart, counts only failures, and forgets a user name's failures on success or reset.

use super::capped_map::CappedMap;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Mutex;

pub struct LoginThrottle {
    // A std mutex: held for a map operation, never across an await.
    state: Mutex<State>,
}

struct State {
    users: CappedMap<UserFailures>,
    addresses: CappedMap<AddressFailures>,
    last_sweep: i64,
}

#[derive(Default)]
struct UserFailures {
    times: VecDeque<i64>,
    /// Which password the failures were against; another one means it was reset.
    password: Option<u64>,
    /// When the last queued check of this user name happens: the next one comes after it.
    last_check: i64,
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
    /// When to check the password (the clock's seconds).
    pub check_at: i64,
    /// How long to wait before checking the password: `check_at` minus now.
    pub delay_seconds: u64,
}

/// An attempt that is not checked at all.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub why: Why,
    /// Seconds until trying again makes sense.
    pub wait_seconds: i64,
    /// The first refusal of this window for the address: worth an audit entry.
    pub first_in_window: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Why {
    /// The client's network failed too often.
    Address,
    /// So many attempts of this user name wait already that this one would wait too long.
    UserQueue,
}

impl LoginThrottle {
    pub const WINDOW_SECONDS: i64 = 15 * 60;
    /// Failures of a user name before its sign-ins are slowed down.
    pub const FREE_FAILURES: usize = 5;
    pub const MAX_DELAY_SECONDS: u64 = 30;
    /// The longest an attempt waits in its user name's queue; beyond, it is refused.
    pub const MAX_WAIT_SECONDS: i64 = 10 * 60;
    pub const PER_ADDRESS: usize = 20;
    /// User names and networks kept each, at most.
    pub const MAX_KEYS: usize = 50_000;
    /// How often the keys whose failures left the window are forgotten.
    const SWEEP_SECONDS: i64 = 60;

    pub fn new() -> Self {
        Self::with_capacity(Self::MAX_KEYS)
    }

    fn with_capacity(max_keys: usize) -> Self {
        Self {
            state: Mutex::new(State {
                users: CappedMap::new(max_keys),
                addresses: CappedMap::new(max_keys),
                last_sweep: 0,
            }),
        }
    }

    /// Counts an attempt of `user` from `address` whose stored password is `password` (a
    /// fingerprint of its hash; `None` for an unknown user): refused when the address has
    /// failed too often or the user name's queue is too long, else the attempt and when
    /// to check it. `user` should be the database's spelling when the user exists, so that
    /// every spelling the database accepts counts against the same name.
    pub fn begin(
        &self,
        user: &str,
        address: Option<IpAddr>,
        password: Option<u64>,
        now: i64,
    ) -> Result<Attempt, Refused> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let since = now - Self::WINDOW_SECONDS;
        state.sweep(now, since);

        let address = network_key(address);
        let from = state.addresses.entry(&address);
        forget_before(&mut from.times, since);
        if from.times.len() >= Self::PER_ADDRESS {
            let until = from.times.front().copied().unwrap_or(now) + Self::WINDOW_SECONDS;
            let first_in_window = from.refusal_noted_until <= now;
            if first_in_window {
                from.refusal_noted_until = until;
            }
            return Err(Refused {
                why: Why::Address,
                wait_seconds: until - now,
                first_in_window,
            });
        }

        let user = user_key(user);
        let failures = state.users.entry(&user);
        if let (Some(before), Some(now_stored)) = (failures.password, password)
            && before != now_stored
        {
            failures.times.clear();
            failures.last_check = 0;
        }
        failures.password = password.or(failures.password);
        forget_before(&mut failures.times, since);
        let delay = delay_after(failures.times.len());
        let check_at = if delay == 0 {
            now
        } else {
            failures.last_check.max(now) + i64::try_from(delay).unwrap_or(i64::MAX)
        };
        if check_at - now > Self::MAX_WAIT_SECONDS {
            return Err(Refused {
                why: Why::UserQueue,
                wait_seconds: (check_at - now - Self::MAX_WAIT_SECONDS).max(1),
                first_in_window: false,
            });
        }
        failures.last_check = failures.last_check.max(check_at);
        failures.times.push_back(now);
        state.addresses.entry(&address).times.push_back(now);
        Ok(Attempt {
            user,
            address,
            at: now,
            check_at,
            delay_seconds: u64::try_from(check_at - now).unwrap_or(0),
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
    /// Bounds memory: once a minute, forgets the keys whose failures have all left the
    /// window (the maps are capped, so this walk is bounded too).
    fn sweep(&mut self, now: i64, since: i64) {
        if now - self.last_sweep < LoginThrottle::SWEEP_SECONDS {
            return;
        }
        self.last_sweep = now;
        self.users
            .retain(|f| f.times.back().is_some_and(|&t| t > since) || f.last_check > now);
        self.addresses
            .retain(|f| f.times.back().is_some_and(|&t| t > since) || f.refusal_noted_until > now);
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

/// ASCII lowercase only, like SQLite's `NOCASE`: a Unicode variant that lowercases to the
/// admin's name (`K`, the Kelvin sign, for `k`) is another key, as it is another name in the
/// database.
fn user_key(user: &str) -> String {
    user.trim().to_ascii_lowercase()
}

/// The network an address counts for: an IPv4 address, or an IPv6 /64; an IPv4-mapped
/// IPv6 address (`::ffff:a.b.c.d`) is its IPv4 address.
pub fn network_key(address: Option<IpAddr>) -> String {
    match address.map(|a| a.to_canonical()) {
        None => String::new(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            let prefix = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{prefix}/64")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: Option<u64> = Some(7);

    fn ip(address: &str) -> Option<IpAddr> {
        Some(address.parse().unwrap())
    }

    #[test]
    fn failures_slow_a_user_down_more_and_more_up_to_30_seconds() {
        let throttle = LoginThrottle::new();
        let mut now = 1000;
        let delays: Vec<u64> = (0..12)
            .map(|i| {
                let attempt = throttle
                    .begin("admin", ip(&format!("10.0.0.{i}")), PASSWORD, now)
                    .unwrap();
                now = attempt.check_at;
                attempt.delay_seconds
            })
            .collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 30, 30]);
        // Another user name is not slowed down; the same one in other letters is.
        assert_eq!(
            throttle
                .begin("other", ip("10.1.0.1"), None, now)
                .unwrap()
                .delay_seconds,
            0
        );
        assert_eq!(
            throttle
                .begin("ADMIN", ip("10.1.0.2"), PASSWORD, now)
                .unwrap()
                .delay_seconds,
            30
        );
    }

    /// 200 guesses at once from 200 addresses: their checks come one per delay, not all
    /// together 30 seconds later; those that would wait too long are refused.
    #[test]
    fn parallel_attempts_of_one_user_are_checked_one_delay_apart() {
        let throttle = LoginThrottle::new();
        let now = 5000;
        let answers: Vec<_> = (0..200)
            .map(|i| {
                let from = ip(&format!("10.0.{}.{}", i / 250, i % 250));
                throttle.begin("admin", from, PASSWORD, now)
            })
            .collect();
        let checks: Vec<i64> = answers
            .iter()
            .filter_map(|a| a.as_ref().ok().map(|a| a.check_at))
            .collect();
        assert_eq!(
            &checks[..10],
            [
                now,
                now,
                now,
                now,
                now,
                now + 1,
                now + 3,
                now + 7,
                now + 15,
                now + 31
            ]
        );
        for pair in checks[9..].windows(2) {
            assert_eq!(pair[1] - pair[0], 30, "{checks:?}");
        }
        assert!(
            checks
                .iter()
                .all(|&at| at - now <= LoginThrottle::MAX_WAIT_SECONDS)
        );
        let checked_within_ten_minutes = checks.len();
        assert_eq!(checked_within_ten_minutes, 5 + 5 + 18);
        let refused = answers[checks.len()].as_ref().unwrap_err();
        assert_eq!(refused.why, Why::UserQueue);
        assert_eq!(refused.wait_seconds, 1);
        // Once the queue has moved on, the user name can try again.
        let later = now + 10 * 60;
        let next = throttle
            .begin("admin", ip("10.9.9.9"), PASSWORD, later)
            .unwrap();
        assert_eq!(next.check_at, later + 30);
    }

    #[test]
    fn the_slow_down_ends_with_the_window_a_success_or_a_new_password() {
        let throttle = LoginThrottle::new();
        for i in 0..8 {
            throttle
                .begin("admin", ip("10.0.0.1"), PASSWORD, 1000 + i)
                .unwrap();
        }
        let late = 1100 + LoginThrottle::WINDOW_SECONDS;
        assert_eq!(
            throttle
                .begin("admin", ip("10.0.0.2"), PASSWORD, late)
                .unwrap()
                .delay_seconds,
            0
        );

        let throttle = LoginThrottle::new();
        for _ in 0..8 {
            throttle
                .begin("admin", ip("10.0.0.1"), PASSWORD, 1000)
                .unwrap();
        }
        assert_eq!(
            throttle
                .begin("admin", ip("10.0.0.2"), Some(8), 1001)
                .unwrap()
                .delay_seconds,
            0
        );

        let throttle = LoginThrottle::new();
        for _ in 0..8 {
            throttle
                .begin("admin", ip("10.0.0.1"), PASSWORD, 1000)
                .unwrap();
        }
        let right = throttle
            .begin("admin", ip("10.0.0.2"), PASSWORD, 1001)
            .unwrap();
        throttle.succeeded(&right);
        assert_eq!(
            throttle
                .begin("admin", ip("10.0.0.2"), PASSWORD, 1002)
                .unwrap()
                .delay_seconds,
            0
        );
    }

    /// `K` (U+212A, the Kelvin sign) lowercases to `k`, but SQLite's NOCASE finds no
    /// admin by it: such a variant finds no password, and must not clear the admin's
    /// failures.
    #[test]
    fn a_unicode_variant_of_the_user_name_does_not_clear_its_failures() {
        let throttle = LoginThrottle::new();
        let mut now = 1000;
        let mut delays = Vec::new();
        for i in 0..8 {
            let attempt = throttle
                .begin("kate", ip(&format!("10.0.0.{i}")), PASSWORD, now)
                .unwrap();
            now = attempt.check_at;
            delays.push(attempt.delay_seconds);
            throttle
                .begin("\u{212A}ate", ip(&format!("10.0.1.{i}")), None, now)
                .unwrap();
        }
        assert_eq!(delays, [0, 0, 0, 0, 0, 1, 2, 4]);
    }

    #[test]
    fn twenty_attempts_from_one_address_refuse_it_for_the_rest_of_the_window() {
        let throttle = LoginThrottle::new();
        for i in 0..20 {
            throttle
                .begin(&format!("user{i}"), ip("10.0.0.1"), None, 50 + i)
                .unwrap();
        }
        let refused = throttle
            .begin("fresh", ip("10.0.0.1"), None, 100)
            .unwrap_err();
        assert_eq!(
            refused,
            Refused {
                why: Why::Address,
                wait_seconds: 50 + LoginThrottle::WINDOW_SECONDS - 100,
                first_in_window: true
            }
        );
        let again = throttle
            .begin("fresh", ip("10.0.0.1"), None, 101)
            .unwrap_err();
        assert!(!again.first_in_window, "refusals are noted once a window");
        assert!(throttle.begin("fresh", ip("10.0.0.2"), None, 101).is_ok());
        assert!(
            throttle
                .begin(
                    "fresh",
                    ip("10.0.0.1"),
                    None,
                    50 + LoginThrottle::WINDOW_SECONDS
                )
                .is_ok()
        );
    }

    /// One IPv6 customer usually has a whole /64: its addresses share one limit, and an
    /// IPv4-mapped IPv6 address shares its IPv4 address's.
    #[test]
    fn an_ipv6_network_and_a_mapped_ipv4_address_count_as_one_client() {
        let throttle = LoginThrottle::new();
        for i in 0..20 {
            let from = ip(&format!("2001:db8:1:2:{i:x}::1"));
            throttle.begin(&format!("user{i}"), from, None, 50).unwrap();
        }
        let refused = throttle.begin("x", ip("2001:db8:1:2:ffff::9"), None, 51);
        assert_eq!(refused.unwrap_err().why, Why::Address);
        assert!(throttle.begin("x", ip("2001:db8:1:3::1"), None, 51).is_ok());

        for i in 0..20 {
            throttle
                .begin(&format!("user{i}"), ip("198.51.100.7"), None, 50)
                .unwrap();
        }
        let mapped = throttle.begin("x", ip("::ffff:198.51.100.7"), None, 51);
        assert_eq!(mapped.unwrap_err().why, Why::Address);
        assert_eq!(network_key(ip("::ffff:10.0.0.1")), "10.0.0.1");
        assert_eq!(network_key(ip("2001:db8::1")), "2001:db8::/64");
    }

    /// Full maps forget their oldest keys: memory stays bounded, and a new address (the
    /// admin's) is still let in rather than refused.
    #[test]
    fn the_maps_stay_capped_and_a_new_address_still_gets_in() {
        let throttle = LoginThrottle::with_capacity(100);
        for i in 0..1000 {
            let from = ip(&format!("10.{}.{}.1", i / 200, i % 200));
            throttle.begin(&format!("user{i}"), from, None, 50).unwrap();
        }
        {
            let state = throttle.state.lock().unwrap();
            assert_eq!((state.users.len(), state.addresses.len()), (100, 100));
        }
        let admin = throttle
            .begin("admin", ip("203.0.113.5"), PASSWORD, 51)
            .unwrap();
        assert_eq!(admin.delay_seconds, 0);
    }

    #[test]
    fn a_success_does_not_count_against_its_address() {
        let throttle = LoginThrottle::new();
        for i in 0..40 {
            let attempt = throttle
                .begin("admin", ip("10.0.0.1"), PASSWORD, i)
                .unwrap();
            throttle.succeeded(&attempt);
        }
        assert!(
            throttle
                .begin("admin", ip("10.0.0.1"), PASSWORD, 41)
                .is_ok()
        );
    }
}
