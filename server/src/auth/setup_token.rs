//! The one-time setup token: while no admin exists the server makes one at start, prints it
//! in its log and writes it to a 0600 file beside the database; `/setup` needs it once.

use std::path::PathBuf;
use std::sync::Mutex;

use subtle::ConstantTimeEq;

pub struct SetupToken {
    token: Mutex<Option<String>>,
    file: PathBuf,
}

impl SetupToken {
    /// The file the token is written to, for the setup page to name.
    pub fn file(&self) -> &std::path::Path {
        &self.file
    }

    /// No token: an admin exists already.
    pub fn none(file: PathBuf) -> Self {
        Self {
            token: Mutex::new(None),
            file,
        }
    }

    /// Makes a token, writes it to `file` (mode 0600) and returns it.
    pub fn issue(file: PathBuf) -> anyhow::Result<(Self, String)> {
        let token = crate::random::url_safe(24);
        let _ = std::fs::remove_file(&file);
        crate::private_file::create(&file, &token)?;
        Ok((
            Self {
                token: Mutex::new(Some(token.clone())),
                file,
            },
            token,
        ))
    }

    pub fn matches(&self, candidate: &str) -> bool {
        let token = self.token.lock().unwrap_or_else(|e| e.into_inner());
        token
            .as_deref()
            .is_some_and(|t| bool::from(t.as_bytes().ct_eq(candidate.trim().as_bytes())))
    }

    /// Spends the token: it opens nothing any more, and its file goes.
    pub fn consume(&self) {
        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let _ = std::fs::remove_file(&self.file);
    }
}
