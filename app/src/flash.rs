//! One-shot messages for browsers without JavaScript. A plain form post is answered with a
//! redirect back to its page; the outcome of the save (and the submitted values when they
//! were refused, secrets blanked) waits here under a random id named in the redirect's
//! query, and the page takes it when it renders. Kept in memory: a restart only loses the
//! message, never a setting.

use rand::RngCore;
use serde::{Serialize, de::DeserializeOwned};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct FlashStore {
    // A std mutex: it is held for a map operation, never across an await.
    entries: Mutex<HashMap<String, (Instant, String)>>,
}

impl FlashStore {
    /// Long enough to follow a redirect, short enough that a forgotten one goes away.
    const TTL: Duration = Duration::from_secs(600);
    /// Bounds on memory whatever a client posts: a refused form with its messages is a few
    /// hundred bytes (its fields are bounded before it is kept), so one of 16 KiB or more is
    /// not kept, and all of them together hold at most 4 MiB. A flash that is not kept only
    /// costs the message shown after the redirect.
    pub const MAX_ENTRY_BYTES: usize = 16 * 1024;
    pub const MAX_TOTAL_BYTES: usize = 4 * 1024 * 1024;

    pub fn new() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps `value` and returns the id to take it back with.
    pub fn put<T: Serialize>(&self, value: &T) -> Option<String> {
        let json = serde_json::to_string(value).ok()?;
        if json.len() >= Self::MAX_ENTRY_BYTES {
            return None;
        }
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (at, _)| now.duration_since(*at) < Self::TTL);
        let kept: usize = entries.values().map(|(_, json)| json.len()).sum();
        if kept + json.len() > Self::MAX_TOTAL_BYTES {
            return None;
        }
        entries.insert(id.clone(), (now, json));
        Some(id)
    }

    /// Takes the value kept under `id`, once.
    pub fn take<T: DeserializeOwned>(&self, id: &str) -> Option<T> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (at, json) = entries.remove(id)?;
        if at.elapsed() >= Self::TTL {
            return None;
        }
        serde_json::from_str(&json).ok()
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
        let id = store.put(&"saved").unwrap();
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
            store.put(&"x".repeat(32 * 1024)),
            None,
            "an oversized flash was kept"
        );
        let value = "y".repeat(8 * 1024);
        let mut ids = Vec::new();
        while let Some(id) = store.put(&value) {
            ids.push(id);
            assert!(ids.len() * value.len() <= 4 * 1024 * 1024, "no byte bound");
        }
        // Taking one makes room again.
        assert!(store.take::<String>(&ids[0]).is_some());
        assert!(store.put(&value).is_some());
    }
}
