"""`awsrun list` and `awsrun clear`: what the config files hold and what the cache has for
each profile, read without boto3 and without a network call."""

from __future__ import annotations

import os
import sys
import time

from awsrun.config.chain import Boto3Profile, CredentialSource, StaticKeys, StoredKeys
from awsrun.config.files import ConfigFiles, load_config_files
from awsrun.config.resolve import resolve_chain
from awsrun.credentials.cache import Cache, entry_key
from awsrun.durations import format_duration
from awsrun.errors import ConfigError, UsageError
from awsrun.folders import cache_dir

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from awsrun.commands.invocation import Invocation
    from awsrun.report import Reporter


class ProfileStatus:
    """One row of `awsrun list`."""

    __slots__ = (
        "error", "expires_at", "kind", "mfa_ends_at", "name", "region", "source", "sso", "sso_left",
    )  # fmt: skip

    def __init__(self, name: str) -> None:
        self.name = name
        # The IAM Identity Center session the profile signs in to, and its token's time.
        self.sso: str | None = None
        self.sso_left: float | None = None
        self.kind = "invalid"
        self.source: str | None = None
        self.region: str | None = None
        self.expires_at: float | None = None
        self.error: str | None = None
        # When the cached MFA session behind the profile ends.
        self.mfa_ends_at: float | None = None

    def as_json(self, now: float) -> dict[str, object]:
        left = None if self.expires_at is None else max(0, int(self.expires_at - now))
        return {
            "profile": self.name,
            "kind": self.kind,
            "source": self.source,
            "region": self.region,
            "cached": left is not None and left > 0,
            "seconds_left": left,
            "error": self.error,
            "sso_session": self.sso,
            "sso_token_seconds_left": None if self.sso_left is None else max(0, int(self.sso_left)),
            "mfa_session_seconds_left": (
                None if self.mfa_ends_at is None else max(0, int(self.mfa_ends_at - now))
            ),
        }


def _describe(name: str, files: ConfigFiles, cache: Cache, now: float) -> ProfileStatus:
    status = ProfileStatus(name)
    try:
        chain = resolve_chain(name, files)
    except ConfigError as error:
        status.error = str(error)
        return status
    status.region = chain.region
    root = chain.root
    if chain.hops:
        status.kind = "role"
        if len(chain.hops) > 1:
            status.source = chain.hops[-2].profile
        elif isinstance(root, CredentialSource):
            status.source = f"credential_source {root.source}"
        else:
            status.source = root.profile
    elif isinstance(root, Boto3Profile):
        status.kind = root.kind
    else:
        assert isinstance(root, StaticKeys)
        stored = isinstance(root, StoredKeys)
        status.kind = ("stored" if stored else "static") + ("+mfa" if chain.mfa_serial else "")
        status.source = _where_keys_are(root, files)
    if isinstance(root, Boto3Profile) and root.kind == "sso":
        _sso_status(status, root.profile, files, now)
    identities = chain.identities()
    if identities[-1] is not None:
        status.expires_at = cache.expiry(entry_key(identities[-1]), now)
    if chain.mfa_serial is not None:
        from awsrun.credentials.session_end import mfa_session_end

        end = mfa_session_end(chain, identities[1], cache, now)
        status.mfa_ends_at = None if end is None else end.ends_at
    return status


def _shortened(error: str, name: str, files: str, limit: int = 90) -> str:
    """An error fit for a table cell; `awsrun list --json` has it whole."""
    reason = error.removeprefix(f"profile {name!r} ")
    if files:
        reason = reason.replace(files, "the config files")
    return reason if len(reason) <= limit else reason[: limit - 3] + "..."


def _sso_status(status: ProfileStatus, root: str, files: ConfigFiles, now: float) -> None:
    from awsrun.credentials.sso_tokens import read_token, seconds_left, session_of

    try:
        session = session_of(root, files.profiles[root], files.sso_sessions)
    except ConfigError as error:
        status.error = str(error)
        return
    status.sso = session.name or session.start_url
    status.sso_left = seconds_left(read_token(session), now)


def _where_keys_are(root: StaticKeys, files: ConfigFiles) -> str:
    if isinstance(root, StoredKeys):
        return f"keyring: {root.backend}"
    in_credentials = "aws_access_key_id" in files.credentials_sections.get(root.profile, {})
    return "credentials file" if in_credentials else "config file"


def survey(files: ConfigFiles, cache: Cache, now: float) -> list[ProfileStatus]:
    # Profiles of stored keys need no section in the files.
    names = sorted({*files.profiles, *files.stored_keys()})
    return [_describe(name, files, cache, now) for name in names]


def _sessions_table(statuses: Iterable[ProfileStatus]) -> str:
    """The SSO sessions the profiles sign in to, and how long each token has left."""
    sessions = {status.sso: status.sso_left for status in statuses if status.sso}
    if not sessions:
        return ""
    rows = [("SSO SESSION", "TOKEN")]
    for name, left in sorted(sessions.items()):
        if left is None:
            state = "not signed in (awsrun login)"
        elif left <= 0:
            state = "expired (awsrun login)"
        else:
            state = f"{format_duration(left)} left"
        rows.append((_escaped(name), state))
    width = max(len(name) for name, _ in rows)
    return "\n" + "".join(f"{name:<{width}}  {state}\n" for name, state in rows)


def render_table(statuses: Iterable[ProfileStatus], now: float, files: str = "") -> str:
    rows = [("PROFILE", "KIND", "FROM", "REGION", "CACHED")]
    for status in statuses:
        if status.error:
            cached = "error: " + _shortened(status.error, status.name, files)
        elif status.expires_at is None:
            cached = "-"
        elif status.expires_at <= now:
            cached = "expired"
        else:
            cached = f"{format_duration(status.expires_at - now)} left"
        if status.mfa_ends_at is not None and status.mfa_ends_at > now and not status.error:
            cached += f" (MFA session {format_duration(status.mfa_ends_at - now)} left)"
        source, region = status.source or "-", status.region or "-"
        rows.append(
            (_escaped(status.name), status.kind, _escaped(source), region, _escaped(cached))
        )
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    # One format for every row: each of the first four columns padded to its widest cell.
    line = "  ".join(f"{{{column}:<{width}}}" for column, width in enumerate(widths)) + "  {4}"
    return "\n".join(line.format(*row).rstrip() for row in rows) + "\n"


def _escaped(text: str) -> str:
    """`text` with control characters shown as escapes: a profile name with an escape
    sequence in it must not reach the terminal raw."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def render_json(statuses: Iterable[ProfileStatus], now: float) -> str:
    import json  # only for --json: the import costs the table more than its rows do

    return json.dumps([status.as_json(now) for status in statuses], indent=2) + "\n"


def clear(
    files: ConfigFiles, cache: Cache, profiles: Iterable[str], *, include_mfa: bool
) -> list[str]:
    """Remove the named profiles' entries (and their MFA sessions'); one line for each."""
    said: list[str] = []
    for name in profiles:
        chain = resolve_chain(name, files)
        identities = chain.identities()
        wanted = [(identities[-1], f"profile {name!r}")]
        session = chain.mfa_session_name
        if include_mfa and session is not None:
            # After the root: the MFA session, shared by every role on that device.
            wanted.append((identities[1], session))
        for identity, whose in wanted:
            if identity is None:
                continue
            key = entry_key(identity)
            if cache.delete(key):
                said.append(f"removed {cache.path(key)} ({whose})")
                _remove_if_unused(os.path.join(cache.directory, f"{key}.lock"))
    return said


def clear_all(cache: Cache) -> list[str]:
    """Remove every file awsrun itself writes in its cache folder, and nothing else; one
    line per entry, and one for the lock files."""
    said: list[str] = []
    if not cache.is_usable():  # never delete through a symlinked or foreign folder
        return said
    try:
        names = sorted(os.listdir(cache.directory))
    except FileNotFoundError:
        return said
    locks_removed = locks_in_use = 0
    for name in filter(_is_awsruns_own, names):
        path = os.path.join(cache.directory, name)
        if name.endswith(".lock"):
            if _remove_if_unused(path):
                locks_removed += 1
            else:
                locks_in_use += 1
            continue
        whose = _entry_holds(path)
        os.unlink(path)
        said.append(f"removed {path}" + (f" ({whose})" if whose else ""))
    if locks_removed:
        said.append(f"removed {_count(locks_removed, 'unused lock file')}")
    if locks_in_use:
        said.append(f"kept {_count(locks_in_use, 'lock file')} in use by a running awsrun")
    return said


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _entry_holds(path: str) -> str | None:
    """What an entry holds, as the entry says (for people only): what `clear PROFILE`
    and `clear --mfa` call it too."""
    found: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as entry:
            for line in entry:
                name, _, value = line.partition(" = ")
                found[name] = value.strip()
    except OSError:
        return None
    if "holds" in found:
        return _escaped(found["holds"])
    return f"profile {found['profile']!r}" if "profile" in found else None


def _remove_if_unused(path: str) -> bool:
    """Remove a lock file that no process holds. One that a process opened but has not
    locked yet may go too: that costs at most one more STS call, never a wrong answer."""
    if os.name != "posix":
        return False  # no flock to ask with: keep it
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    try:
        os.unlink(path)
    except OSError:
        return False
    finally:
        os.close(fd)  # and with it the lock
    return True


def run_list(invocation: Invocation, environ: Mapping[str, str], reporter: Reporter) -> int:
    if invocation.words:
        raise UsageError(f"awsrun list takes no profile: drop {invocation.words[0]!r}")
    flags = invocation.flags
    files = load_config_files(environ)
    if "names" in flags:  # for the completion scripts: fast, plain
        names = sorted({*files.profiles, *files.stored_keys()})
        sys.stdout.write("".join(f"{name}\n" for name in names))
        return 0
    if not files.profiles and not files.stored_keys() and "json" not in flags:
        sys.stdout.write(
            f"no profiles in {files.describe()} (set AWS_CONFIG_FILE, or run `aws configure`)\n"
        )
        return 0
    now = time.time()
    statuses = survey(files, Cache(cache_dir(environ), reporter), now)
    if "json" in flags:
        sys.stdout.write(render_json(statuses, now))
    else:
        sys.stdout.write(render_table(statuses, now, files.describe()) + _sessions_table(statuses))
    return 0


def run_clear(invocation: Invocation, environ: Mapping[str, str], reporter: Reporter) -> int:
    names, flags = invocation.words, invocation.flags
    cache = Cache(cache_dir(environ), reporter)
    if "all" in flags:
        if names:
            raise UsageError("awsrun clear takes --all or profiles, not both")
        said = clear_all(cache)
    elif names:
        said = clear(load_config_files(environ), cache, names, include_mfa="mfa" in flags)
    else:
        mfa = "whose MFA sessions " if "mfa" in flags else ""
        raise UsageError(
            f"name the profiles {mfa}to clear (awsrun clear {'--mfa ' if mfa else ''}PROFILE...),"
            " or --all for everything awsrun has cached"
        )
    sys.stdout.write("".join(f"{line}\n" for line in said))
    if not said:
        sys.stdout.write(f"nothing to remove in {cache.directory}\n")
    return 0


def _is_awsruns_own(name: str) -> bool:
    stem, _, suffix = name.partition(".")
    if suffix in ("ini", "lock", "json"):  # .json: entries of version 1
        return len(stem) == 64 and all(char in "0123456789abcdef" for char in stem)
    # mkstemp leftovers of a write that was killed: `.<16 hex>.<random>.tmp`
    return not stem and name.endswith(".tmp") and len(name.split(".")) == 4


__all__ = [
    "ProfileStatus",
    "clear",
    "clear_all",
    "render_json",
    "render_table",
    "run_clear",
    "run_list",
    "survey",
]
