//! Graceful shutdown: on SIGINT or SIGTERM, stop accepting, let the workers finish what is in
//! flight, stop streams and the sweep, then checkpoint the WAL into the database file.

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// SIGINT and SIGTERM, caught from the moment this is made. The server makes it before it says
/// it is listening, so a signal sent as soon as it has is a graceful shutdown, never the
/// default action's immediate death.
pub struct Watch(Signals);

impl Watch {
    pub fn new() -> std::io::Result<Watch> {
        Signals::new([SIGINT, SIGTERM]).map(Watch)
    }

    /// Blocks until SIGINT or SIGTERM arrives (or arrived since `new`); returns its name.
    pub fn wait(mut self) -> &'static str {
        let signal = self.0.forever().next().unwrap_or(SIGTERM);
        if signal == SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        }
    }
}
