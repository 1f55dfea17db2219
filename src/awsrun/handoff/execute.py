"""The exec boundary: the one place awsrun becomes the command, and how any path that starts
the command behaves as env(1) does."""

from __future__ import annotations

import errno
import os
import sys

from awsrun.errors import AwsrunError, CommandNotExecutable, CommandNotFound

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import NoReturn

# Python ignores these at start-up, and an ignored signal stays ignored across exec: a
# command would then never die of a closed pipe (`yes | head -1` in a recipe). subprocess's
# restore_signals resets the same ones.
_IGNORED_BY_PYTHON = ("SIGPIPE", "SIGXFZ", "SIGXFSZ")


def restore_signals() -> None:
    # The C module under `signal`: importing `signal` loads enum, which costs a cache hit
    # a third of the interpreter's start-up.
    import _signal  # type: ignore[import-not-found, unused-ignore]

    for name in _IGNORED_BY_PYTHON:
        number = getattr(_signal, name, None)
        if number is not None:
            _signal.signal(number, _signal.SIG_DFL)


# Words a shell runs itself: there is no program of that name to exec.
_SHELL_BUILTINS = frozenset({
    ".", "alias", "cd", "declare", "eval", "export", "history", "local", "popd", "pushd",
    "readonly", "set", "shopt", "source", "typeset", "ulimit", "umask", "unalias", "unset",
})  # fmt: skip


def command_error(argv: Sequence[str], error: OSError) -> AwsrunError:
    """What env(1) would say when the command cannot be started (127 or 126), with the
    likely slip named: a missing file, a shell builtin, a command line in one word."""
    if isinstance(error, FileNotFoundError):
        return CommandNotFound(_not_found(argv[0]))
    if isinstance(error, PermissionError):
        return CommandNotExecutable(f"{argv[0]}: permission denied (is it executable?)")
    return CommandNotExecutable(f"{argv[0]}: cannot run it: {error.strerror}")


def _not_found(name: str) -> str:
    import shlex
    import shutil

    if "/" in name and not os.path.lexists(name):
        return f"{name}: no such file"
    if name in _SHELL_BUILTINS:
        return (
            f"{name}: a shell builtin, not a program: run it in a shell "
            f"(-- sh -c {shlex.quote(name + ' ...')})"
        )
    words = name.split()
    if len(words) > 1 and shutil.which(words[0]):
        return f"{name!r}: a whole command line in one word: drop the quotes around it (-- {name})"
    return f"{name}: command not found (check PATH)"


def shell_fallback(argv: Sequence[str], environment: Mapping[str, str]) -> list[str] | None:
    """For a command that the kernel refused as not a program (ENOEXEC: a script without
    `#!`), the argv that runs it through /bin/sh, as execvp(3) and env(1) do."""
    import shutil

    if "/" in argv[0]:
        script: str | None = argv[0]
    else:
        search = os.pathsep.join(os.get_exec_path(dict(environment)))
        script = shutil.which(argv[0], path=search)
    return None if script is None else ["/bin/sh", script, *argv[1:]]


def check_command(argv: Sequence[str]) -> None:
    """Refuse what no exec call can run, as env(1) would (127)."""
    if not argv[0]:  # os.exec* would raise ValueError; env(1) says "No such file"
        raise CommandNotFound("'': command not found (the command is an empty word)")


def exec_command(argv: Sequence[str], environment: Mapping[str, str]) -> NoReturn:
    """Replace this process with `argv`: it keeps awsrun's PID, terminal and stdio, the
    signal dispositions it had before Python started, and its exit status is the command's."""
    sys.stdout.flush()
    sys.stderr.flush()
    check_command(argv)
    restore_signals()
    environ = dict(environment)
    try:
        os.execvpe(argv[0], list(argv), environ)  # noqa: S606 - no shell, by design
    except OSError as error:
        fallback = shell_fallback(argv, environ) if error.errno == errno.ENOEXEC else None
        if fallback is None:
            raise command_error(argv, error) from None
    try:
        os.execve(fallback[0], fallback, environ)  # noqa: S606 - /bin/sh runs a file, as env(1)
    except OSError as error:
        raise command_error(argv, error) from None


__all__ = ["check_command", "command_error", "exec_command", "restore_signals", "shell_fallback"]
