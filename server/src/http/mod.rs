//! The HTTP layer around the Leptos app: the access guard, the refusal of cross-site state
//! changes, the security headers and the health endpoints.

pub mod access;
pub mod body_timeout;
pub mod client_address;
pub mod cross_site;
pub mod health;
pub mod scans_api;
pub mod security_headers;
