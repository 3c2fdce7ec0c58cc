//! Structured logs on stdout: JSON lines by default, or text. RUST_LOG filters (default
//! `info`). An event's text is its `message` key, so no event has a field of that name (an
//! error's text goes in `error`): every JSON line has unique keys.

use crate::config::LogFormat;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        // Colour codes only for a person at a terminal; log files and collectors get plain text.
        .with_ansi(std::io::stdout().is_terminal());
    match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
        LogFormat::Text => builder.init(),
    }
}

/// `key`: the name of the API key the request was made with, never its secret.
pub fn access_log(
    rid: &str,
    method: &str,
    path: &str,
    status: u16,
    started: std::time::Instant,
    key: Option<&str>,
) {
    tracing::info!(
        target: "access",
        request_id = %rid,
        method,
        path,
        status,
        duration_us = started.elapsed().as_micros() as u64,
        key,
    );
}
