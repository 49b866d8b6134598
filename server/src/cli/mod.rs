//! The bodies of the `itsm-bridge` commands, one file per command; `main.rs` picks one.

pub mod ingest;
pub mod reset_password;
pub mod run_once;
pub mod serve;
