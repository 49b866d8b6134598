//! ServiceNow: the client the engine and Test connection use, and the one pacer per process
//! that every request to the instance waits on.

mod ca_file;
mod client;
mod error;
mod pacer;
mod query;

pub use ca_file::{check_ca_file, read_ca_file};
pub use client::{ClientSettings, Credentials, Page, Record, ServiceNowClient, is_sys_id};
pub use error::ServiceNowError;
pub use pacer::Pacer;
pub use query::query_value;
