//! The server functions, at stable endpoints under `/api/`. Each checks its input, calls the
//! backend from context and maps internal errors to a message that is safe to show.

mod account;
mod audit;
mod connection;
mod exceptions;
mod itsm;
mod overview;
#[cfg(feature = "ssr")]
mod plumbing;
mod runs;
mod scans;
mod tickets;

pub use account::*;
pub use audit::*;
pub use connection::*;
pub use exceptions::*;
pub use itsm::*;
pub use overview::*;
pub use runs::*;
pub use scans::*;
pub use tickets::*;

use crate::forms::Notice;
use serde::{Deserialize, Serialize};

/// What a browser without JavaScript gets back after a form post: the outcome and, when the
/// values were refused, the values it sent (never a secret), so the page can show them again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormFlash<F> {
    pub form: F,
    pub notice: Notice,
}

/// The text of a server function error, without the framework's prefix.
pub fn error_text(error: &leptos::prelude::ServerFnError) -> String {
    use leptos::prelude::ServerFnError;
    match error {
        ServerFnError::ServerError(message) => message.clone(),
        ServerFnError::Request(_) | ServerFnError::Response(_) => {
            "The server could not be reached; check your network and try again.".into()
        }
        other => other.to_string(),
    }
}
