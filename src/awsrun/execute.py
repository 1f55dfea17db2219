"""The exec boundary: the one place awsrun becomes the command."""

from __future__ import annotations

import os
import sys

from awsrun.errors import CommandNotExecutable, CommandNotFound

TYPE_CHECKING = False  # as in broker.py: imports for annotations stay off the cache-hit path
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import NoReturn


def exec_command(argv: Sequence[str], environment: Mapping[str, str]) -> NoReturn:
    """Replace this process with `argv`: it keeps awsrun's PID, terminal, signals and stdio,
    and its exit status is the command's own."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(argv[0], list(argv), dict(environment))  # noqa: S606 - no shell, by design
    except FileNotFoundError:
        raise CommandNotFound(f"{argv[0]}: command not found (check PATH)") from None
    except PermissionError:
        raise CommandNotExecutable(f"{argv[0]}: permission denied (is it executable?)") from None
    except OSError as error:
        raise CommandNotExecutable(f"{argv[0]}: cannot run it: {error.strerror}") from None


__all__ = ["exec_command"]
