//! What can go wrong talking to ServiceNow, by meaning, each with a message a person can act
//! on. No variant carries a secret.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServiceNowError {
    #[error(
        "ServiceNow refused the credentials ({0}): check the client ID and secret, the user ID and password, and that the user is active and the OAuth application exists"
    )]
    BadCredentials(String),
    #[error("no such record, or no right to read it: {0}")]
    NotFound(String),
    #[error("ServiceNow's rate limit was reached; it asks to wait {} s", .retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    #[error("ServiceNow answered {status} (server error): {message}")]
    Server { status: u16, message: String },
    #[error("ServiceNow refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error(
        "the instance answered with something that is not the Table API's JSON ({0}); a sleeping developer instance answers like this: wake it up in the developer portal"
    )]
    NotJson(String),
    #[error("ServiceNow did not answer within {} s", .0.as_secs())]
    Timeout(Duration),
    #[error("could not reach the instance: {0}")]
    Network(String),
    #[error(
        "the TLS connection to the instance failed: {0}; check the URL, and for a private CA the CA file setting"
    )]
    Tls(String),
}

impl ServiceNowError {
    /// Worth trying again after a pause.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Server { .. } | Self::Network(_) | Self::Timeout(_)
        )
    }
}
