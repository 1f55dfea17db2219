"""`awsrun --server`: a command that outlives its credentials keeps working.

awsrun serves the ECS container-credentials protocol on 127.0.0.1 and runs the command as
its child with AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN
instead of keys. The SDKs ask that endpoint again before their credentials expire, and each
request is answered from the shared cache, refreshed through STS when the margin is reached.
"""

from __future__ import annotations

import errno
import hmac
import json
import os
import secrets
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from awsrun.credentials import Credentials
from awsrun.errors import AwsrunError
from awsrun.execute import check_command, command_error, shell_fallback

# Signals awsrun passes on to the command it waits for.
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
# Variables that would make an SDK use something other than the endpoint: keys win over
# the container provider, a relative URI wins over a full one, a token file over a token.
_REMOVED = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCOUNT_ID",
)


class CredentialServer:
    """An HTTP server on a free loopback port that hands out one profile's credentials."""

    def __init__(self, credentials: Callable[[], Credentials]) -> None:
        self.token = secrets.token_urlsafe(32)
        self._credentials = credentials
        self._fetching = threading.Lock()  # one refresh at a time within this process
        handler = self._handler_class()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        port = self._httpd.server_address[1]
        return f"http://127.0.0.1:{port}/credentials"

    def __enter__(self) -> CredentialServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def answer(self, authorization: str | None) -> tuple[int, dict[str, str]]:
        """The status and JSON body for a request that carried `authorization`."""
        if authorization is None or not hmac.compare_digest(
            authorization.encode(), self.token.encode()
        ):
            return 401, {"Code": "Unauthorized", "Message": "awsrun: wrong or missing token"}
        try:
            with self._fetching:
                credentials = self._credentials()
        except AwsrunError as error:
            # The SDK puts this text in its own error, so the user sees what to do.
            return 500, {"Code": "AwsrunError", "Message": f"awsrun: {error}"}
        body = {
            "AccessKeyId": credentials.access_key_id,
            "SecretAccessKey": credentials.secret_access_key,
            "Token": credentials.session_token or "",
        }
        if credentials.expiration_iso:
            body["Expiration"] = credentials.expiration_iso
        return 200, body

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/credentials":
                    status, body = 404, {"Code": "NotFound", "Message": "awsrun: no such path"}
                else:
                    status, body = server.answer(self.headers.get("Authorization"))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass  # nothing on stderr per request; the command owns the terminal

        return Handler


# Settings of a config-file [default] profile that SDKs would use before the endpoint
# (keys live in the credentials file, which the command does not see).
SHADOWING_SETTINGS = (
    "role_arn",
    "credential_process",
    "sso_session",
    "sso_start_url",
    "web_identity_token_file",
)


def shadowing_setting(default_profile: Mapping[str, str]) -> str | None:
    """A setting of the [default] profile that SDKs would use before the endpoint."""
    return next((key for key in SHADOWING_SETTINGS if key in default_profile), None)


def server_environment(
    parent: Mapping[str, str], variables: Mapping[str, str], url: str, token: str
) -> dict[str, str]:
    """The command's environment: the endpoint and its token, no keys."""
    environment = {name: value for name, value in parent.items() if name not in _REMOVED}
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWSRUN_PROFILE"):
        if name in variables:
            environment[name] = variables[name]
    # SDKs look at the shared credentials file before the container endpoint: keys of a
    # [default] profile there would win. That file holds nothing else that SDKs need.
    environment["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = url
    environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = token
    return environment


def _terminal_delivered_it(signum: int) -> bool:
    """Ctrl-C and Ctrl-\\ reach the whole foreground process group, the command included:
    passing them on as well would deliver them twice (terraform stops hard on a second)."""
    if signum not in (signal.SIGINT, signal.SIGQUIT):
        return False
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def _start(command: Sequence[str], environment: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """The command as a child, started as env(1) would start it (Popen restores the
    signals Python ignores)."""
    check_command(command)
    try:
        return subprocess.Popen(list(command), env=dict(environment))
    except OSError as error:
        fallback = shell_fallback(command, environment) if error.errno == errno.ENOEXEC else None
        if fallback is None:
            raise command_error(command, error) from None
    try:
        return subprocess.Popen(fallback, env=dict(environment))
    except OSError as error:
        raise command_error(command, error) from None


def run_with_server(
    command: Sequence[str], environment: Mapping[str, str], server: CredentialServer
) -> int:
    """Run `command` while `server` answers; its status, or 128+N when signal N killed it."""
    with server:
        child = _start(command, environment)

        def forward(signum: int, _frame: object) -> None:
            if not _terminal_delivered_it(signum):
                child.send_signal(signum)

        previous = {signum: signal.signal(signum, forward) for signum in FORWARDED_SIGNALS}
        try:
            returncode = child.wait()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    return 128 - returncode if returncode < 0 else returncode


__all__ = [
    "FORWARDED_SIGNALS",
    "SHADOWING_SETTINGS",
    "CredentialServer",
    "run_with_server",
    "server_environment",
    "shadowing_setting",
]
