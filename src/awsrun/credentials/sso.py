"""IAM Identity Center sign-in and sign-out: the OAuth device authorization flow of the
`sso-oidc` API, through botocore's own client, with the token kept where the AWS CLI v2
keeps it (awsrun.credentials.sso_tokens). Role credentials are still asked of botocore's
SSO provider, which reads the same file (and refreshes the token with its refresh token,
as it does for the CLI).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from awsrun.credentials.browser import browser_opener, browser_problem
from awsrun.credentials.keys import iso_utc
from awsrun.credentials.sso_tokens import (
    SsoSession,
    read_token,
    seconds_left,
    seconds_until,
    session_of_root,
    token_folder_problem,
    usable_without_sign_in,
    write_token,
)
from awsrun.errors import ConfigError, StsError
from awsrun.report import Reporter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from awsrun.config.files import ConfigFiles

_DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_CLIENT_NAME = "awsrun"
# RFC 8628: on slow_down, poll 5 seconds less often from then on.
_SLOW_DOWN_SECONDS = 5


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
        left = seconds_until(stored.get("registrationExpiresAt"), self._now())
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
    that need it at once (the others wait under the session's lock and take its token).
    Without a usable cache folder there is no lock: this run signs in on its own."""
    if usable_without_sign_in(session, now()):
        return
    if cache is None:
        sign_in(session, profile, browser=browser, now=now)
        return
    key = hashlib.sha256(f"sso-session:{session.cache_path}".encode()).hexdigest()

    def signed_in_by_holder() -> bool:
        return usable_without_sign_in(session, now())

    def waiting(pid: int | None) -> None:
        holder = "another awsrun" + (f" (pid {pid})" if pid else "")
        reporter.warn(f"waiting for a sign-in to {session.label} in progress in {holder}")

    why = "a sign-in in another terminal?"
    with cache.lock(key, lock_timeout, signed_in_by_holder, waiting, why) as held:
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
            open_url=_opener(browser),
            now=now,
        )
        return flow.run()
    finally:
        os.close(tty)


def _opener(browser: bool) -> Callable[[str], bool] | None:
    """The browser to open, or None: the URL and code are on the terminal either way, and
    a BROWSER that cannot run is said rather than replaced by whatever webbrowser finds."""
    if not browser:
        return None
    problem = browser_problem()
    if problem is not None:
        sys.stderr.write(f"awsrun: {problem}: open the URL below yourself\n")
        return None
    return browser_opener()


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
            session = session_of_root(resolve_chain(name, files))
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
            session = session_of_root(chain)
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


__all__ = ["DeviceSignIn", "ensure_signed_in", "login", "logout", "sign_in"]
