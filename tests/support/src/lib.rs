//! What the workspace's Rust tests share. A test never sleeps a fixed time to let something
//! happen elsewhere (a thread, a child process, a server): it waits for the thing itself, with
//! a deadline that fails the test rather than hanging it. The deadline is generous because the
//! machine may be loaded; a condition that holds early ends the wait early.

use std::time::{Duration, Instant};

/// Polls `ready` until it gives a value, and returns it; panics with `what` once `within` has
/// passed. The pause between polls grows from 1 ms to 50 ms, so a quick condition is seen at
/// once and a slow one costs little CPU.
pub fn wait_for<T>(within: Duration, what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(value) = ready() {
            return value;
        }
        let now = Instant::now();
        assert!(now < deadline, "still waiting after {within:?}: {what}");
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Polls `holds` until it is true; panics with `what` once `within` has passed.
pub fn wait_until(within: Duration, what: &str, mut holds: impl FnMut() -> bool) {
    wait_for(within, what, || holds().then_some(()))
}

/// Waits until this process's thread named `name` (at most 15 bytes, the kernel's limit) is
/// asleep, as a thread blocked on a condition variable or a socket is: for a test that must
/// act only once another thread waits (Linux: the thread's state in /proc is `S`).
pub fn wait_until_asleep(within: Duration, name: &str) {
    wait_until(within, &format!("thread {name} asleep"), || {
        std::fs::read_dir("/proc/self/task")
            .into_iter()
            .flatten()
            .flatten()
            .any(|task| {
                let read = |file| std::fs::read_to_string(task.path().join(file));
                read("comm").is_ok_and(|comm| comm.trim_end() == name)
                    // "pid (comm) S ...": the state follows the last parenthesis.
                    && read("stat").is_ok_and(|stat| {
                        stat.rsplit_once(')')
                            .is_some_and(|(_, rest)| rest.trim_start().starts_with('S'))
                    })
            })
    })
}

#[cfg(test)]
mod tests {
    use super::{wait_for, wait_until, wait_until_asleep};
    use std::time::{Duration, Instant};

    #[test]
    fn a_wait_ends_as_soon_as_the_condition_holds() {
        let start = Instant::now();
        let mut polls = 0;
        let value = wait_for(Duration::from_secs(5), "the third poll", || {
            polls += 1;
            (polls == 3).then_some(polls)
        });
        assert_eq!(value, 3);
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    #[should_panic(expected = "still waiting after 20ms: never")]
    fn a_wait_past_its_deadline_fails_with_what_it_waited_for() {
        wait_until(Duration::from_millis(20), "never", || false);
    }

    #[test]
    fn a_thread_blocked_on_a_channel_is_seen_asleep() {
        let (send, receive) = std::sync::mpsc::channel::<()>();
        let blocked = std::thread::Builder::new()
            .name("blocked".into())
            .spawn(move || receive.recv())
            .unwrap();
        wait_until_asleep(Duration::from_secs(10), "blocked");
        send.send(()).unwrap();
        blocked.join().unwrap().unwrap();
    }
}
