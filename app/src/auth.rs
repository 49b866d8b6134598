//! What the server tells the app about the request and its signed-in admin, and what the
//! account server functions need from the backend. The server's access guard puts
//! [`RequestInfo`] (and [`CurrentAdmin`] once signed in) into the request's extensions.

use crate::api::AuditLogPage;
use crate::forms::{FieldErrors, NewAdmin};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::sync::Arc;

/// The admin signed in for this request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentAdmin {
    pub id: i64,
    pub username: String,
}

/// What the guard learnt about the request.
#[derive(Clone, Debug, Default)]
pub struct RequestInfo {
    pub address: Option<IpAddr>,
    /// Served over https (directly or, as a reverse proxy says, in front of us).
    pub https: bool,
    /// The session cookie's value, if one was sent.
    pub session_id: Option<String>,
}

/// Why an account action did not happen. Each expected refusal has its own HTTP status;
/// only `Internal` is a 500.
#[derive(Debug)]
pub enum AccountError {
    /// Fields to correct (422).
    Invalid(FieldErrors),
    /// Wrong user name or password (401), with a message for the person.
    Refused(String),
    /// Too many failed sign-ins from this address (429), saying how long to wait.
    Throttled(String),
    /// The admin account exists already (409).
    Exists(String),
    Internal(anyhow::Error),
}

impl AccountError {
    /// The HTTP status of an expected refusal.
    pub fn status(&self) -> u16 {
        match self {
            AccountError::Invalid(_) => 422,
            AccountError::Refused(_) => 401,
            AccountError::Throttled(_) => 429,
            AccountError::Exists(_) => 409,
            AccountError::Internal(_) => 500,
        }
    }
}

impl From<anyhow::Error> for AccountError {
    fn from(error: anyhow::Error) -> Self {
        AccountError::Internal(error)
    }
}

#[async_trait]
pub trait AccountBackend: Send + Sync + 'static {
    /// Whether the admin account exists: `/setup` and `/login` say what to do next by it.
    async fn admin_exists(&self) -> anyhow::Result<bool>;
    /// The setup-token file as configured (beside the database, named after it).
    fn setup_token_file(&self) -> String;
    /// Creates the first admin with the one-time setup token.
    async fn setup_admin(&self, admin: NewAdmin, request: &RequestInfo)
    -> Result<(), AccountError>;
    /// Checks the credentials and opens a session; returns the `Set-Cookie` value.
    async fn login(
        &self,
        username: &str,
        password: &str,
        request: &RequestInfo,
    ) -> Result<String, AccountError>;
    /// Ends the request's session; returns the `Set-Cookie` value that clears the cookie.
    async fn logout(&self, admin: &CurrentAdmin, request: &RequestInfo) -> anyhow::Result<String>;
    /// Records an action in the audit log.
    async fn audit(
        &self,
        actor: Option<&CurrentAdmin>,
        action: &str,
        detail: &str,
        request: &RequestInfo,
    ) -> anyhow::Result<()>;
    /// Page `page` (from 1) of the audit log, newest first.
    async fn audit_log(&self, page: u32) -> anyhow::Result<AuditLogPage>;
}

pub type SharedAccountBackend = Arc<dyn AccountBackend>;
