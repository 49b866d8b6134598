//! One-shot messages for browsers without JavaScript. A plain form post is answered with a
//! redirect back to its page; the outcome of the save (and the submitted values when they
//! were refused, secrets blanked) waits here under a random id named in the redirect's
//! query, and the page takes it when it renders. Kept in memory: a restart only loses the
//! message, never a setting.
//!
//! Anyone can post the sign-in and setup forms, so the flashes of visitors who are not
//! signed in have a small budget of their own, where the oldest make room for the newest:
//! however many of them are posted, they never take the room of a signed-in admin's.

use serde::{Serialize, de::DeserializeOwned};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Whose flash it is: each kind has its own budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visitor {
    /// Not signed in: the sign-in and setup pages, open to anyone.
    Anonymous,
    /// A signed-in admin.
    Admin,
}

struct Entry {
    at: Instant,
    visitor: Visitor,
    /// Empty while only reserved ([`FlashStore::reserve`]).
    json: String,
    /// The bytes it counts for: its JSON, or the room reserved.
    bytes: usize,
}

pub struct FlashStore {
    // A std mutex: it is held for a map operation, never across an await.
    entries: Mutex<HashMap<String, Entry>>,
}

impl FlashStore {
    /// Long enough to follow a redirect, short enough that a forgotten one goes away.
    const TTL: Duration = Duration::from_secs(600);
    /// Bounds on memory whatever a client posts: a refused form with its messages is a few
    /// hundred bytes (its fields are bounded before it is kept), so one of 16 KiB or more is
    /// not kept; the signed-in admins' flashes hold at most 4 MiB together, and those of
    /// visitors not signed in at most 256 KiB more (a refused sign-in is under 1 KiB).
    pub const MAX_ENTRY_BYTES: usize = 16 * 1024;
    pub const MAX_ADMIN_BYTES: usize = 4 * 1024 * 1024;
    pub const MAX_ANONYMOUS_BYTES: usize = 256 * 1024;

    pub fn new() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps `value` and returns the id to take it back with. An admin's flash is not kept
    /// when the admins' budget is full (the caller still has the outcome); an anonymous one
    /// makes room by dropping the oldest anonymous flashes.
    pub fn put<T: Serialize>(&self, value: &T, visitor: Visitor) -> Option<String> {
        let json = serde_json::to_string(value).ok()?;
        let id = self.make_room(json.len(), visitor)?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = json.len();
        entries.insert(
            id.clone(),
            Entry {
                at: Instant::now(),
                visitor,
                json,
                bytes,
            },
        );
        Some(id)
    }

    /// Sets aside room for a flash of at most `bytes`, filled later with
    /// [`FlashStore::fill`]: for an outcome that must not be lost once it happened (a token
    /// shown once), so that it is refused before it happens when there is no room.
    pub fn reserve(&self, bytes: usize, visitor: Visitor) -> Option<String> {
        let id = self.make_room(bytes, visitor)?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.insert(
            id.clone(),
            Entry {
                at: Instant::now(),
                visitor,
                json: String::new(),
                bytes,
            },
        );
        Some(id)
    }

    /// Puts `value` in the room reserved under `id`. It is kept even if the reservation
    /// expired meanwhile: the room was promised.
    pub fn fill<T: Serialize>(&self, id: &str, value: &T) {
        let Ok(json) = serde_json::to_string(value) else {
            return;
        };
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let visitor = entries
            .get(id)
            .map_or(Visitor::Admin, |entry| entry.visitor);
        let bytes = json.len();
        entries.insert(
            id.to_string(),
            Entry {
                at: Instant::now(),
                visitor,
                json,
                bytes,
            },
        );
    }

    /// A new id once `bytes` fit in the budget of `visitor`, or `None`.
    fn make_room(&self, bytes: usize, visitor: Visitor) -> Option<String> {
        if bytes >= Self::MAX_ENTRY_BYTES {
            return None;
        }
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, entry| now.duration_since(entry.at) < Self::TTL);
        let budget = match visitor {
            Visitor::Admin => Self::MAX_ADMIN_BYTES,
            Visitor::Anonymous => Self::MAX_ANONYMOUS_BYTES,
        };
        let kept = |entries: &HashMap<String, Entry>| -> usize {
            entries
                .values()
                .filter(|entry| entry.visitor == visitor)
                .map(|entry| entry.bytes)
                .sum()
        };
        while kept(&entries) + bytes > budget {
            if visitor == Visitor::Admin {
                return None;
            }
            let oldest = entries
                .iter()
                .filter(|(_, entry)| entry.visitor == Visitor::Anonymous)
                .min_by_key(|(_, entry)| entry.at)
                .map(|(id, _)| id.clone())?;
            entries.remove(&oldest);
        }
        Some(crate::random::hex(16))
    }

    /// Takes the value kept under `id`, once.
    pub fn take<T: DeserializeOwned>(&self, id: &str) -> Option<T> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.remove(id)?;
        if entry.at.elapsed() >= Self::TTL {
            return None;
        }
        serde_json::from_str(&entry.json).ok()
    }
}

impl Default for FlashStore {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flash_is_taken_once() {
        let store = FlashStore::new();
        let id = store.put(&"saved", Visitor::Admin).unwrap();
        assert_eq!(id.len(), 32);
        assert_eq!(store.take::<String>(&id).as_deref(), Some("saved"));
        assert_eq!(store.take::<String>(&id), None);
    }

    #[test]
    fn an_unknown_id_gives_nothing() {
        assert_eq!(FlashStore::new().take::<String>("nope"), None);
    }

    #[test]
    fn the_store_is_bounded_in_bytes_not_only_in_count() {
        let store = FlashStore::new();
        // At most 16 KiB a flash (a refused form is far smaller), 4 MiB in all.
        assert_eq!(
            store.put(&"x".repeat(32 * 1024), Visitor::Admin),
            None,
            "an oversized flash was kept"
        );
        let value = "y".repeat(8 * 1024);
        let mut ids = Vec::new();
        while let Some(id) = store.put(&value, Visitor::Admin) {
            ids.push(id);
            assert!(ids.len() * value.len() <= 4 * 1024 * 1024, "no byte bound");
        }
        // Taking one makes room again.
        assert!(store.take::<String>(&ids[0]).is_some());
        assert!(store.put(&value, Visitor::Admin).is_some());
    }

    /// The flood of the review: thousands of refused sign-ins of 8 KiB each.
    #[test]
    fn visitors_not_signed_in_never_crowd_out_an_admin() {
        let store = FlashStore::new();
        let admin = store.put(&"settings saved", Visitor::Admin).unwrap();
        let flood = "z".repeat(8 * 1024);
        let mut last = None;
        for _ in 0..2000 {
            last = store.put(&flood, Visitor::Anonymous);
            assert!(
                last.is_some(),
                "an anonymous flash was refused, not made room for"
            );
        }
        let anonymous: usize = {
            let entries = store.entries.lock().unwrap();
            entries
                .values()
                .filter(|e| e.visitor == Visitor::Anonymous)
                .map(|e| e.bytes)
                .sum()
        };
        assert!(anonymous <= FlashStore::MAX_ANONYMOUS_BYTES, "{anonymous}");
        // The admin's flash is still there, and an admin's next one is kept.
        assert_eq!(
            store.take::<String>(&admin).as_deref(),
            Some("settings saved")
        );
        let next = store.put(&"saved again", Visitor::Admin).unwrap();
        assert!(store.take::<String>(&next).is_some());
        // The newest anonymous flash is kept: a person's own refused sign-in still shows.
        assert_eq!(store.take::<String>(&last.unwrap()), Some(flood));
    }

    #[test]
    fn reserved_room_is_counted_and_filled_once_the_outcome_is_known() {
        let store = FlashStore::new();
        let id = store.reserve(1024, Visitor::Admin).unwrap();
        assert_eq!(
            store.take::<String>(&id),
            None,
            "nothing to take before the fill"
        );
        let id = store.reserve(1024, Visitor::Admin).unwrap();
        store.fill(&id, &"the token");
        assert_eq!(store.take::<String>(&id).as_deref(), Some("the token"));
        // Room is counted while reserved: a full budget refuses a reservation.
        for size in [8 * 1024, 100] {
            let value = "y".repeat(size);
            while store.put(&value, Visitor::Admin).is_some() {}
        }
        assert_eq!(store.reserve(1024, Visitor::Admin), None);
    }
}
