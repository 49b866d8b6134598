//! Integration tests: each starts the real server on a random port with a fresh SQLite file.

// A test that cannot go on panics with the failing value, which is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod accounts;
mod audit;
mod audit_retention;
mod connection_settings;
mod cross_site;
mod engine_big_scan;
mod engine_end_to_end;
mod engine_faults;
mod engine_scheduler;
mod engine_support;
mod flash_flood;
mod health;
mod helpers;
mod ingest_limits;
mod itsm_settings;
mod login_redirect;
mod no_javascript;
mod scan_crash;
mod scan_queue;
mod scan_rules;
mod scan_stall;
mod scans_api;
mod secrets_at_rest;
mod security_headers;
mod servicenow_client;
mod servicenow_hostile_answers;
mod servicenow_sabotage;
mod sign_in_throttle;
mod test_connection;
mod tokens_and_scans;
