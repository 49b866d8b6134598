//! The itsm-bridge backend: configuration, start-up, the SQLite database, secrets at rest,
//! the settings store behind the server functions, and the HTTP layer around the Leptos app.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod configuration;
pub mod connection_checks;
pub mod connection_test;
pub mod database;
pub mod engine;
pub mod http;
pub mod ingest;
pub mod metrics;
pub mod overview;
pub mod private_file;
pub mod random;
pub mod scan_store;
pub mod secrets;
pub mod servicenow;
pub mod settings_store;
pub mod site;
pub mod startup;
pub mod telemetry;
pub mod timestamps;
