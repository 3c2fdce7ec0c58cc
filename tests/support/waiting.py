"""What the Python test suites share: waiting on a condition with a deadline.

A test never sleeps a fixed time to let something happen elsewhere (a server, a thread, a
background sync): it waits for the thing itself. The deadline is generous because the machine
may be loaded, and fails the test rather than hanging it; a condition that holds early ends the
wait early. Each suite's conftest loads this file by its path (the suites are separate pytest
roots) and re-exports `wait_until`.
"""

import time


def wait_until(condition, what, timeout=10.0):
    """Polls `condition()` until it returns a true value, and returns that value.

    Raises AssertionError naming `what` once `timeout` seconds have passed. The pause between
    polls grows from 1 ms to 50 ms, so that a quick condition is seen at once and a slow one
    costs little CPU.
    """
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        value = condition()
        if value:
            return value
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"still waiting after {timeout}s: {what}")
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.05)
