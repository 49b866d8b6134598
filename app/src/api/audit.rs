//! Server function of the audit page.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub at: String,
    pub actor: Option<String>,
    pub action: String,
    pub detail: String,
    pub address: Option<String>,
}

/// One page of the audit log, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditLogPage {
    pub entries: Vec<AuditEntry>,
    /// This page's number, from 1.
    pub page: u32,
    /// How many pages there are (at least 1).
    pub pages: u32,
}

/// How many entries a page of the audit log shows.
pub const AUDIT_PAGE_SIZE: u32 = 100;

/// Page `page` of the audit log (the first when absent).
#[server(endpoint = "load_audit_log")]
pub async fn load_audit_log(page: Option<u32>) -> Result<AuditLogPage, ServerFnError> {
    use super::plumbing::*;
    require_admin()?;
    accounts()?
        .audit_log(page.unwrap_or(1).max(1))
        .await
        .map_err(internal("read the audit log"))
}
