"""IAM Identity Center sign-in and sign-out: which flow signs in (the authorization code
flow with PKCE where a browser on this machine can come back, else the device flow), one
sign-in for all the runs that need it at once, and `awsrun login` / `logout`. The token is
kept where the AWS CLI v2 keeps it (awsrun.credentials.sso_tokens); role credentials are
still asked of botocore's SSO provider, which reads the same file (and refreshes the token
with its refresh token, as it does for the CLI).
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from awsrun.credentials.browser import browser_opener, browser_problem
from awsrun.credentials.sso_tokens import (
    SsoSession,
    read_token,
    seconds_left,
    session_of_root,
    token_folder_problem,
    usable_without_sign_in,
)
from awsrun.durations import clock_time
from awsrun.errors import ConfigError
from awsrun.report import Reporter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from awsrun.config.files import ConfigFiles


def ensure_signed_in(
    session: SsoSession,
    profile: str,
    *,
    cache: Any,
    lock_timeout: float,
    browser: bool,
    device_code: bool,
    reporter: Reporter,
    now: Callable[[], float] = time.time,
) -> None:
    """A usable token for `session`: the stored one, else one sign-in for all the runs
    that need it at once (the others wait under the session's lock and take its token).
    Without a usable cache folder there is no lock: this run signs in on its own."""
    if usable_without_sign_in(session, now()):
        return
    if cache is None:
        sign_in(session, profile, browser=browser, device_code=device_code, now=now)
        return
    key = hashlib.sha256(f"sso-session:{session.cache_path}".encode()).hexdigest()

    def signed_in_by_holder() -> bool:
        return usable_without_sign_in(session, now())

    def waiting(pid: int | None, doing: str | None) -> None:
        holder = "another awsrun" + (f" (pid {pid})" if pid else "")
        reporter.warn(f"waiting for a sign-in to {session.label} in progress in {holder}")

    why = "a sign-in in another terminal?"
    with cache.lock(key, lock_timeout, signed_in_by_holder, waiting, why) as held:
        if not held or signed_in_by_holder():
            return
        sign_in(session, profile, browser=browser, device_code=device_code, now=now)


def sign_in(
    session: SsoSession,
    login_words: str,
    *,
    browser: bool,
    device_code: bool = False,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """A sign-in on this terminal; with none, one line that says where to run it
    (`awsrun login` with `login_words`: a profile, or `--sso-session NAME`).

    The authorization code flow where a browser on this machine can be opened, for a
    session (botocore refreshes only those); else, or with `device_code`, the device flow.
    """
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

    from awsrun.credentials.locks import announce

    announce("sign-in")
    try:
        open_url = _opener(browser)
        if open_url is not None and session.name and not device_code and not _over_ssh():
            from awsrun.credentials.sso_pkce import CodeSignIn

            return CodeSignIn(session, show=show, open_url=open_url, now=now).run()
        from awsrun.credentials.sso_device import DeviceSignIn

        return DeviceSignIn(session, show=show, open_url=open_url, now=now).run()
    finally:
        announce("fetching")
        os.close(tty)


def _over_ssh() -> bool:
    """A browser here would be on the far machine, which cannot reach this 127.0.0.1."""
    return bool(os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"))


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


def login(session: SsoSession, login_words: str, *, browser: bool, device_code: bool) -> str:
    """`awsrun login`: sign in now, as `aws sso login` does (also the way out of a token
    that was revoked before its time); the line that says until when it is good."""
    token = sign_in(session, login_words, browser=browser, device_code=device_code)
    left = seconds_left(token, time.time())
    assert left is not None  # a token just written has its expiry
    return f"signed in to {session.label} until {clock_time(time.time() + left)}\n"


def logout(files: ConfigFiles, names: Sequence[str], cache: Any) -> list[str]:
    """`awsrun logout`: sign out of the sessions of the named profiles (every SSO profile's
    with none named): the sign-out API, the shared token, and awsrun's cached credentials
    that came from them. One line for each thing removed."""
    from awsrun.config.resolve import resolve_chain
    from awsrun.credentials.cache import entry_key
    from awsrun.credentials.sso_oidc import sign_out

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
            sign_out(session, token["accessToken"])
        try:
            os.unlink(session.cache_path)
        except FileNotFoundError:
            continue
        said.append(f"signed out of {session.label}: removed {session.cache_path}")
    return said


__all__ = ["ensure_signed_in", "login", "logout", "sign_in"]
