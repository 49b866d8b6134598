//! Integration tests: each starts the real server on a random port with a fresh SQLite file.

// A test that cannot go on panics with the failing value, which is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod accounts;
mod audit;
mod audit_retention;
mod command_line;
mod connection_settings;
mod cross_site;
mod engine_big_scan;
mod engine_end_to_end;
mod engine_faults;
mod engine_rules;
mod engine_scheduler;
mod engine_support;
mod first_run_pages;
mod flash_flood;
mod health;
mod helpers;
mod ingest_limits;
mod itsm_settings;
mod login_redirect;
mod lost_key;
mod no_javascript;
mod readme_configuration;
mod reset_password_prompt;
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
mod session_idle;
mod sign_in_throttle;
mod small_things;
mod start_up;
mod test_connection;
mod tokens_and_scans;
