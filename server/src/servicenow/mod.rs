//! ServiceNow: the client the engine and Test connection use.

mod client;
mod error;

pub use client::{ClientSettings, Credentials, Page, Record, ServiceNowClient};
pub use error::ServiceNowError;
