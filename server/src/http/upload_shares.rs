//! Each API token's share of the scan upload queue. The queue (`--max-queued-scans`) is
//! shared by every scanner; without shares, one token (one leaked token, or one scanner
//! that retries too eagerly) could hold every place with uploads that trickle, and every
//! other scanner would be told to come back later. A token may hold a quarter of the queue
//! at once (at least one upload); its share is taken before a place in the queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

pub struct UploadShares {
    per_token: usize,
    /// Uploads being received per token id; a token with none is not kept.
    open: Arc<Mutex<HashMap<i64, usize>>>,
}

/// One upload of a token, counted until it is dropped.
pub struct UploadShare {
    token: i64,
    open: Arc<Mutex<HashMap<i64, usize>>>,
}

impl UploadShares {
    /// The shares of a queue of `queue` places: a quarter each, at least one.
    pub fn of_queue(queue: usize) -> Self {
        Self {
            per_token: (queue / 4).max(1),
            open: Arc::default(),
        }
    }

    /// How many uploads one token may have received at once.
    pub fn per_token(&self) -> usize {
        self.per_token
    }

    /// Counts an upload of `token`; `None` when the token has its share already.
    pub fn take(&self, token: i64) -> Option<UploadShare> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(token).or_default();
        if *count >= self.per_token {
            return None;
        }
        *count += 1;
        Some(UploadShare {
            token,
            open: self.open.clone(),
        })
    }
}

impl Drop for UploadShare {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.token) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.token);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_holds_a_quarter_of_the_queue_and_at_least_one() {
        assert_eq!(UploadShares::of_queue(16).per_token(), 4);
        assert_eq!(UploadShares::of_queue(3).per_token(), 1);
        assert_eq!(UploadShares::of_queue(1).per_token(), 1);
    }

    #[test]
    fn a_share_comes_back_when_its_upload_ends() {
        let shares = UploadShares::of_queue(8);
        let first = shares.take(1).unwrap();
        let _second = shares.take(1).unwrap();
        assert!(shares.take(1).is_none());
        assert!(shares.take(2).is_some(), "another token has its own share");
        drop(first);
        assert!(shares.take(1).is_some());
    }
}
