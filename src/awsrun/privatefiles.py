"""Files only the user can read, in folders only the user can enter: the cache, the SSO token
store, the console page, `env --output`, the stored-keys index and key file.

The checks are ssh's StrictModes: a path that is a symlink, another user's, or open to
group/others is not safe to keep a secret in. On the cache-hit path.
"""

from __future__ import annotations

import os
import stat

_FILE_KIND_BITS = 0o170000  # what stat.S_IFMT() keeps of st_mode


def make_private_folders(path: str) -> None:
    """os.makedirs with every folder made on the way 0700, whatever the umask: makedirs
    gives its mode to the last folder only."""
    previous_umask = os.umask(0o077)
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    finally:
        os.umask(previous_umask)


def private_problem(st: os.stat_result, *, want_dir: bool) -> str | None:
    """Why a path is not safe to keep secrets in, or None when it is."""
    # The usual answer first, in one test: the right kind of file, closed to group/others.
    if (
        st.st_mode & (_FILE_KIND_BITS | 0o077) == (stat.S_IFDIR if want_dir else stat.S_IFREG)
        and st.st_uid == os.geteuid()
    ):
        return None
    if stat.S_ISLNK(st.st_mode):
        return "is a symlink"
    if want_dir and not stat.S_ISDIR(st.st_mode):
        return "is not a folder"
    if not want_dir and not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    if st.st_uid != os.geteuid():
        return "is owned by another user"
    if st.st_mode & 0o077:
        return f"is open to group or others (mode {stat.S_IMODE(st.st_mode):o})"
    return None


def write_private(path: str, data: bytes, *, mode: int = 0o600) -> None:
    """`data` as the whole of `path`, mode 0600 from the first byte (then `mode`, for a file
    that keeps its own); the old file (or none) until the new one is complete and on disk.
    A symlink at `path` is replaced, not followed. Raises OSError; the file is then as it
    was, and no temporary copy is left."""
    import tempfile  # never on a cache hit

    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".awsrun-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if mode != 0o600:
                os.fchmod(handle.fileno(), mode)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


__all__ = ["make_private_folders", "private_problem", "write_private"]
