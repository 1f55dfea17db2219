"""What awsrun says on stderr: warnings always, progress with -v. Never a secret."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from typing import TextIO


class Reporter:
    def __init__(self, *, verbose: bool = False, stream: TextIO | None = None) -> None:
        self.verbose = verbose
        self._stream = stream
        self._said: set[str] = set()

    def _write(self, message: str) -> None:
        stream = self._stream or sys.stderr
        stream.write(f"awsrun: {message}\n")
        stream.flush()

    def info(self, message: str) -> None:
        """Progress, shown with -v/--verbose."""
        if self.verbose:
            self._write(message)

    def warn(self, message: str) -> None:
        """Something the user should know even without -v; each text at most once per run."""
        if message not in self._said:
            self._said.add(message)
            self._write(message)


__all__ = ["Reporter"]
