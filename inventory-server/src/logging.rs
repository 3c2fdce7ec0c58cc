//! Structured logs on stdout: JSON lines by default, or text. RUST_LOG filters (default
//! `info`). An event's text is its `message` key, so no event has a field of that name (an
//! error's text goes in `error`): every JSON line has unique keys.
//!
//! Lines are written by a thread of their own: a request thread only formats its line and
//! queues it, so a slow disk or a full pipe behind stdout never stalls connections (reads are
//! answered on the transport's few threads). The queue blocks rather than drops when full, and
//! the returned guard flushes it when `main` ends.

use crate::config::LogFormat;
use std::io::IsTerminal;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

pub fn init(format: LogFormat) -> WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Lines queued together are written together.
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("log")
        .finish(std::io::BufWriter::new(std::io::stdout()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
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
    guard
}
