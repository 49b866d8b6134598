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

/// How many entries the audit page shows.
pub const AUDIT_PAGE_SIZE: u32 = 500;

#[server(endpoint = "load_audit_log")]
pub async fn load_audit_log() -> Result<Vec<AuditEntry>, ServerFnError> {
    use super::plumbing::*;
    require_admin()?;
    accounts()?
        .audit_log(AUDIT_PAGE_SIZE)
        .await
        .map_err(internal("read the audit log"))
}
