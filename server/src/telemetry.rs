//! Structured logs on standard error (standard output carries a command's answer):
//! human-readable by default, JSON on request; `RUST_LOG` filters. Colours only when
//! standard error is a terminal: a log file or a journal gets no escape codes.

use crate::configuration::LogFormat;
use std::io::IsTerminal;
use tracing_subscriber::{EnvFilter, fmt};

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    // A second initialisation (tests) keeps the first subscriber.
    let _ = result;
}
