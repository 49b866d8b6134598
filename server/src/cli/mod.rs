//! The bodies of the `itsm-bridge` commands, one file per command; `main.rs` picks one.

pub mod backup;
#[cfg(feature = "demo")]
pub mod demo;
#[cfg(not(feature = "demo"))]
#[path = "demo_left_out.rs"]
pub mod demo;
pub mod ingest;
pub mod reset_password;
pub mod restore;
pub mod run_once;
pub mod serve;
