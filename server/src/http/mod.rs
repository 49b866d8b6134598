//! The HTTP layer around the Leptos app, one concern a file: the access guard, the refusal
//! of cross-site state changes and of names the server does not answer as, the security
//! headers, the cache policy, the refusal of server function requests that cannot be read,
//! the body timeouts, `Connection: close` after a body left unread, the connections'
//! limits and I/O, the client's address, the scanner API with each token's share of its
//! upload queue, and the health endpoints.

pub mod access;
pub mod body_timeout;
pub mod cache_policy;
pub mod client_address;
pub mod connection_io;
pub mod connection_limits;
pub mod cross_site;
pub mod health;
pub mod host_check;
pub mod scans_api;
pub mod security_headers;
pub mod server_fn_errors;
pub mod unread_body;
pub mod upload_shares;
