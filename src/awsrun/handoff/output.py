"""`awsrun env --output FILE`: the variables in a file only the user can read, written
atomically, so that a `.env` for docker or a CI step never holds keys open to others and
a failed run leaves the file as it was."""

from __future__ import annotations

import os
import tempfile

from awsrun.errors import ConfigError


def write_private(path: str, text: str) -> None:
    """`text` as the whole of `path`, mode 0600 from the first byte; the old file (or
    none) until the new one is complete. A symlink at `path` is replaced, not followed."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=".awsrun-env-", suffix=".tmp", dir=folder)
    except OSError as error:
        raise ConfigError(f"--output: cannot write in {folder} ({error.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        os.unlink(temporary)
        raise ConfigError(f"--output: cannot write {path} ({error.strerror})") from None


__all__ = ["write_private"]
