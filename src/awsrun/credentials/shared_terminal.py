"""One terminal shared by many runs (`make -j4`): a prompt is never written over.

While an awsrun shows a prompt on its terminal (an MFA code, a passphrase), it holds an
exclusive flock on a file named after that terminal in the private cache folder. A waiting
run whose stderr is that terminal writes its line only under a shared lock it can take at
once, so its line goes before the prompt or after the answer, never onto the prompt's
line; and two prompts on one terminal come one after the other, not interleaved.
"""

from __future__ import annotations

import os
from contextlib import contextmanager, suppress

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


def _controlling_terminal() -> int | None:
    """The device number of this process's controlling terminal (where /dev/tty goes)."""
    with suppress(OSError, ValueError, IndexError), open("/proc/self/stat", "rb") as stat:
        # Field 7, tty_nr; the command name (field 2) may hold spaces, so count from
        # the closing parenthesis.
        fields = stat.read().rsplit(b")", 1)[1].split()
        number = int(fields[4])
        if number:
            return number
    for fd in (2, 0, 1):  # where there is no /proc: a standard stream on the terminal
        with suppress(OSError):
            if os.isatty(fd):
                return os.fstat(fd).st_rdev
    return None


def _lock_path(folder: str, device: int) -> str:
    return os.path.join(folder, f"terminal-{device}.lock")


@contextmanager
def prompting(folder: str | None) -> Iterator[None]:
    """Hold the terminal while a prompt is on it (waiting first for another run's prompt
    on the same terminal to be answered). Without a folder or a terminal: no lock."""
    device = _controlling_terminal()
    if folder is None or device is None or os.name != "posix":
        yield
        return
    import fcntl

    try:
        fd = os.open(_lock_path(folder, device), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:  # a courtesy to the other runs: a prompt goes ahead without it
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def said_unless_prompting(folder: str, say: Callable[[], None]) -> bool:
    """Call `say` (a line on stderr) unless a prompt is on the terminal stderr goes to;
    False when the line must wait for the prompt to be answered."""
    fd = None
    if os.name == "posix" and os.isatty(2):
        with suppress(OSError):
            path = _lock_path(folder, os.fstat(2).st_rdev)
            # Created if need be: a prompt that starts meanwhile waits for this line.
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    if fd is None:
        say()
        return True
    import fcntl

    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        say()
        return True
    finally:
        os.close(fd)


__all__ = ["prompting", "said_unless_prompting"]
