//! File descriptors: the limit is shared by client connections and the database's own files.
//! With a low `RLIMIT_NOFILE`, connections could take the descriptors the read pool needs to
//! open a connection, and reads would fail with "unable to open database file". So at start-up
//! the soft limit is raised to the hard one, and the connection cap is sized to leave the
//! database's descriptors (and the process's own) free.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Descriptors the process holds besides connections and the database: stdio, the listener,
/// the runtime's epoll and wakers, the signal pipe, and a few opened briefly (`/proc` reads,
/// an export's file).
const OWN_DESCRIPTORS: u64 = 16;

/// The soft `RLIMIT_NOFILE` after raising it to the hard limit (`None`: unlimited).
pub fn raise_limit() -> Option<u64> {
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if let Err(e) = setrlimit(Resource::Nofile, raised) {
            tracing::warn!(error = %e, "cannot raise the open-file limit to its hard limit");
            return limit.current;
        }
    }
    limit.maximum
}

/// The connection cap: `wanted`, or fewer when the descriptor limit would not leave the
/// database's `reserved` ones and the process's own free; `None` when not even one
/// connection fits.
pub fn connection_cap(wanted: u64, limit: Option<u64>, reserved: u64) -> Option<u64> {
    let Some(limit) = limit else {
        return Some(wanted);
    };
    let room = limit.checked_sub(reserved + OWN_DESCRIPTORS)?;
    (room > 0).then(|| wanted.min(room))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_the_database_its_descriptors() {
        assert_eq!(connection_cap(1024, None, 31), Some(1024));
        assert_eq!(connection_cap(1024, Some(1 << 20), 31), Some(1024));
        // `ulimit -n 64` with the default pool (31 descriptors).
        assert_eq!(connection_cap(1024, Some(64), 31), Some(17));
        assert_eq!(connection_cap(10, Some(64), 31), Some(10));
        assert_eq!(connection_cap(1024, Some(47), 31), None);
        assert_eq!(connection_cap(1024, Some(20), 31), None);
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let raised = raise_limit();
        let now = getrlimit(Resource::Nofile);
        assert_eq!(now.current, now.maximum);
        assert_eq!(raised, now.current);
    }
}
