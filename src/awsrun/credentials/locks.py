"""Per-entry locks: one process fetches credentials while the others wait, then read what
it stored.

On POSIX the lock is flock(2) on a 0600 file beside the entry, taken directly: importing
filelock costs about 40 ms (it pulls in asyncio), four times Python's own start, and
sixteen recipes of `make -j16` that miss together would each pay it. Elsewhere filelock's
portable lock does the same job. Either way the kernel drops the lock of a process that
dies, so a killed awsrun never leaves a stale one.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager, suppress

from awsrun.errors import LockTimeout

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# How often a waiter tries the lock again and looks for the holder's result in the cache.
POLL_SECONDS = 0.02
# A wait longer than this is worth a line on stderr: an STS call takes well under it, an
# MFA prompt in another terminal does not.
NOTICE_AFTER_SECONDS = 1.0


def _flock_attempt(path: str) -> Callable[[], None] | None:
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    # The holder's pid, for the message of a process that waits for it: a courtesy, so a
    # full or read-only file system that refuses it does not stop the run.
    with suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
    return lambda: os.close(fd)  # closing the file releases the lock


def holder_pid(path: str) -> int | None:
    """The pid the holder of the lock at `path` wrote, if it is there to read."""
    try:
        with open(path, "rb") as lock_file:
            text = lock_file.read(20).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdecimal() else None


def _filelock_attempt(path: str) -> Callable[[], None] | None:
    import filelock

    lock = filelock.FileLock(path, mode=0o600)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        return None
    return lambda: lock.release()


@contextmanager
def hold(
    path: str,
    timeout: float,
    stop_waiting: Callable[[], bool],
    waiting: Callable[[int | None], None] | None = None,
    why: str = "an MFA prompt in another terminal?",
) -> Iterator[bool]:
    """Yield True while holding the lock at `path`, or False as soon as `stop_waiting()`
    says the wait is over (the holder stored what this process needs). `waiting` is called
    once, with the holder's pid if known, when the wait has lasted NOTICE_AFTER_SECONDS.

    Raises LockTimeout after `timeout` seconds, naming the holder, the lock file and `why`
    the holder may take long."""
    attempt = _flock_attempt if os.name == "posix" else _filelock_attempt
    started = time.monotonic()
    deadline = started + timeout
    while True:
        release = attempt(path)
        if release is not None:
            try:
                yield True
            finally:
                release()
            return
        if stop_waiting():
            yield False
            return
        now = time.monotonic()
        if waiting is not None and now - started >= NOTICE_AFTER_SECONDS:
            waiting(holder_pid(path))
            waiting = None
        if now >= deadline:
            pid = holder_pid(path)
            holder = f"another awsrun (pid {pid})" if pid else "another awsrun"
            raise LockTimeout(
                f"waited {timeout:g}s for {holder}, which holds {path} while it fetches the "
                f"same credentials ({why}): finish or end that run, or set "
                "AWSRUN_LOCK_TIMEOUT to wait longer"
            )
        time.sleep(POLL_SECONDS)


__all__ = ["NOTICE_AFTER_SECONDS", "POLL_SECONDS", "hold", "holder_pid"]
