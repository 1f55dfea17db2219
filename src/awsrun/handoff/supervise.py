"""The command as awsrun's child (for --server): started as env(1) would start it, sent the
signals meant for it, and its exit status passed on.

A signal that the terminal sent (Ctrl-C, Ctrl-\\) reaches the whole foreground process
group, the command included: passing it on as well would deliver it twice (terraform stops
hard on a second Ctrl-C). A signal that a program sent to awsrun alone (`kill -INT PID`)
must be passed on. On Linux the kernel says which is which (si_code SI_KERNEL for the
terminal's); elsewhere awsrun guesses from whether it is in the terminal's foreground.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
from collections.abc import Callable, Sequence
from typing import TypeVar

from awsrun.handoff.execute import check_command, command_error, shell_fallback

# Signals awsrun passes on to the command it waits for.
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
# What run_child blocks in every thread and waits for.
_WATCHED = frozenset({*FORWARDED_SIGNALS, signal.SIGCHLD})
# si_code of a signal the kernel sent on its own behalf: the terminal's, to its group.
_SI_KERNEL = 0x80
# How often the wait looks up from sigtimedwait: a signal that a thread took while it ran
# with signals unblocked (with_signals_unblocked) is handled, by the fallback, by then.
_WAKE_SECONDS = 0.25

Result = TypeVar("Result")


def start(command: Sequence[str], environment: dict[str, str]) -> subprocess.Popen[bytes]:
    """The command as a child (Popen restores the signals Python ignores)."""
    check_command(command)
    try:
        # close_fds=False: the caller's inherited descriptors (a make jobserver's) reach
        # the command, as with exec and env(1); awsrun's own are not inheritable.
        return subprocess.Popen(list(command), env=environment, close_fds=False)
    except OSError as error:
        fallback = shell_fallback(command, environment) if error.errno == errno.ENOEXEC else None
        if fallback is None:
            raise command_error(command, error) from None
    try:
        return subprocess.Popen(fallback, env=environment, close_fds=False)
    except OSError as error:
        raise command_error(command, error) from None


def run_child(
    command: Sequence[str], environment: dict[str, str], serve: Callable[[], None]
) -> int:
    """Start the command, then `serve` (which starts threads), and wait for the command;
    its status, or 128+N when signal N killed it."""
    child = start(command, environment)

    def forward_unless_from_terminal(signum: int, _frame: object) -> None:
        if not _terminal_delivered_it(signum):
            child.send_signal(signum)

    previous = {s: signal.signal(s, forward_unless_from_terminal) for s in FORWARDED_SIGNALS}
    try:
        if hasattr(signal, "sigwaitinfo"):
            # Blocked before `serve` starts its threads, which inherit the mask: every
            # signal then waits for sigtimedwait here, with its sender (but one taken by a
            # thread in with_signals_unblocked, which the handler above forwards).
            old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
            try:
                serve()
                returncode = _wait_forwarding(child)
            finally:
                # Still pending ones reach the handler above, not Python's KeyboardInterrupt.
                signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        else:
            serve()
            returncode = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 - returncode if returncode < 0 else returncode


def _wait_forwarding(child: subprocess.Popen[bytes]) -> int:
    while True:
        returncode = child.poll()
        if returncode is not None:
            return returncode
        info = signal.sigtimedwait(_WATCHED, _WAKE_SECONDS)
        if info is None:
            continue  # Python runs the handler of any signal another thread took
        if info.si_signo != signal.SIGCHLD and info.si_code != _SI_KERNEL:
            child.send_signal(info.si_signo)


def with_signals_unblocked(work: Callable[[], Result]) -> Callable[[], Result]:
    """`work`, run without the signals run_child blocks in every thread: a program started
    from the thread inherits its mask, and a credential_process, an mfa_process or a
    browser that a refresh starts would not stop on Ctrl-C, nor see its own children end."""

    def run() -> Result:
        if not hasattr(signal, "pthread_sigmask"):
            return work()
        blocked = signal.pthread_sigmask(signal.SIG_UNBLOCK, _WATCHED)
        try:
            return work()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    return run


def end_helpers() -> None:
    """End what a refresh started and left running (a hung credential_process or
    mfa_process): once the command has been waited for, awsrun's children in its session.
    A browser that webbrowser started in a session of its own stays."""
    session = os.getsid(0)
    for pid, parent, sid in _processes():
        if parent == os.getpid() and sid == session:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)


def still_asking(marker: bytes) -> list[int]:
    """The processes (of this user) whose environment holds `marker`, such as the
    endpoint's token: what the command started and left running. Its pipeline siblings
    (`| tee`) do not have it."""
    found = []
    for pid in _pids():
        if pid == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as environ:
                if marker in environ.read().split(b"\0"):
                    found.append(pid)
        except OSError:
            continue  # another user's, or gone
    return found


def _processes() -> list[tuple[int, int, int]]:
    """(pid, parent pid, session id) of every process /proc shows; none without /proc."""
    found = []
    for pid in _pids():
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command name: state, ppid, pgrp, session.
        found.append((pid, int(fields[1]), int(fields[3])))
    return found


def _pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdecimal()]
    except OSError:
        return []


def _terminal_delivered_it(signum: int) -> bool:
    """Without the sender: Ctrl-C and Ctrl-\\ when awsrun is in the terminal's foreground."""
    if signum not in (signal.SIGINT, signal.SIGQUIT):
        return False
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


__all__ = [
    "FORWARDED_SIGNALS",
    "end_helpers",
    "run_child",
    "start",
    "still_asking",
    "with_signals_unblocked",
]
