"""The authorization code flow with PKCE (RFC 7636) of IAM Identity Center, as the AWS CLI
v2 signs in by default: the browser opens the authorize page, the user approves, and the
page sends the browser back to a listener on 127.0.0.1 with a code that only this run can
exchange (it alone holds the verifier). No code to copy, and nothing a phishing page could
ask the user to type."""

from __future__ import annotations

import base64
import hashlib
import html
import http.server
import queue
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from awsrun.credentials.sso_oidc import (
    CODE_FLOW,
    denied,
    failures_said,
    oidc_client,
    registration,
    store_token,
)
from awsrun.credentials.sso_tokens import SsoSession
from awsrun.durations import format_duration
from awsrun.errors import StsError

# As the AWS CLI: a browser that has not come back within this ends the sign-in.
BROWSER_WAIT_SECONDS = 600
_CALLBACK_PATH = "/oauth/callback"


class CodeSignIn:
    """The authorization code flow for one session: lines on the terminal `show` writes
    to, the authorize page opened by `open_url`."""

    def __init__(
        self,
        session: SsoSession,
        *,
        show: Callable[[str], None],
        open_url: Callable[[str], bool],
        now: Callable[[], float] = time.time,
        wait_seconds: float = BROWSER_WAIT_SECONDS,
    ) -> None:
        self._session = session
        self._show = show
        self._open_url = open_url
        self._now = now
        self._wait_seconds = wait_seconds

    def run(self) -> dict[str, Any]:
        """Sign in, store the token, and return it."""
        session = self._session
        verifier = secrets.token_urlsafe(64)
        challenge = _s256(verifier)
        state = secrets.token_urlsafe(32)
        with failures_said(session):
            client = oidc_client(session)
            registered = registration(client, session, CODE_FLOW, self._now)
            with _Listener(state, session) as listener:
                redirect = f"http://127.0.0.1:{listener.port}{_CALLBACK_PATH}"
                query = urllib.parse.urlencode(
                    {
                        "response_type": "code",
                        "client_id": registered["clientId"],
                        "redirect_uri": redirect,
                        "state": state,
                        "code_challenge": challenge,
                        "code_challenge_method": "S256",
                        "scopes": session.scopes.replace(",", " "),
                    }
                )
                self._invite(f"{client.meta.endpoint_url.rstrip('/')}/authorize?{query}")
                code = listener.code(self._wait_seconds)
            created = client.create_token(
                grantType=CODE_FLOW,
                clientId=registered["clientId"],
                clientSecret=registered["clientSecret"],
                code=code,
                redirectUri=redirect,
                codeVerifier=verifier,
            )
        return store_token(session, created, registered, self._now)

    def _invite(self, url: str) -> None:
        label = self._session.label
        if self._open_url(url):
            self._show(f"awsrun: sign in to {label} in the browser that opened; waiting for you\n")
        else:
            self._show(f"awsrun: sign in to {label}: open this page in a browser here: {url}\n")


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a browser that hangs up early is no traceback on the user's terminal


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class _Listener:
    """The redirect's target on 127.0.0.1 and a free port, for one sign-in: it takes the
    one request on the callback path with this sign-in's `state`; anything else gets an
    error page and changes nothing."""

    def __init__(self, state: str, session: SsoSession) -> None:
        label = session.label
        self._answers: queue.Queue[tuple[str, str]] = queue.Queue()
        answers, expected = self._answers, state.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parsed.query))
                if parsed.path != _CALLBACK_PATH:
                    self._page(404, "This is not a page of the awsrun sign-in.")
                elif not secrets.compare_digest(query.get("state", "").encode(), expected):
                    self._page(400, "This answer is not for the sign-in awsrun is waiting for.")
                elif query.get("error"):
                    answers.put(("error", query["error"]))
                    self._page(
                        200, f"The sign-in to {label} was not completed. You may close this page."
                    )
                elif query.get("code"):
                    answers.put(("code", query["code"]))
                    self._page(
                        200,
                        f"awsrun has the answer to the sign-in to {label}. "
                        "You may close this page.",
                    )
                else:
                    self._page(400, "The answer has no code.")

            def _page(self, status: int, text: str) -> None:
                body = f"<!doctype html><title>awsrun</title><p>{html.escape(text)}</p>\n"
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body.encode())))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the request line holds the code: never on stderr

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._session = session

    def __enter__(self) -> _Listener:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def code(self, wait_seconds: float) -> str:
        """The code the browser brought back; a denial or no answer in time: one line."""
        try:
            kind, value = self._answers.get(timeout=wait_seconds)
        except queue.Empty:
            raise StsError(
                f"the browser did not come back from the sign-in to {self._session.label} "
                f"within {format_duration(wait_seconds)}: run the command again, or add "
                "--use-device-code to sign in with a code on any device"
            ) from None
        if kind == "code":
            return value
        if value == "access_denied":
            raise StsError(denied(self._session))
        # An OAuth error code is a word; anything else the page sent is not repeated.
        said = value if value.replace("_", "").isalpha() and len(value) < 40 else "an error"
        raise StsError(f"the sign-in to {self._session.label} failed in the browser ({said})")


__all__ = ["BROWSER_WAIT_SECONDS", "CodeSignIn"]
