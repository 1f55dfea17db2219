"""IAM Identity Center sign-in: the OAuth device authorization flow of the `sso-oidc` API,
through botocore's own client, and the token store the AWS CLI v2 and the SDKs share.

A token lives in `~/.aws/sso/cache/<sha1>.json`, the SHA-1 of the `sso-session` name (or of
the start URL for a legacy profile), with the AWS CLI v2's field names. awsrun reads and
writes that file, so one sign-in serves awsrun, `aws`, boto3 and Terraform alike. Role
credentials are still asked of botocore's SSO provider, which reads the same file (and
refreshes the token with its refresh token, as it does for the CLI).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from awsrun.credentials.browser import browser_opener
from awsrun.credentials.keys import iso_utc, parse_iso
from awsrun.errors import ConfigError, StsError
from awsrun.report import Reporter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from awsrun.config.chain import Chain
    from awsrun.config.files import ConfigFiles

_DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_CLIENT_NAME = "awsrun"
# botocore refreshes a token with its refresh token within this margin of its expiry.
_USABLE_MARGIN_SECONDS = 60
# RFC 8628: on slow_down, poll 5 seconds less often from then on.
_SLOW_DOWN_SECONDS = 5


class SsoSession:
    """Where a profile signs in: an `[sso-session NAME]` section, or a legacy profile's own
    `sso_start_url` and `sso_region`."""

    __slots__ = ("name", "region", "scopes", "start_url")

    def __init__(self, name: str | None, start_url: str, region: str, scopes: str) -> None:
        self.name = name
        self.start_url = start_url
        self.region = region
        self.scopes = scopes

    @property
    def label(self) -> str:
        return f"SSO session {self.name!r}" if self.name else f"SSO start URL {self.start_url}"

    @property
    def cache_path(self) -> str:
        key = hashlib.sha1(  # noqa: S324 - a file name the AWS CLI chose, not security
            (self.name or self.start_url).encode()
        ).hexdigest()
        return os.path.join(os.path.expanduser("~"), ".aws", "sso", "cache", f"{key}.json")


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
    import stat

    path = session.cache_path
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
    return _seconds_until(token.get("expiresAt") if token else None, now)


def _seconds_until(when: object, now: float) -> float | None:
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
    if left > _USABLE_MARGIN_SECONDS:
        return True
    assert token is not None
    registration_left = _seconds_until(token.get("registrationExpiresAt"), now)
    return bool(
        session.name and token.get("refreshToken") and registration_left and registration_left > 0
    )


def write_token(session: SsoSession, token: Mapping[str, Any]) -> None:
    """Write the token where the AWS CLI v2 and the SDKs look: 0600, atomically."""
    import tempfile

    path = session.cache_path
    folder = os.path.dirname(path)
    from awsrun.credentials.cache import make_private_folders

    make_private_folders(folder)
    problem = token_folder_problem(folder)
    if problem is not None:
        raise ConfigError(f"not storing the sign-in token of {session.label}: {problem}")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".awsrun-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(dict(token), out)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class DeviceSignIn:
    """The device authorization flow for one session, shown on the terminal `show` writes
    to, with the browser opened by `open_url` (webbrowser, so BROWSER is honoured)."""

    def __init__(
        self,
        session: SsoSession,
        *,
        show: Callable[[str], None],
        open_url: Callable[[str], bool] | None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._show = show
        self._open_url = open_url
        self._sleep = sleep
        self._now = now

    def run(self) -> dict[str, Any]:
        """Sign in, store the token, and return it."""
        import botocore.session
        from botocore.exceptions import BotoCoreError, ClientError

        from awsrun.credentials.sts import CALL_DEADLINE_SECONDS, CLIENT_CONFIG
        from awsrun.deadline import DeadlinePassed

        session = self._session
        try:
            client: Any = _Bounded(
                botocore.session.Session().create_client(
                    "sso-oidc", region_name=session.region, config=CLIENT_CONFIG
                )
            )
            registration = self._registration(client)
            started = client.start_device_authorization(
                clientId=registration["clientId"],
                clientSecret=registration["clientSecret"],
                startUrl=session.start_url,
            )
            self._invite(started)
            created = self._poll(client, registration, started)
        except ClientError as error:
            raise StsError(_sign_in_error(session, error)) from None
        except BotoCoreError as error:
            raise StsError(
                f"cannot sign in to {session.label}: {error}; check its sso_region "
                f"({session.region}) and sso_start_url"
            ) from None
        except DeadlinePassed:
            raise StsError(
                f"IAM Identity Center did not answer the sign-in to {session.label} within "
                f"{CALL_DEADLINE_SECONDS}s; check the network and its sso_region "
                f"({session.region})"
            ) from None
        token = {
            "startUrl": session.start_url,
            "region": session.region,
            "accessToken": created["accessToken"],
            "expiresAt": iso_utc(self._now() + int(created["expiresIn"])),
            **registration,
        }
        if created.get("refreshToken"):
            token["refreshToken"] = created["refreshToken"]
        write_token(session, token)
        return token

    def _registration(self, client: Any) -> dict[str, str]:
        """The client registration: the stored one while it is valid, else a new one."""
        stored = read_token(self._session) or {}
        left = _seconds_until(stored.get("registrationExpiresAt"), self._now())
        if stored.get("clientId") and stored.get("clientSecret") and left and left > 3600:
            return {
                "clientId": stored["clientId"],
                "clientSecret": stored["clientSecret"],
                "registrationExpiresAt": stored["registrationExpiresAt"],
            }
        arguments: dict[str, Any] = {"clientName": _CLIENT_NAME, "clientType": "public"}
        if self._session.name:  # a session-style sign-in can be refreshed
            arguments["scopes"] = self._session.scopes.replace(",", " ").split()
            arguments["grantTypes"] = [_DEVICE_GRANT, "refresh_token"]
        registered = client.register_client(**arguments)
        return {
            "clientId": registered["clientId"],
            "clientSecret": registered["clientSecret"],
            "registrationExpiresAt": iso_utc(registered["clientSecretExpiresAt"]),
        }

    def _invite(self, started: Mapping[str, Any]) -> None:
        url = started.get("verificationUriComplete") or started["verificationUri"]
        self._show(
            f"awsrun: sign in to {self._session.label}: open {started['verificationUri']} "
            f"and enter the code {started['userCode']}\n"
        )
        if self._open_url is not None and self._open_url(url):
            self._show("awsrun: opened your browser; waiting for you to approve there\n")

    def _poll(
        self, client: Any, registration: Mapping[str, str], started: Mapping[str, Any]
    ) -> dict[str, Any]:
        interval = float(started.get("interval") or 5)
        deadline = self._now() + float(started.get("expiresIn") or 600)
        while True:
            self._sleep(interval)
            try:
                created: dict[str, Any] = client.create_token(
                    grantType=_DEVICE_GRANT,
                    deviceCode=started["deviceCode"],
                    clientId=registration["clientId"],
                    clientSecret=registration["clientSecret"],
                )
                return created
            except client.exceptions.AuthorizationPendingException:
                pass
            except client.exceptions.SlowDownException:
                interval += _SLOW_DOWN_SECONDS
            if self._now() >= deadline:
                raise StsError(_code_expired(self._session))


class _Bounded:
    """A botocore client whose every call ends within CALL_DEADLINE_SECONDS (or raises
    DeadlinePassed); its other attributes (`exceptions`) as they are."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        from awsrun.credentials.sts import CALL_DEADLINE_SECONDS
        from awsrun.deadline import call_within

        found = getattr(self._client, name)
        if name == "exceptions" or not callable(found):
            return found

        def bounded(**arguments: Any) -> Any:
            return call_within(CALL_DEADLINE_SECONDS, lambda: found(**arguments))

        return bounded


def _code_expired(session: SsoSession) -> str:
    return (
        f"the sign-in code for {session.label} expired before it was approved: "
        "run the command again"
    )


def _sign_in_error(session: SsoSession, error: Any) -> str:
    code = error.response.get("Error", {}).get("Code", "")
    if code == "AccessDeniedException":
        return f"the sign-in to {session.label} was denied in the browser"
    if code == "ExpiredTokenException":
        return _code_expired(session)
    if code in ("InvalidRequestException", "InvalidClientException", "UnauthorizedClientException"):
        return (
            f"{session.label} refused the sign-in ({code}); check its sso_start_url "
            f"({session.start_url}) and sso_region ({session.region})"
        )
    return f"signing in to {session.label} failed: {code or 'an error'}"


def ensure_signed_in(
    session: SsoSession,
    profile: str,
    *,
    cache: Any,
    lock_timeout: float,
    browser: bool,
    reporter: Reporter,
    now: Callable[[], float] = time.time,
) -> None:
    """A usable token for `session`: the stored one, else one sign-in for all the runs
    that need it at once (the others wait under the session's lock and take its token)."""
    if usable_without_sign_in(session, now()):
        return
    key = hashlib.sha256(f"sso-session:{session.cache_path}".encode()).hexdigest()

    def signed_in_by_holder() -> bool:
        return usable_without_sign_in(session, now())

    def waiting(pid: int | None) -> None:
        holder = "another awsrun" + (f" (pid {pid})" if pid else "")
        reporter.warn(f"waiting for a sign-in to {session.label} in progress in {holder}")

    with cache.lock(key, lock_timeout, signed_in_by_holder, waiting) as held:
        if not held or signed_in_by_holder():
            return
        sign_in(session, profile, browser=browser, now=now)


def sign_in(
    session: SsoSession,
    login_words: str,
    *,
    browser: bool,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """The device flow on this terminal; with none, one line that says where to run it
    (`awsrun login` with `login_words`: a profile, or `--sso-session NAME`)."""
    problem = token_folder_problem(os.path.dirname(session.cache_path))
    if problem is not None:  # before the sign-in, not after it
        raise ConfigError(f"not signing in to {session.label}: {problem}")
    try:
        tty = os.open("/dev/tty", os.O_WRONLY | os.O_NOCTTY)
    except OSError:
        raise ConfigError(
            f"{session.label} needs a sign-in: run 'awsrun login {login_words}' in a terminal"
        ) from None

    def show(text: str) -> None:
        os.write(tty, text.encode())

    try:
        flow = DeviceSignIn(
            session,
            show=show,
            open_url=browser_opener() if browser else None,
            now=now,
        )
        return flow.run()
    finally:
        os.close(tty)


def session_of_chain(chain: Chain) -> SsoSession:
    """The Identity Center session `awsrun login PROFILE` signs in to."""
    session = _session_of_root(chain)
    if session is None:
        raise ConfigError(
            f"profile {chain.profile!r} does not sign in through IAM Identity Center "
            "(no sso_session or sso_start_url in it or in its source profiles); to open the "
            f"AWS console as it: awsrun console {chain.profile}"
        )
    return session


def session_named(name: str, files: ConfigFiles) -> SsoSession:
    """`awsrun login --sso-session NAME`: the `[sso-session NAME]` section's session."""
    if name not in files.sso_sessions:
        known = ", ".join(sorted(files.sso_sessions)) or "none"
        raise ConfigError(
            f"the config file has no [sso-session {name}] section (its SSO sessions: {known})"
        )
    return session_of(f"--sso-session {name}", {"sso_session": name}, files.sso_sessions)


def login(session: SsoSession, login_words: str, *, browser: bool) -> str:
    """`awsrun login`: sign in now, as `aws sso login` does (also the way out of a token
    that was revoked before its time); the line that says until when it is good."""
    token = sign_in(session, login_words, browser=browser)
    left = seconds_left(token, time.time())
    assert left is not None  # a token just written has its expiry
    until = time.strftime("%H:%M", time.localtime(time.time() + left))
    return f"signed in to {session.label} until {until}\n"


def logout(files: ConfigFiles, names: Sequence[str], cache: Any) -> list[str]:
    """`awsrun logout`: sign out of the sessions of the named profiles (every SSO profile's
    with none named): the sign-out API, the shared token, and awsrun's cached credentials
    that came from them. One line for each thing removed."""
    from awsrun.config.resolve import resolve_chain
    from awsrun.credentials.cache import entry_key

    sessions: dict[str, SsoSession] = {}
    for name in names or sorted(files.profiles):
        try:
            session = _session_of_root(resolve_chain(name, files))
        except ConfigError:
            if names:
                raise
            continue  # --all: a broken profile has nothing to sign out of
        if session is not None:
            sessions[session.cache_path] = session
        elif names:
            raise ConfigError(f"profile {name!r} does not sign in through IAM Identity Center")
    # Every profile whose chain starts at one of these sessions: another account's or
    # role's, and roles assumed on top of them.
    entries: list[str] = []
    for name in sorted(files.profiles):
        try:
            chain = resolve_chain(name, files)
            session = _session_of_root(chain)
        except ConfigError:
            continue  # a broken profile has nothing cached
        if session is not None and session.cache_path in sessions:
            entries += [entry_key(identity) for identity in chain.identities() if identity]
    said = [f"removed {cache.path(key)}" for key in dict.fromkeys(entries) if cache.delete(key)]
    for session in sessions.values():
        token = read_token(session)
        if token and isinstance(token.get("accessToken"), str):
            _sign_out(session, token["accessToken"])
        try:
            os.unlink(session.cache_path)
        except FileNotFoundError:
            continue
        said.append(f"signed out of {session.label}: removed {session.cache_path}")
    return said


def _session_of_root(chain: Chain) -> SsoSession | None:
    """The Identity Center session the chain starts at; None when its root is not SSO."""
    from awsrun.config.chain import Boto3Profile

    root = chain.root
    if not (isinstance(root, Boto3Profile) and root.kind == "sso"):
        return None
    files = chain.files
    return session_of(root.profile, files.profiles[root.profile], files.sso_sessions)


def _sign_out(session: SsoSession, access_token: str) -> None:
    """The portal's sign-out, so the token is no good anywhere; best effort: the token
    file goes whatever the answer."""
    import botocore.session
    from botocore.exceptions import BotoCoreError, ClientError

    from awsrun.credentials.sts import CLIENT_CONFIG
    from awsrun.deadline import DeadlinePassed

    with contextlib.suppress(BotoCoreError, ClientError, DeadlinePassed):
        client: Any = _Bounded(
            botocore.session.Session().create_client(
                "sso", region_name=session.region, config=CLIENT_CONFIG
            )
        )
        client.logout(accessToken=access_token)


__all__ = [
    "DeviceSignIn",
    "SsoSession",
    "ensure_signed_in",
    "login",
    "logout",
    "read_token",
    "seconds_left",
    "session_named",
    "session_of",
    "session_of_chain",
    "sign_in",
    "token_folder_problem",
    "usable_without_sign_in",
    "write_token",
]
