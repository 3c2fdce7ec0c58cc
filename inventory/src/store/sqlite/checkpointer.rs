//! Checkpoints off the write path. SQLite copies the WAL back into the database file inline, in
//! the commit that crosses `wal_autocheckpoint`; under `Durability::Normal` that checkpoint's
//! sync is the only one a write ever waits for, and it made single writes' p99 about 50 times
//! their median. Instead a thread of its own runs a PASSIVE checkpoint (which never blocks the
//! writer) shortly after commits, so the WAL stays small. The writer keeps SQLite's inline
//! checkpoint only as a cap, at four times the durability's threshold, for when this thread
//! cannot keep up (a long read holding old frames, a starved CPU).
//!
//! A PASSIVE checkpoint copies the frames that were in the WAL when it began; under a steady
//! writer more arrive meanwhile, the WAL is never fully copied, so SQLite never restarts it
//! from the beginning and it grows to the cap (measured: 184 MB within 1.5 s of one client's
//! writes). So when frames remain, the thread copies that short remainder again while holding
//! the writer's lock: one brief pause of the writer per round instead of a checkpoint of the
//! whole backlog, and the next write restarts the WAL.
//!
//! SQLite syncs the database file only in a checkpoint that reaches the WAL's end, and that
//! sync flushes every page the earlier, incomplete pass wrote too. Done under the writer's
//! lock, it made the writer wait for the whole backlog's flush after all (p99 of reserve at 32
//! connections under `Durability::Full` 93–125 ms, against 4.5–11.5 ms for wave 1's inline
//! checkpoints). So the thread syncs the database file itself between the two passes, without
//! the lock: the locked pass's sync then has only the remainder's pages left to flush.

use crate::observe::Observer;
use rusqlite::Connection;
use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long after a commit the checkpointer runs (commits in between share the checkpoint).
const DELAY: Duration = Duration::from_millis(100);

/// Shared between the writer (which counts commits) and the thread.
#[derive(Default)]
pub(crate) struct Signal {
    commits: AtomicU64,
    stop: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
}

impl Signal {
    /// The writer committed.
    pub fn committed(&self) {
        self.commits.fetch_add(1, Ordering::Relaxed);
    }
}

pub(crate) struct Checkpointer {
    signal: Arc<Signal>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// `file`: the database file `conn` has open, for syncing what a pass wrote to it.
    pub fn start(
        conn: Connection,
        file: File,
        writer: Arc<Mutex<Connection>>,
        observer: Option<Arc<dyn Observer>>,
    ) -> std::io::Result<Self> {
        let signal = Arc::new(Signal::default());
        let shared = Arc::clone(&signal);
        let thread = std::thread::Builder::new()
            .name("inventory-checkpoint".into())
            .spawn(move || run(&conn, &file, &writer, &shared, observer.as_deref()))?;
        Ok(Checkpointer {
            signal,
            thread: Some(thread),
        })
    }

    pub fn signal(&self) -> &Arc<Signal> {
        &self.signal
    }
}

/// A PASSIVE checkpoint: whether every frame of the WAL has been copied.
fn checkpoint(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        let (log, copied): (i64, i64) = (r.get(1)?, r.get(2)?);
        Ok(copied >= log)
    })
}

fn run(
    conn: &Connection,
    file: &File,
    writer: &Mutex<Connection>,
    signal: &Signal,
    observer: Option<&dyn Observer>,
) {
    let mut seen = 0;
    loop {
        {
            let guard = signal.lock.lock().unwrap_or_else(|e| e.into_inner());
            let _ = signal
                .wake
                .wait_timeout(guard, DELAY)
                .unwrap_or_else(|e| e.into_inner());
        }
        if signal.stop.load(Ordering::Relaxed) {
            return;
        }
        let commits = signal.commits.load(Ordering::Relaxed);
        if commits == seen {
            continue;
        }
        seen = commits;
        let started = Instant::now();
        // A failure (the file busy with another process's checkpoint) is retried after the next
        // commits; the writer's cap bounds the WAL meanwhile.
        let done = checkpoint(conn).and_then(|complete| {
            if complete {
                return Ok(());
            }
            // A failed sync is left to the locked pass, whose own sync reports it.
            let _ = file.sync_data();
            let _writer = writer.lock().unwrap_or_else(|e| e.into_inner());
            checkpoint(conn).map(drop)
        });
        if let (Ok(()), Some(observer)) = (done, observer) {
            observer.checkpoint(started.elapsed());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.signal.stop.store(true, Ordering::Relaxed);
        self.signal.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
