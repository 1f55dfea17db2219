"""The IAM Identity Center token store the AWS CLI v2 and the SDKs share, and which session
a profile signs in with.

A token lives in `~/.aws/sso/cache/<sha1>.json`, the SHA-1 of the `sso-session` name (or of
the start URL for a legacy profile), with the AWS CLI v2's field names. awsrun reads and
writes that file, so one sign-in serves awsrun, `aws`, boto3 and Terraform alike. The
folders must be the user's own and closed to others: a token there is a sign-in.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

from awsrun.credentials.keys import parse_iso
from awsrun.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from awsrun.config.chain import Chain
    from awsrun.config.files import ConfigFiles

# botocore refreshes a token with its refresh token within this margin of its expiry.
USABLE_MARGIN_SECONDS = 60


class SsoSession:
    """Where a profile signs in: an `[sso-session NAME]` section, or a legacy profile's own
    `sso_start_url` and `sso_region`."""

    __slots__ = ("name", "oidc_endpoint", "portal_endpoint", "region", "scopes", "start_url")

    def __init__(self, name: str | None, start_url: str, region: str, scopes: str) -> None:
        self.name = name
        self.start_url = start_url
        self.region = region
        self.scopes = scopes
        # The sso-oidc (sign-in) and sso (portal) endpoints configured for the profile in
        # use; None: botocore's own.
        self.oidc_endpoint: str | None = None
        self.portal_endpoint: str | None = None

    @property
    def label(self) -> str:
        return f"SSO session {self.name!r}" if self.name else f"SSO start URL {self.start_url}"

    @property
    def cache_path(self) -> str:
        key = hashlib.sha1(  # noqa: S324 - a file name the AWS CLI chose, not security
            (self.name or self.start_url).encode()
        ).hexdigest()
        return os.path.join(os.path.expanduser("~"), ".aws", "sso", "cache", f"{key}.json")

    def registration_path(self, flow: str) -> str:
        """awsrun's client registration for one sign-in flow, beside the token: a
        registration has the grants of the flow it was made for, and botocore rewrites the
        token file without any field of awsrun's when it refreshes the token."""
        key = hashlib.sha256(f"awsrun-registration:{flow}:{self.cache_path}".encode()).hexdigest()
        return os.path.join(os.path.dirname(self.cache_path), f"awsrun-{key}.json")


def session_of(
    profile: str,
    settings: Mapping[str, str],
    sessions: Mapping[str, Mapping[str, str]],
) -> SsoSession:
    """The sign-in that `profile` needs, as botocore's SSO provider reads it."""
    name = settings.get("sso_session")
    if name is not None:
        section = sessions.get(name)
        if section is None:
            raise ConfigError(
                f"profile {profile!r} names sso_session {name!r}, but the config file has "
                f"no [sso-session {name}] section"
            )
        values = section
    else:
        values = settings
    missing = [key for key in ("sso_start_url", "sso_region") if not values.get(key)]
    if missing:
        where = f"[sso-session {name}]" if name else f"profile {profile!r}"
        raise ConfigError(f"{where} has no {' or '.join(missing)}: add it to sign in")
    return SsoSession(
        name,
        values["sso_start_url"],
        values["sso_region"],
        values.get("sso_registration_scopes", "sso:account:access"),
    )


def read_token(session: SsoSession) -> dict[str, Any] | None:
    """The stored token, or None: no file, not a regular file (a FIFO would block), not
    JSON, or in a folder that is not safe (see token_folder_problem)."""
    return _read_json(session.cache_path)


def read_registration(session: SsoSession, flow: str) -> dict[str, Any] | None:
    """The client registration kept for `flow`, or None (as read_token)."""
    return _read_json(session.registration_path(flow))


def _read_json(path: str) -> dict[str, Any] | None:
    import stat

    if token_folder_problem(os.path.dirname(path)) is not None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            token = json.loads(handle.read(1 << 20))
    except (OSError, ValueError):
        return None
    return token if isinstance(token, dict) else None


def token_folder_problem(folder: str) -> str | None:
    """Why the token folder is not safe to read tokens from or write them to, with the
    fix; None when it is safe or not there yet. Another user who can write to it, or to
    `~/.aws` above it, could swap in a folder of theirs and receive the next token. A 0755
    folder, as the AWS CLI makes it, is safe: tokens are shared with the CLI."""
    import stat

    for path, follow in ((folder, False), *((parent, True) for parent in _parents(folder))):
        try:
            st = os.stat(path) if follow else os.lstat(path)
        except FileNotFoundError:
            continue
        except OSError as error:
            return f"{path} cannot be used ({error.strerror})"
        if stat.S_ISLNK(st.st_mode):
            return f"{path} is a symlink: remove it (awsrun makes the folder again)"
        if st.st_uid != os.geteuid():
            return f"{path} is owned by another user: remove it, or chown it to yourself"
        if st.st_mode & 0o022:
            mode = stat.S_IMODE(st.st_mode)
            return f"{path} is writable by group or others (mode {mode:o}): chmod go-w {path}"
    return None


def _parents(folder: str) -> list[str]:
    """`~/.aws/sso` and `~/.aws` above `~/.aws/sso/cache`."""
    sso = os.path.dirname(folder)
    return [sso, os.path.dirname(sso)]


def seconds_left(token: Mapping[str, Any] | None, now: float) -> float | None:
    """How long the token's access token lasts; None when there is none to read."""
    return seconds_until(token.get("expiresAt") if token else None, now)


def seconds_until(when: object, now: float) -> float | None:
    """Seconds from `now` to an ISO 8601 time in a token file; None if it is not one."""
    if not isinstance(when, str):
        return None
    try:
        return parse_iso(when) - now
    except ValueError:
        return None


def usable_without_sign_in(session: SsoSession, now: float) -> bool:
    """The token is valid, or botocore can refresh it (a session-style token with a refresh
    token and a registration that has not expired)."""
    token = read_token(session)
    left = seconds_left(token, now)
    if left is None:
        return False
    if left > USABLE_MARGIN_SECONDS:
        return True
    assert token is not None
    return refreshable(session, token, now)


def refreshable(session: SsoSession, token: Mapping[str, Any], now: float) -> bool:
    """botocore can renew the token without the user: a session's, with a refresh token and
    a client registration that has not expired."""
    registration_left = seconds_until(token.get("registrationExpiresAt"), now)
    return bool(
        session.name and token.get("refreshToken") and registration_left and registration_left > 0
    )


def write_token(session: SsoSession, token: Mapping[str, Any]) -> None:
    """Write the token where the AWS CLI v2 and the SDKs look: 0600, atomically."""
    _write_json(session, session.cache_path, token, "the sign-in token")


def write_registration(session: SsoSession, flow: str, registration: Mapping[str, Any]) -> None:
    """Keep the client registration for `flow` (0600, atomically, beside the token)."""
    _write_json(session, session.registration_path(flow), registration, "the client registration")


def _write_json(session: SsoSession, path: str, what: Mapping[str, Any], name: str) -> None:
    from awsrun.privatefiles import make_private_folders, write_private

    folder = os.path.dirname(path)
    make_private_folders(folder)
    problem = token_folder_problem(folder)
    if problem is not None:
        raise ConfigError(f"not storing {name} of {session.label}: {problem}")
    write_private(path, json.dumps(dict(what)).encode("utf-8"))


def session_of_chain(chain: Chain, advice: str = "") -> SsoSession:
    """The Identity Center session the chain starts at (`awsrun login PROFILE`, `roles
    PROFILE`); where there is none, one line ending with `advice`."""
    session = session_of_root(chain)
    if session is None:
        raise ConfigError(
            f"profile {chain.profile!r} does not sign in through IAM Identity Center "
            f"(no sso_session or sso_start_url in it or in its source profiles){advice}"
        )
    return session


def session_named(name: str, files: ConfigFiles) -> SsoSession:
    """`awsrun login --sso-session NAME`: the `[sso-session NAME]` section's session."""
    if name not in files.sso_sessions:
        known = ", ".join(sorted(files.sso_sessions)) or "none"
        raise ConfigError(
            f"the config file has no [sso-session {name}] section (its SSO sessions: {known})"
        )
    session = session_of(f"--sso-session {name}", {"sso_session": name}, files.sso_sessions)
    # No profile named: botocore's session would use AWS_PROFILE's, else the default's.
    _configure_endpoints(session, files, files.environ.get("AWS_PROFILE") or "default")
    return session


def session_of_root(chain: Chain) -> SsoSession | None:
    """The Identity Center session the chain starts at; None when its root is not SSO."""
    from awsrun.config.chain import Boto3Profile

    root = chain.root
    if not (isinstance(root, Boto3Profile) and root.kind == "sso"):
        return None
    files = chain.files
    session = session_of(root.profile, files.profiles[root.profile], files.sso_sessions)
    _configure_endpoints(session, files, chain.profile)
    return session


def _configure_endpoints(session: SsoSession, files: ConfigFiles, profile: str) -> None:
    """The service variables, AWS_ENDPOINT_URL, or the profile's `services` block, in
    botocore's order: the sign-in and the listing go where botocore's own would."""
    from awsrun.config.endpoints import service_endpoint

    session.oidc_endpoint = service_endpoint(files, profile, "sso_oidc")
    session.portal_endpoint = service_endpoint(files, profile, "sso")


__all__ = [
    "USABLE_MARGIN_SECONDS",
    "SsoSession",
    "read_registration",
    "read_token",
    "refreshable",
    "seconds_left",
    "seconds_until",
    "session_named",
    "session_of",
    "session_of_chain",
    "session_of_root",
    "token_folder_problem",
    "usable_without_sign_in",
    "write_registration",
    "write_token",
]
