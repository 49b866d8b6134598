//! A map with at most a fixed number of keys: when full, a new key makes the oldest one
//! (by first insertion) be forgotten. The sign-in throttle keeps one entry per user name and
//! per client network; someone with many addresses must not grow it without bound.
//!
//! Forgetting the oldest rather than refusing new keys keeps the admin able to sign in from
//! a new address while the map is full; the price is that an attacker who fills the map
//! makes it forget their own oldest failures too (README's Security section says so).

use std::collections::{HashMap, VecDeque};

pub struct CappedMap<V> {
    entries: HashMap<String, (u64, V)>,
    /// Keys in insertion order, with the number they were inserted as: a key removed and
    /// inserted again has a new number, and its old place in the queue is skipped.
    order: VecDeque<(u64, String)>,
    inserted: u64,
    cap: usize,
}

impl<V: Default> CappedMap<V> {
    pub fn new(cap: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            inserted: 0,
            cap: cap.max(1),
        }
    }

    /// The entry of `key`, inserted empty if missing (forgetting the oldest when full).
    pub fn entry(&mut self, key: &str) -> &mut V {
        if !self.entries.contains_key(key) {
            while self.entries.len() >= self.cap {
                self.forget_oldest();
            }
            self.inserted += 1;
            self.order.push_back((self.inserted, key.to_string()));
            self.entries
                .insert(key.to_string(), (self.inserted, V::default()));
        }
        &mut self.entries.get_mut(key).expect("inserted above").1
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.entries.get_mut(key).map(|(_, value)| value)
    }

    pub fn remove(&mut self, key: &str) {
        self.entries.remove(key);
    }

    /// Keeps the entries `keep` accepts; walks the whole map, so callers do it rarely.
    pub fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        self.entries.retain(|_, (_, value)| keep(value));
        let entries = &self.entries;
        self.order
            .retain(|(number, key)| entries.get(key).is_some_and(|(n, _)| n == number));
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    fn forget_oldest(&mut self) {
        while let Some((number, key)) = self.order.pop_front() {
            if self.entries.get(&key).is_some_and(|(n, _)| *n == number) {
                self.entries.remove(&key);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_forgets_its_oldest_key_for_a_new_one() {
        let mut map = CappedMap::<u32>::new(3);
        for key in ["a", "b", "c"] {
            *map.entry(key) += 1;
        }
        *map.entry("a") += 1;
        *map.entry("d") += 1;
        assert_eq!(map.len(), 3);
        assert!(!map.contains("a") && map.contains("b") && map.contains("d"));
        // A removed key inserted again is the newest, not the oldest.
        map.remove("b");
        *map.entry("b") += 1;
        *map.entry("e") += 1;
        assert!(!map.contains("c") && map.contains("b") && map.contains("e"));
        assert_eq!(map.get_mut("b").copied(), Some(1));
    }

    #[test]
    fn retain_also_forgets_the_order_of_removed_keys() {
        let mut map = CappedMap::<u32>::new(100);
        for i in 0..100 {
            *map.entry(&i.to_string()) = i;
        }
        map.retain(|&v| v >= 90);
        assert_eq!((map.len(), map.order.len()), (10, 10));
    }
}
