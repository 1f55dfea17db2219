"""The on-disk credential cache: one INI file per credential set, private and atomic.

Files are 0600 in a 0700 folder owned by the user; a folder or file that is a symlink,
another user's, or open to group/others is refused (as ssh's StrictModes does) and awsrun
runs without the cache. Writes go to a temporary file in the same folder, then fsync and
os.replace, so a reader sees the old entry or the new one, never half of one. An entry's
mtime is set to its expiry before that rename, so that `awsrun list` can stat it instead
of reading it.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys

from awsrun.config.ini import IniError, parse_ini
from awsrun.credentials.keys import Credentials, iso_utc
from awsrun.privatefiles import make_private_folders, private_problem
from awsrun.report import Reporter

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from contextlib import AbstractContextManager

    from awsrun.config.chain import Identity

# Version 1 was JSON, in `KEY.json` files; 2 is the INI of the AWS credentials file, which
# awsrun reads anyway: importing json costs a cache hit more than half of Python's start.
# 3 ends with `end = KEY`, so that a file cut short at any byte is a miss.
ENTRY_VERSION = 3
_ENTRY_SECTION = "awsrun-entry"
# STS never issues credentials that last longer than 36 hours: a later expiry is a forged
# or corrupt entry, not a lucky one.
MAX_LIFETIME_SECONDS = 36 * 3600
DEFAULT_LOCK_TIMEOUT_SECONDS = 120.0


# CPython's own SHA-256, which hashlib falls back to; importing hashlib loads OpenSSL, which
# costs a cache hit a quarter of the interpreter's start-up time.
try:
    if sys.version_info >= (3, 12):
        from _sha2 import sha256 as _sha256  # type: ignore[import-not-found, unused-ignore]
    else:
        from _sha256 import sha256 as _sha256  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # a Python built without them
    from hashlib import sha256 as _sha256  # type: ignore[assignment, unused-ignore]


def entry_key(identity: Identity) -> str:
    """The file name stem for a credential set: a SHA-256 of what decides which credentials
    these are (never of a secret)."""
    # marshal's version 0 writes an Identity (str, None, tuples) by value alone: no
    # back-references and no interning flags, so equal identities give equal bytes. It is
    # three times as fast as repr, and `awsrun list` hashes one identity per profile.
    return str(_sha256(marshal.dumps(identity, 0)).hexdigest())


class CachedEntry:
    __slots__ = ("credentials", "holds", "obtained_at", "profile")

    def __init__(
        self, credentials: Credentials, obtained_at: float, profile: str, holds: str | None = None
    ) -> None:
        self.credentials = credentials
        self.obtained_at = obtained_at
        self.profile = profile
        # What the entry holds when that is not the profile's credentials (an MFA session
        # shared by many profiles), for people who look and for `awsrun clear --all`.
        self.holds = holds

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CachedEntry) and (
            self.credentials,
            self.obtained_at,
            self.profile,
        ) == (other.credentials, other.obtained_at, other.profile)

    def __hash__(self) -> int:
        return hash((self.credentials, self.obtained_at, self.profile))


class Cache:
    def __init__(self, directory: str, reporter: Reporter) -> None:
        self.directory = directory
        self._entry_prefix = os.path.join(directory, "")  # `awsrun list` builds 1,000 paths
        self._reporter = reporter
        self._refused = False
        self._checked = False

    def _refuse(self, path: str, problem: str, fix: str) -> None:
        self._refused = True
        self._reporter.warn(f"not using the cache: {path} {problem}; {fix}")

    def _unwritable(self, error: OSError) -> None:
        # Once per run: a read-only or full file system fails the lock and the write alike.
        self._refuse(
            self.directory,
            f"cannot be written ({error.strerror})",
            "set AWSRUN_CACHE_DIR to a writable folder",
        )

    def _directory_ok(self, *, create: bool) -> bool:
        if self._refused:
            return False
        if self._checked:  # the folder was found safe once in this run
            return True
        try:
            st = os.lstat(self.directory)
        except FileNotFoundError:
            if not create:
                return False
            try:
                make_private_folders(self.directory)
                st = os.lstat(self.directory)
            except OSError as error:
                self._refuse(
                    self.directory,
                    f"cannot be created ({error.strerror})",
                    "set AWSRUN_CACHE_DIR to a writable folder",
                )
                return False
        except OSError as error:  # a path component is a file, no permission, ...
            self._refuse(
                self.directory,
                f"cannot be used ({error.strerror})",
                "set AWSRUN_CACHE_DIR to a writable folder",
            )
            return False
        problem = private_problem(st, want_dir=True)
        if problem:
            if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid():  # only its mode is wrong
                fix = f"fix it with `chmod 700 {self.directory}` or remove it"
            else:  # chmod would follow a symlink, and cannot give the folder back
                fix = "remove it (awsrun makes it again), or set AWSRUN_CACHE_DIR elsewhere"
            self._refuse(self.directory, problem, fix)
            return False
        self._checked = True
        return True

    def _ignore(self, path: str, why: str) -> None:
        self._reporter.warn(f"ignoring cache entry {path}: {why}")

    def is_usable(self) -> bool:
        """The folder exists and is safe to keep secrets in (warns once when it is not)."""
        return self._directory_ok(create=False)

    def path(self, key: str) -> str:
        return f"{self._entry_prefix}{key}.ini"

    def read(self, key: str, now: float) -> CachedEntry | None:
        """The entry for `key`, or None when there is none or it cannot be trusted."""
        if not self._directory_ok(create=False):
            return None
        path = self.path(key)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as error:
            self._ignore(path, error.strerror or str(error))
            return None
        try:
            problem = private_problem(os.fstat(fd), want_dir=False)
            if problem:
                self._ignore(path, f"it {problem}; remove it")
                return None
            raw = os.read(fd, 1 << 16)
        finally:
            os.close(fd)
        entry = _decode(raw, key, now)
        if entry is None:
            self._reporter.info(f"cache entry {path} is unreadable; fetching new credentials")
        return entry

    def expiry(self, key: str, now: float) -> float | None:
        """When the entry for `key` expires, or None when there is none or it cannot be
        trusted. From the file's mtime, where awsrun's own write set it to the expiry, so
        that `awsrun list` needs one stat per entry rather than a read and a parse."""
        if not self._directory_ok(create=False):
            return None
        path = self.path(key)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        except OSError as error:
            self._ignore(path, error.strerror or str(error))
            return None
        problem = private_problem(st, want_dir=False)
        if problem:
            self._ignore(path, f"it {problem}; remove it")
            return None
        # awsrun's write leaves an mtime (the expiry) later than the ctime (the write). Any
        # other write (an editor, `touch`, a plain copy) leaves the mtime no later than the
        # ctime: then what the file holds is read and checked.
        if st.st_ctime < st.st_mtime <= now + MAX_LIFETIME_SECONDS:
            return st.st_mtime
        entry = self.read(key, now)
        return None if entry is None else entry.credentials.expires_at

    def write(self, key: str, entry: CachedEntry) -> None:
        """Store `entry`; a failure is a warning, since the command can run without the cache."""
        if not self._directory_ok(create=True):
            return
        import tempfile
        from contextlib import suppress

        payload = _encode(key, entry)
        try:
            # mkstemp: O_EXCL and mode 0600 from the start, in the cache folder itself.
            fd, temporary = tempfile.mkstemp(
                prefix=f".{key[:16]}.", suffix=".tmp", dir=self.directory
            )
        except OSError as error:
            self._unwritable(error)
            return
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                # The expiry as the mtime, for Cache.expiry: the whole seconds ExpiresAt holds.
                times = (entry.obtained_at, int(entry.credentials.expires_at or 0))
                os.utime(handle.fileno() if os.utime in os.supports_fd else temporary, times)
                os.fsync(handle.fileno())
            os.replace(temporary, self.path(key))
        except OSError as error:
            self._unwritable(error)
            with suppress(FileNotFoundError):
                os.unlink(temporary)

    def delete(self, key: str) -> bool:
        """Remove the entry for `key`; never through a folder that reads refuse."""
        if not self._directory_ok(create=False):
            return False
        try:
            os.unlink(self.path(key))
        except FileNotFoundError:
            return False
        return True

    def lock(
        self,
        key: str,
        timeout: float,
        stop_waiting: Callable[[], bool],
        waiting: Callable[[int | None, str | None], None] | None = None,
        why: str = "an MFA prompt in another terminal?",
    ) -> AbstractContextManager[bool]:
        """Hold the entry's lock (see awsrun.credentials.locks); yields False when
        `stop_waiting()` ended the wait. Without a usable cache folder, there is nothing to
        lock: yields True."""
        from contextlib import contextmanager  # a miss only: contextlib loads collections

        return contextmanager(self._held)(key, timeout, stop_waiting, waiting, why)

    def _held(
        self,
        key: str,
        timeout: float,
        stop_waiting: Callable[[], bool],
        waiting: Callable[[int | None, str | None], None] | None,
        why: str,
    ) -> Iterator[bool]:
        if not self._directory_ok(create=True):
            yield True
            return
        from awsrun.credentials import locks

        lock_path = os.path.join(self.directory, f"{key}.lock")
        try:
            with locks.hold(lock_path, timeout, stop_waiting, waiting, why) as held:
                yield held
        except OSError as error:
            if error.filename != lock_path:
                raise
            self._unwritable(error)
            yield True


def _encode(key: str, entry: CachedEntry) -> bytes:
    credentials = entry.credentials
    fields = {
        "version": str(ENTRY_VERSION),
        "key": key,
        # For people who look; a line break would end the value early.
        "profile": entry.profile.replace("\n", " "),
        "holds": None if entry.holds is None else entry.holds.replace("\n", " "),
        "obtained_at": str(int(entry.obtained_at)),
        # Seconds since the epoch for awsrun (no date parsing on a cache hit), and the same
        # instant as ISO 8601 for people and for the command's AWS_CREDENTIAL_EXPIRATION.
        "expires_at": str(int(credentials.expires_at or 0)),
        "expiration": credentials.expiration_iso,
        "aws_access_key_id": credentials.access_key_id,
        "aws_secret_access_key": credentials.secret_access_key,
        "aws_session_token": credentials.session_token,
        # Last: a file that has it whole has everything before it.
        "end": key,
    }
    lines = [f"[{_ENTRY_SECTION}]"]
    lines += [f"{name} = {value}" for name, value in fields.items() if value is not None]
    return ("\n".join(lines) + "\n").encode()


def _decode(raw: bytes, key: str, now: float) -> CachedEntry | None:
    """The entry in `raw`, or None for anything truncated, foreign, or of another version."""
    try:
        fields = parse_ini(raw.decode())[_ENTRY_SECTION]
    except (UnicodeDecodeError, IniError, KeyError):
        return None
    if fields.get("version") != str(ENTRY_VERSION) or fields.get("key") != key:
        return None  # another version, or a file copied over from another entry's name
    if next(reversed(fields)) != "end" or fields["end"] != key:
        return None  # cut short: the last field is missing or incomplete
    access_key_id = fields.get("aws_access_key_id")
    secret = fields.get("aws_secret_access_key")
    expires_text = fields.get("expires_at", "")
    obtained_text = fields.get("obtained_at", "")
    if not (access_key_id and secret and expires_text.isdecimal() and obtained_text.isdecimal()):
        return None
    expires_at = int(expires_text)
    if expires_at - now > MAX_LIFETIME_SECONDS:
        return None
    # Both spellings of the expiry must agree, or the file was edited or damaged.
    if fields.get("expiration") != iso_utc(expires_at):
        return None
    credentials = Credentials(access_key_id, secret, fields.get("aws_session_token"), expires_at)
    return CachedEntry(credentials, int(obtained_text), fields.get("profile", ""))


__all__ = [
    "DEFAULT_LOCK_TIMEOUT_SECONDS",
    "ENTRY_VERSION",
    "MAX_LIFETIME_SECONDS",
    "Cache",
    "CachedEntry",
    "entry_key",
]
