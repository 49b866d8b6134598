//! Integration tests: each starts the real server on a random port with a fresh SQLite file.

mod connection_settings;
mod cross_site;
mod health;
mod helpers;
mod itsm_settings;
mod no_javascript;
mod secrets_at_rest;
