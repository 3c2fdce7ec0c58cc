//! Leader-based group commit, for any store with one writer per process. A caller queues its
//! command and, if no leader is at work, becomes the leader and hands everything queued to the
//! store, which applies the group in one transaction (each command in its own savepoint, so a
//! failure rolls back alone) with one commit, while the others wait for their results. Alone, a
//! caller commits just its own command; under contention, one sync serves many.
//!
//! Followers wait on `applied`, not on the writer, so a finished follower returns at once instead
//! of queueing behind the next group's commit (which would leave each commit with one or two
//! commands).
//!
//! Every store applies its groups with the one loop here, [`apply`], over what its transaction
//! implements of [`GroupTx`]: the loop decides when a command's writes are undone (it failed, or
//! it is a dry run) and when a command needs a savepoint at all; the store, how.

use super::tx::WriteTx;
use crate::clock::Clock;
use crate::command::{Command, Outcome};
use crate::error::{Error, Result};
use crate::observe::{CommandEnd, Observer};
use crate::rules;
use crate::write::{Applied, Call};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// One queued command and, once a leader has applied it, its result.
pub(crate) struct Queued {
    pub command: Command,
    pub call: Call,
    result: Mutex<Option<Result<Applied<Outcome>>>>,
}

impl Queued {
    pub fn done(&self, result: Result<Applied<Outcome>>) {
        *lock(&self.result) = Some(result);
    }
}

#[derive(Default)]
struct State {
    waiting: Vec<Arc<Queued>>,
    leading: bool,
}

#[derive(Default)]
pub(crate) struct Queue {
    state: Mutex<State>,
    /// Signalled (with `state`) when a leader has finished a group.
    applied: Condvar,
    observer: Option<Arc<dyn Observer>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while applying a command is caught and its transaction rolled back, so the data
    // behind a poisoned lock is consistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Queue {
    pub fn new(observer: Option<Arc<dyn Observer>>) -> Queue {
        Queue {
            observer,
            ..Queue::default()
        }
    }

    /// Tells the observer how each command of a finished group ended.
    fn report(&self, group: &[Arc<Queued>]) {
        let Some(observer) = &self.observer else {
            return;
        };
        for q in group {
            let end = match &*lock(&q.result) {
                Some(Ok(applied)) if applied.replayed => CommandEnd::Replayed,
                Some(Ok(_)) => CommandEnd::Applied,
                Some(Err(e)) => CommandEnd::Failed(e.code),
                None => continue,
            };
            observer.command(q.command.kind_name(), end);
        }
    }

    /// Applies `command` through the queue. `lead` applies a whole group and must give every
    /// member its result; a panic inside it fails the group's unanswered members.
    pub fn submit(
        &self,
        command: Command,
        call: Call,
        lead: impl Fn(&[Arc<Queued>]),
    ) -> Result<Applied<Outcome>> {
        let mine = Arc::new(Queued {
            command,
            call,
            result: Mutex::new(None),
        });
        let mut state = lock(&self.state);
        state.waiting.push(Arc::clone(&mine));
        loop {
            if let Some(done) = lock(&mine.result).take() {
                return done; // a leader applied it
            }
            if state.leading {
                state = self.applied.wait(state).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            state.leading = true;
            let group = std::mem::take(&mut state.waiting);
            drop(state);
            if catch_unwind(AssertUnwindSafe(|| lead(&group))).is_err() {
                for q in &group {
                    lock(&q.result).get_or_insert_with(|| {
                        Err(Error::storage("internal error while applying a command"))
                    });
                }
            }
            self.report(&group);
            state = lock(&self.state);
            state.leading = false;
            self.applied.notify_all();
        }
    }
}

/// What a store's one transaction for a group gave: each command's result and, when movements
/// were committed, the latest sequence number; or the error that failed the whole group.
pub(crate) type GroupResult = Result<(Vec<Result<Applied<Outcome>>>, Option<i64>)>;

/// A store's write transaction as [`apply`] drives it.
pub(crate) trait GroupTx: WriteTx {
    /// Called before each command of a group of more than one: from here until
    /// [`end_command`](GroupTx::end_command), its writes can be undone without those of the
    /// commands before it.
    fn begin_command(&mut self, command: &Command) -> Result<()>;
    /// Ends the command begun last, undoing its writes when `undo`.
    fn end_command(&mut self, undo: bool) -> Result<()>;
    /// Fails when, after a command that ended with `result`, the transaction cannot go on (on
    /// PostgreSQL: a deadlock, which running the group again cures, or a failed statement that
    /// no savepoint covered); the whole group then fails with that error.
    fn go_on(&mut self, result: &Result<Applied<Outcome>>) -> Result<()>;
    /// Writes what the transaction kept back for its end; returns the latest sequence number
    /// when movements are about to commit.
    fn finish(&mut self) -> Result<Option<i64>>;
    fn commit(&mut self) -> Result<()>;
    fn roll_back(&mut self) -> Result<()>;
}

/// Applies a group in the transaction `tx` has open, each command at its own "now", and commits
/// what is kept, telling the observer how long the commit (the sync) took. A command alone in
/// its transaction needs no savepoint: its failure or dry run rolls the transaction back.
/// Otherwise each command is undone alone, and a dry run, undone like a failure, keeps its
/// result.
pub(crate) fn apply(
    tx: &mut impl GroupTx,
    group: &[Arc<Queued>],
    clock: &dyn Clock,
    observer: Option<&dyn Observer>,
) -> GroupResult {
    let shared = group.len() > 1;
    let mut results = Vec::with_capacity(group.len());
    for q in group {
        if shared {
            tx.begin_command(&q.command)?;
        }
        let now = super::command_time(clock);
        let result = rules::execute(tx, &q.command, &q.call, now);
        tx.go_on(&result)?;
        let undo = result.is_err() || q.call.dry_run;
        if shared {
            tx.end_command(undo)?;
        } else if undo {
            tx.roll_back()?;
            return Ok((vec![result], None));
        }
        results.push(result);
    }
    let seq = tx.finish()?;
    let started = Instant::now();
    tx.commit()?;
    if let Some(observer) = observer {
        observer.group(group.len(), started.elapsed());
    }
    Ok((results, seq))
}

/// Hands each queued command its result and tells the feed's waiters what committed.
pub(crate) fn settle(group: &[Arc<Queued>], feed: &Feed, applied: GroupResult) {
    match applied {
        Ok((results, seq)) => {
            if let Some(seq) = seq {
                feed.advance(seq);
            }
            for (q, r) in group.iter().zip(results) {
                q.done(r);
            }
        }
        Err(e) => {
            for q in group {
                q.done(Err(e.clone()));
            }
        }
    }
}

/// The latest committed sequence number, for change-feed subscribers to wait on.
#[derive(Default)]
pub(crate) struct Feed {
    last_seq: Mutex<i64>,
    changed: Condvar,
}

impl Feed {
    pub fn new(last_seq: i64) -> Feed {
        Feed {
            last_seq: Mutex::new(last_seq),
            changed: Condvar::new(),
        }
    }

    /// Records that movements up to `seq` have committed, waking waiters if that is news.
    pub fn advance(&self, seq: i64) {
        let mut last = lock(&self.last_seq);
        if seq > *last {
            *last = seq;
            self.changed.notify_all();
        }
    }

    /// Blocks until a movement after `after` has committed or `timeout` passes; returns the
    /// latest committed sequence number.
    pub fn wait(&self, after: i64, timeout: std::time::Duration) -> i64 {
        let last = lock(&self.last_seq);
        let (last, _) = self
            .changed
            .wait_timeout_while(last, timeout, |seq| *seq <= after)
            .unwrap_or_else(|e| e.into_inner());
        *last
    }
}
