"""`awsrun --server`: a command that outlives its credentials keeps working.

awsrun serves the ECS container-credentials protocol on 127.0.0.1 and runs the command as
its child with AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN
instead of keys. The SDKs ask that endpoint again before their credentials expire, and each
request is answered from the shared cache, refreshed through STS when the margin is reached.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import select
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from awsrun.config.endpoints import REGION_MARKER
from awsrun.credentials.keys import Credentials, iso_utc
from awsrun.errors import AwsrunError, ConfigError
from awsrun.handoff.childenv import removed_variables
from awsrun.report import Reporter

# Variables that would make an SDK use something other than the endpoint, besides what
# exec removes too (childenv.removed_variables: a profile, keys under other names): keys
# and web identity win over the container provider, a relative URI wins over a full one,
# a token file over a token, AWS_CREDENTIAL_FILE is botocore's oldest key file.
_REMOVED = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_CREDENTIAL_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
)
# Files of keys that SDKs read before the endpoint, pointed at /dev/null: the shared
# credentials file (every SDK) and the Java SDK v1's name for it.
_HIDDEN_FILES = ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CREDENTIAL_PROFILES_FILE")
TOKEN_VARIABLE = "AWS_CONTAINER_AUTHORIZATION_TOKEN"  # noqa: S105 - a name, not a token
# The credentials file the command's SDKs no longer see, for an awsrun inside the command.
REAL_CREDENTIALS_FILE_VARIABLE = "AWSRUN_SHARED_CREDENTIALS_FILE"

# Keys that do not expire are served as lasting this long, so that every SDK reads an
# Expiration (botocore and the JS SDK require one) and asks again now and then.
STATIC_KEYS_SERVED_FOR_SECONDS = 3600
# Served credentials must outlast the request that carries them.
_USABLE_MARGIN_SECONDS = 10
# After a failed refresh, the next attempt waits this long, doubling up to the maximum.
_RETRY_FIRST_SECONDS = 5
_RETRY_MAX_SECONDS = 120
# How long a request that started a refresh waits for it before it is served what is held.
_REFRESH_AWAITED_SECONDS = 2.0

# A connection must send its request within this (per read), and at most this many are
# served at once; when all are taken, the one that has been reading longest is dropped
# (not one whose request is in and waits for its thread to read it).
READ_TIMEOUT_SECONDS = 5.0
MAX_CONNECTIONS = 32
# The kernel queues a burst of connections instead of refusing them (socketserver: 5).
_LISTEN_BACKLOG = 256


class CredentialServer:
    """An HTTP server on a free loopback port that hands out one profile's credentials.

    Requests are answered from the credentials held while they have more than `min_ttl`
    left; below that, one refresh runs beside the requests (`in_background`), which are
    answered with what is held while it is valid. A request waits for a refresh only when
    nothing valid is held: a refresh stuck on an MFA prompt, a sign-in or a hung
    credential_process never holds up an SDK that valid credentials can serve.
    """

    def __init__(
        self,
        fetch: Callable[[], Credentials],
        first: Credentials,
        *,
        label: str,
        reporter: Reporter,
        min_ttl: float,
        now: Callable[[], float] = time.time,
        in_background: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        self.token = secrets.token_urlsafe(32)
        self._fetch = fetch
        self._held = first  # the newest credentials handed out
        self._label = label
        self._reporter = reporter
        self._min_ttl = min_ttl
        self._now = now
        self._in_background = in_background or _in_a_thread
        self._fetching = threading.Lock()  # one refresh at a time within this process
        self._retry_at = 0.0  # no new attempt before this (after a failure, or a refresh)
        self._retry_delay = 0.0
        self._httpd = _BoundedHttpServer(_handler_class(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        port = self._httpd.server_address[1]
        return f"http://127.0.0.1:{port}/credentials"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def run(self, command: Sequence[str], environment: dict[str, str]) -> int:
        """Run the command with this endpoint, and its exit status; then end what a refresh
        left running, and say so if the command left processes that will ask in vain."""
        from awsrun.handoff.supervise import end_helpers, run_child, still_asking

        try:
            status = run_child(command, environment, self.start)
        finally:
            self.close()
            end_helpers()
        left = still_asking(f"{TOKEN_VARIABLE}={self.token}".encode())
        if left:
            pids = ", ".join(map(str, left[:5])) + (", ..." if len(left) > 5 else "")
            self._reporter.warn(
                f"--server: {len(left)} process(es) the command started still run (pid "
                f"{pids}); the endpoint has stopped, so they get no more credentials"
            )
        return status

    def answer(self, authorization: str | None) -> tuple[int, dict[str, str]]:
        """The status and JSON body for a request that carried `authorization`."""
        if authorization is None or not hmac.compare_digest(
            authorization.encode(), self.token.encode()
        ):
            return 401, {"Code": "Unauthorized", "Message": "awsrun: wrong or missing token"}
        try:
            credentials = self._current()
        except AwsrunError as error:
            # The SDK puts this text in its own error, so the user sees what to do.
            return 500, {"Code": "AwsrunError", "Message": f"awsrun: {error}"}
        expires_at = credentials.expires_at
        if expires_at is None:
            expires_at = self._now() + STATIC_KEYS_SERVED_FOR_SECONDS
        # Every field every SDK reads, always present: botocore and the JS SDK read Token
        # and Expiration unconditionally.
        return 200, {
            "AccessKeyId": credentials.access_key_id,
            "SecretAccessKey": credentials.secret_access_key,
            "Token": credentials.session_token or "",
            "Expiration": iso_utc(expires_at),
        }

    def _current(self) -> Credentials:
        held = self._held
        if held.expires_at is None:  # keys that do not expire: nothing to refresh
            return held
        left = held.expires_at - self._now()
        if left > self._min_ttl:
            return held
        if left > _USABLE_MARGIN_SECONDS:
            if self._now() >= self._retry_at and self._fetching.acquire(blocking=False):
                done = threading.Event()
                self._in_background(lambda: self._refresh_holding_lock(done))
                # A refresh that answers at once is served at once; one that does not (a
                # prompt, a hung program) holds up this request for a moment only.
                done.wait(_REFRESH_AWAITED_SECONDS)
            return self._held
        # Nothing valid is held: wait for the refresh under way, or make one.
        with self._fetching:
            held = self._held
            assert held.expires_at is not None
            if held.expires_at - self._now() > _USABLE_MARGIN_SECONDS:
                return held
            fresh = self._fetch()
            self._refreshed(fresh)
            return fresh

    def _refresh_holding_lock(self, done: threading.Event) -> None:
        """One refresh beside the requests; a failure is said, and tried again later."""
        try:
            try:
                fresh = self._fetch()
            except AwsrunError as error:
                self._failed(error)
                return
            self._refreshed(fresh)
        finally:
            self._fetching.release()
            done.set()

    def _refreshed(self, fresh: Credentials) -> None:
        if self._retry_delay:
            self._reporter.warn(f"--server: refreshing {self._label} works again")
        self._retry_delay = 0.0
        # Credentials that are short of --min-ttl from the start are not fetched again on
        # every request.
        self._retry_at = self._now() + _RETRY_FIRST_SECONDS
        self._held = fresh

    def _failed(self, error: AwsrunError) -> None:
        first_failure = not self._retry_delay
        self._retry_delay = min(
            max(self._retry_delay * 2, _RETRY_FIRST_SECONDS), _RETRY_MAX_SECONDS
        )
        self._retry_at = self._now() + self._retry_delay
        held = self._held
        assert held.expires_at is not None  # keys that do not expire are not fetched
        until = time.strftime("%H:%M:%S", time.localtime(held.expires_at))
        report = self._reporter.warn if first_failure else self._reporter.info
        report(
            f"--server: refreshing {self._label} fails ({error}); serving the "
            f"current credentials until they expire at {until}, and retrying"
        )


def _in_a_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, daemon=True, name="awsrun-refresh").start()


class _BoundedHttpServer(ThreadingHTTPServer):
    """A thread per connection, at most MAX_CONNECTIONS of them; a connection still
    sending its request gives way to a new one when all are taken, so that idle or slow
    connections cannot shut out the command's SDK."""

    daemon_threads = True
    request_queue_size = _LISTEN_BACKLOG

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._guard = threading.Lock()
        self._reading: dict[socket.socket, None] = {}  # oldest first

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        if not self._slots.acquire(blocking=False):
            self._drop_oldest_reader()
            if not self._slots.acquire(timeout=READ_TIMEOUT_SECONDS):
                self.shutdown_request(request)
                return
        with self._guard:
            self._reading[request] = None
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._finished(request)
            raise

    def process_request_thread(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._finished(request)

    def request_read(self, request: socket.socket) -> None:
        """The request is in: this connection is being answered and is not dropped."""
        with self._guard:
            self._reading.pop(request, None)

    def _finished(self, request: socket.socket) -> None:
        self.request_read(request)
        self._slots.release()

    def _drop_oldest_reader(self) -> None:
        """Drop the connection that has been sending its request longest. One with bytes
        its thread has not read yet (a burst's requests, waiting for their threads) is not
        slow: it stays, and the new connection waits for a slot instead."""
        with self._guard:
            readers = list(self._reading)  # oldest first
        for reader in readers:
            if _has_unread_bytes(reader):
                continue
            with self._guard:
                if reader not in self._reading:
                    continue  # its request came in meanwhile
                del self._reading[reader]
            with contextlib.suppress(OSError):  # already closed by its client
                reader.shutdown(socket.SHUT_RDWR)  # its thread's read returns at once
            return

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up or was dropped is normal: no traceback on the terminal."""
        import sys

        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            sys.stderr.write(f"awsrun: --server: a request failed: {type(error).__name__}\n")


def _has_unread_bytes(connection: socket.socket) -> bool:
    poller = select.poll()
    try:
        poller.register(connection, select.POLLIN)
    except (OSError, ValueError):  # closed
        return False
    return bool(poller.poll(0))


def _handler_class(server: CredentialServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = READ_TIMEOUT_SECONDS

        def do_GET(self) -> None:
            assert isinstance(self.server, _BoundedHttpServer)
            self.server.request_read(self.connection)
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


# Settings of the config file's [default] profile that an SDK uses before the endpoint.
# The credentials file is hidden from the command; the config file cannot be, as the
# command may need its other profiles and settings.
SHADOWING_SETTINGS = (
    "aws_access_key_id",
    "role_arn",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
    "sso_account_id",
    "login_session",
    "credential_process",
)


def refuse_shadowing(
    config_path: str, default_profile: Mapping[str, str], environ: Mapping[str, str]
) -> None:
    """Refuse to start when the command's SDKs would use something other than the endpoint
    and awsrun cannot take it out of their way."""
    setting = next((key for key in SHADOWING_SETTINGS if key in default_profile), None)
    if setting is not None:
        raise ConfigError(
            f"--server: the [default] profile in {config_path} has {setting}, which SDKs "
            "use before the --server endpoint: move it to a named profile, or run "
            "without --server"
        )
    boto_file = _boto_config_with_keys(environ)
    if boto_file is not None:
        raise ConfigError(
            f"--server: {boto_file} has keys in [Credentials], which boto3 uses before the "
            "--server endpoint: remove them, or run without --server"
        )


def _boto_config_with_keys(environ: Mapping[str, str]) -> str | None:
    """The boto config file botocore would take keys from (its BotoProvider), if any."""
    import configparser

    variable = environ.get("BOTO_CONFIG")
    candidates = [variable] if variable else ["/etc/boto.cfg", "~/.boto"]
    for candidate in candidates:
        path = os.path.expanduser(candidate)
        parser = configparser.RawConfigParser()
        try:
            parser.read(path)
        except (configparser.Error, UnicodeDecodeError):
            continue  # botocore cannot read it either
        if parser.has_option("Credentials", "aws_access_key_id"):
            return path
    return None


def server_environment(
    parent: Mapping[str, str],
    variables: Mapping[str, str],
    url: str,
    token: str,
    credentials_path: str,
) -> dict[str, str]:
    """The command's environment: the endpoint and its token, no keys."""
    removed = {*_REMOVED, *removed_variables(variables, parent)}
    environment = {name: value for name, value in parent.items() if name not in removed}
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", REGION_MARKER, "AWSRUN_PROFILE"):
        if name in variables:
            environment[name] = variables[name]
    # SDKs read the shared credentials file before the container endpoint: keys of a
    # [default] profile there would win. That file holds nothing else that SDKs need, and
    # an awsrun inside the command reads the real one from REAL_CREDENTIALS_FILE_VARIABLE.
    for name in _HIDDEN_FILES:
        environment[name] = os.devnull
    environment[REAL_CREDENTIALS_FILE_VARIABLE] = credentials_path
    environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = url
    environment[TOKEN_VARIABLE] = token
    return environment


__all__ = [
    "MAX_CONNECTIONS",
    "READ_TIMEOUT_SECONDS",
    "REAL_CREDENTIALS_FILE_VARIABLE",
    "SHADOWING_SETTINGS",
    "STATIC_KEYS_SERVED_FOR_SECONDS",
    "CredentialServer",
    "refuse_shadowing",
    "server_environment",
]
