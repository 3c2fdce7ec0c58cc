//! Graceful shutdown: on SIGINT or SIGTERM, stop accepting, let the workers finish what is in
//! flight, stop streams and the sweep, then checkpoint the WAL into the database file.

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Blocks until SIGINT or SIGTERM arrives; returns its name.
pub fn wait_for_signal() -> std::io::Result<&'static str> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    let signal = signals.forever().next().unwrap_or(SIGTERM);
    Ok(if signal == SIGINT {
        "SIGINT"
    } else {
        "SIGTERM"
    })
}
