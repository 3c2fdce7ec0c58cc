//! `--clock-offset-file`: a clock that tests of the server binary can move from outside its
//! process, so that leases and reservation expiries lapse without waiting on the wall clock.
//! Without the flag the engine keeps its wall clock (`SystemClock`) and nothing here runs.

use chrono::{DateTime, Utc};
use inventory::Clock;
use std::path::PathBuf;
use std::sync::Mutex;

/// The wall clock plus the whole seconds written in a file (none while the file is missing).
/// Read at every "now", so a test moves the server's clock by rewriting the file; a file that
/// cannot be read or parsed (caught mid-write) keeps the last offset, so time never jumps back
/// to the wall clock by accident.
#[derive(Debug)]
pub struct OffsetFileClock {
    path: PathBuf,
    last: Mutex<i64>,
}

impl OffsetFileClock {
    pub fn new(path: PathBuf) -> Self {
        OffsetFileClock {
            path,
            last: Mutex::new(0),
        }
    }

    fn offset(&self) -> i64 {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        match std::fs::read_to_string(&self.path) {
            Ok(text) => {
                if let Ok(seconds) = text.trim().parse() {
                    *last = seconds;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => *last = 0,
            Err(_) => {}
        }
        *last
    }
}

impl Clock for OffsetFileClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.offset())
    }
}

#[cfg(test)]
mod tests {
    use super::OffsetFileClock;
    use inventory::Clock;

    #[test]
    fn the_clock_runs_ahead_by_the_seconds_in_its_file_and_keeps_them_through_a_torn_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clock");
        let clock = OffsetFileClock::new(path.clone());
        let ahead = |clock: &OffsetFileClock| (clock.now() - chrono::Utc::now()).num_seconds();
        assert_eq!(ahead(&clock), 0, "no file: the wall clock");
        std::fs::write(&path, "3600\n").unwrap();
        assert!((3599..=3600).contains(&ahead(&clock)));
        std::fs::write(&path, "").unwrap();
        assert!(
            (3599..=3600).contains(&ahead(&clock)),
            "a torn write keeps the offset"
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(ahead(&clock), 0);
    }
}
