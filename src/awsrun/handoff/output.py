"""`awsrun env --output FILE`: the variables in a file only the user can read, written
atomically, so that a `.env` for docker or a CI step never holds keys open to others and
a failed run leaves the file as it was."""

from __future__ import annotations

from awsrun.errors import ConfigError
from awsrun.privatefiles import write_private as write_atomically


def write_private(path: str, text: str) -> None:
    """`text` as the whole of `path`, mode 0600 from the first byte; the old file (or
    none) until the new one is complete. A symlink at `path` is replaced, not followed."""
    try:
        write_atomically(path, text.encode("utf-8"))
    except OSError as error:
        raise ConfigError(f"--output: cannot write {path} ({error.strerror})") from None


__all__ = ["write_private"]
