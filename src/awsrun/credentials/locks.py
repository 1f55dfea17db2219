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

from awsrun.credentials.shared_terminal import prompting, said_unless_prompting
from awsrun.errors import LockTimeout

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# How often a waiter tries the lock again and looks for the holder's result in the cache.
POLL_SECONDS = 0.02
# A wait longer than this is worth a line on stderr: an STS call takes well under it, an
# MFA prompt in another terminal does not.
NOTICE_AFTER_SECONDS = 1.0
# The lock files this process holds (POSIX), for announce().
_HELD: list[int] = []
# What a holder says it is doing (announce), as the line of a run that waits for it says it.
HOLDER_DOING = {
    "mfa-prompt": "it is asking for an MFA code in another terminal",
    "passphrase": "it is asking for the keystore's passphrase in another terminal",
    "sign-in": "it is waiting for an IAM Identity Center sign-in in the browser",
    "fetching": "its call to AWS is slow",
}


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
    _HELD.append(fd)
    with suppress(OSError):
        os.ftruncate(fd, 0)  # whatever an earlier holder wrote
    _write_state(fd, "fetching")

    def release() -> None:
        _HELD.remove(fd)
        os.close(fd)  # closing the file releases the lock

    return release


def _write_state(fd: int, doing: str) -> None:
    # The holder's pid and what it does, for the line of a process that waits for it: a
    # courtesy, so a full or read-only file system that refuses it does not stop the run.
    # Fixed width, so that a reader never sees half of one and half of another.
    with suppress(OSError):
        os.pwrite(fd, f"{os.getpid()} {doing}".ljust(_STATE_WIDTH).encode(), 0)


_STATE_WIDTH = 40


def announce(doing: str) -> None:
    """Tell the runs waiting on this process's locks what it does now (HOLDER_DOING)."""
    for fd in _HELD:
        _write_state(fd, doing)


@contextmanager
def asking_the_user(doing: str) -> Iterator[None]:
    """While this process shows a prompt (`doing`: mfa-prompt, passphrase): its terminal
    held (see shared_terminal) and the runs waiting on its locks told."""
    from awsrun.folders import cache_dir

    with prompting(cache_dir(os.environ)):
        announce(doing)
        try:
            yield
        finally:
            announce("fetching")


def holder(path: str) -> tuple[int | None, str | None]:
    """The pid the holder of the lock at `path` wrote and what it said it does (either
    None where it is not there to read)."""
    try:
        with open(path, "rb") as lock_file:
            words = lock_file.read(_STATE_WIDTH).decode("ascii", "replace").split()
    except OSError:
        return None, None
    pid = int(words[0]) if words and words[0].isdecimal() else None
    doing = words[1] if len(words) > 1 and words[1] in HOLDER_DOING else None
    return pid, doing


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
    waiting: Callable[[int | None, str | None], None] | None = None,
    why: str = "an MFA prompt in another terminal?",
) -> Iterator[bool]:
    """Yield True while holding the lock at `path`, or False as soon as `stop_waiting()`
    says the wait is over (the holder stored what this process needs). `waiting` is called
    once, with the holder's pid and what it does if known, when the wait has lasted
    NOTICE_AFTER_SECONDS and no prompt is on the terminal it would write to.

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
        # A prompt on the terminal the line would go to puts it off until it is answered.
        if waiting is not None and now - started >= NOTICE_AFTER_SECONDS and _said(waiting, path):
            waiting = None
        if now >= deadline:
            pid, doing = holder(path)
            who = f"another awsrun (pid {pid})" if pid else "another awsrun"
            raise LockTimeout(
                f"waited {timeout:g}s for {who}, which holds {path} while it fetches the "
                f"same credentials ({HOLDER_DOING[doing] if doing else why}): finish or end "
                "that run, or set AWSRUN_LOCK_TIMEOUT to wait longer"
            )
        time.sleep(POLL_SECONDS)


def _said(waiting: Callable[[int | None, str | None], None], path: str) -> bool:
    """The waiting line, unless a prompt is on the terminal it would go to."""

    def say() -> None:
        waiting(*holder(path))

    return said_unless_prompting(os.path.dirname(path), say)


__all__ = [
    "HOLDER_DOING",
    "NOTICE_AFTER_SECONDS",
    "POLL_SECONDS",
    "announce",
    "asking_the_user",
    "hold",
    "holder",
]
