"""The AWS federation endpoint: temporary credentials in, a console sign-in URL out.

The sign-in token, and the URL built from it, let anyone who has them into the console for
about 15 minutes: they go back to the caller only, never into an error or a report.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from awsrun.credentials.keys import Credentials
from awsrun.credentials.sts import MAX_ATTEMPTS, READ_TIMEOUT_SECONDS
from awsrun.errors import StsError, UsageError
from awsrun.report import Reporter

# Replaces the federation URL (tests, a proxy); by default it follows the partition.
ENDPOINT_VARIABLE = "AWSRUN_FEDERATION_ENDPOINT"
SIGN_IN_HOSTS = {
    "aws": "signin.aws.amazon.com",
    "aws-cn": "signin.amazonaws.cn",
    "aws-us-gov": "signin.amazonaws-us-gov.com",
}
CONSOLE_HOSTS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}
# Opts in to a federation endpoint on a host that is neither AWS's nor loopback (a proxy).
TRUSTED_HOST_VARIABLE = "AWSRUN_FEDERATION_TRUSTED_HOST"
_LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
# A sign-in token answer is a few kilobytes: more is not the federation endpoint.
MAX_ANSWER_BYTES = 64 * 1024
# Every try together, as for STS: the tries' time, and their pauses.
_DEADLINE_SECONDS = MAX_ATTEMPTS * READ_TIMEOUT_SECONDS + 5
# What the console names as the sign-in that sent the user, when the session ends.
ISSUER = "awsrun"
_NOTICE_AFTER_SECONDS = 5.0
_PAUSE_BEFORE_RETRY_SECONDS = 1.0


def partition_of_arn(arn: str | None) -> str | None:
    """`aws-cn` of `arn:aws-cn:iam::...`; None for anything that is not an ARN."""
    if not arn or not arn.startswith("arn:"):
        return None
    return arn.split(":")[1] or None


def partition_of_region(region: str | None) -> str:
    """The partition botocore places the region in; `aws` for none or one it does not know."""
    if not region:
        return "aws"
    import botocore.session
    from botocore.exceptions import BotoCoreError

    try:
        partition: str = botocore.session.Session().get_partition_for_region(region)
    except BotoCoreError:
        return "aws"
    return partition


def federation_endpoint(partition: str, environ: Mapping[str, str]) -> str:
    configured = environ.get(ENDPOINT_VARIABLE)
    if configured:
        parsed = urllib.parse.urlsplit(configured)
        host = (parsed.hostname or "").lower()
        loopback = host in _LOOPBACK_HOSTS
        # The request carries the secret key: in the clear only to this machine.
        if not (parsed.scheme == "https" or (parsed.scheme == "http" and loopback)):
            raise UsageError(
                f"{ENDPOINT_VARIABLE} takes an https:// URL (http:// to this machine only), "
                f"not {_shown(configured)!r}"
            )
        trusted = environ.get(TRUSTED_HOST_VARIABLE, "").lower()
        if not (loopback or _is_sign_in_host(host) or (trusted and host == trusted)):
            raise UsageError(
                f"{ENDPOINT_VARIABLE} names {host!r}, which is neither an AWS sign-in host "
                "nor this machine, and would be sent your credentials: to trust it, set "
                f"{TRUSTED_HOST_VARIABLE}={host}"
            )
        return configured
    if partition not in SIGN_IN_HOSTS:
        raise StsError(
            f"awsrun does not know the console sign-in of partition {partition!r} (only "
            f"{', '.join(SIGN_IN_HOSTS)}): set {ENDPOINT_VARIABLE} to its federation URL"
        )
    return f"https://{SIGN_IN_HOSTS[partition]}/federation"


def _is_sign_in_host(host: str) -> bool:
    """An AWS sign-in host of a partition: `signin.aws.amazon.com` or a regional form such
    as `us-east-1.signin.aws.amazon.com`."""
    return any(host == known or host.endswith("." + known) for known in SIGN_IN_HOSTS.values())


def console_destination(
    partition: str, region: str | None, service: str | None, destination: str | None
) -> str:
    """The console page to land on: `destination` if given (it must be in the partition's
    console), else the service's home (the console's own home without one) in `region`."""
    host = CONSOLE_HOSTS.get(partition)
    if destination is not None:
        name = _browser_host(destination)
        in_console = name is not None and (
            host is None or name == host or name.endswith("." + host)
        )
        if not in_console:
            shape = f"https://{host}/... or https://REGION.{host}/..." if host else "https://..."
            raise UsageError(
                f"--destination takes a console URL of partition {partition} ({shape}), "
                f"not {destination!r}"
            )
        return destination
    if host is None:
        raise UsageError(
            f"awsrun does not know the console of partition {partition!r} (only "
            f"{', '.join(CONSOLE_HOSTS)}): give its URL with --destination"
        )
    service = service or "console"
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", service):
        raise UsageError(
            f"--service takes a console's short name such as s3, ec2 or cloudwatch, not "
            f"{service!r} (--destination takes a whole console URL)"
        )
    query = "?" + urllib.parse.urlencode({"region": region}) if region else ""
    return f"https://{host}/{service}/home{query}"


def _browser_host(url: str) -> str | None:
    """The host a browser goes to for an https URL, or None for a URL whose host part a
    browser and Python would read apart: a browser takes `\\` for `/`, and `@` starts the
    host anew after user information; whitespace, control characters and `%` escapes
    have no place in a host."""
    scheme, colon, rest = url.partition(":")
    if scheme.lower() != "https" or not colon or not rest.startswith("//"):
        return None
    authority = rest[2:]
    for end in "/?#":
        authority = authority.split(end, 1)[0]
    if any(char in "\\@%" or char.isspace() or not char.isprintable() for char in authority):
        return None
    host, _, port = authority.partition(":")
    if port and not port.isdecimal():
        return None
    return host.lower().rstrip(".") or None


def sign_in_url(
    endpoint: str,
    credentials: Credentials,
    destination: str,
    *,
    session_seconds: int | None,
    reporter: Reporter,
) -> str:
    """Exchange the credentials for a sign-in token (getSigninToken), and the login URL
    that opens `destination` with it."""
    session = json.dumps(
        {
            "sessionId": credentials.access_key_id,
            "sessionKey": credentials.secret_access_key,
            "sessionToken": credentials.session_token,
        }
    )
    parameters = {"Action": "getSigninToken", "Session": session}
    if session_seconds is not None:
        parameters["SessionDuration"] = str(session_seconds)
    token = _signin_token(endpoint, parameters, session_seconds, reporter)
    login = urllib.parse.urlencode(
        {"Action": "login", "Issuer": ISSUER, "Destination": destination, "SigninToken": token}
    )
    return f"{endpoint}?{login}"


def _signin_token(
    endpoint: str,
    parameters: Mapping[str, str],
    session_seconds: int | None,
    reporter: Reporter,
) -> str:
    where = _shown(endpoint)
    url = f"{endpoint}?{urllib.parse.urlencode(parameters)}"
    slow = threading.Timer(
        _NOTICE_AFTER_SECONDS,
        reporter.warn,
        [
            f"waiting for the AWS federation endpoint at {where}: up to {MAX_ATTEMPTS} tries "
            f"of {READ_TIMEOUT_SECONDS}s each"
        ],
    )
    slow.daemon = True
    slow.start()
    from awsrun.deadline import DeadlinePassed, call_within

    try:
        body = call_within(_DEADLINE_SECONDS, lambda: _get(url, where, session_seconds, reporter))
    except DeadlinePassed:
        raise StsError(
            f"the AWS federation endpoint at {where} did not answer within "
            f"{_DEADLINE_SECONDS}s; check the network, or {ENDPOINT_VARIABLE} if you set it"
        ) from None
    finally:
        slow.cancel()
    try:
        token = json.loads(body)["SigninToken"]
    except (ValueError, KeyError, TypeError):
        token = None
    if not isinstance(token, str) or not token:
        raise StsError(f"the AWS federation endpoint at {where} answered without a sign-in token")
    return token


def _get(url: str, where: str, session_seconds: int | None, reporter: Reporter) -> bytes:
    """The answer's body; a refusal or an endpoint out of reach after the tries is one line
    that names neither the request nor the answer (both carry secrets). A proxy never
    carries the request to this machine."""
    import http.client

    host = urllib.parse.urlsplit(url).hostname or ""
    handlers = [urllib.request.ProxyHandler({})] if host.lower() in _LOOPBACK_HOSTS else []
    opener = urllib.request.build_opener(*handlers)
    failure = ""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if attempt > 1:
            reporter.info(f"federation endpoint: try {attempt} of {MAX_ATTEMPTS} at {where}")
            time.sleep(_PAUSE_BEFORE_RETRY_SECONDS * (attempt - 1))
        try:
            # federation_endpoint() allows https, and http to loopback, only.
            with opener.open(url, timeout=READ_TIMEOUT_SECONDS) as answer:
                return _read_capped(answer, where)
        except urllib.error.HTTPError as error:
            if error.code < 500:
                raise StsError(_refusal(where, error.code, session_seconds)) from None
            failure = f"HTTP {error.code}"
        except http.client.HTTPException as error:  # not HTTP: a bad status line, ...
            raise StsError(
                f"the AWS federation endpoint at {where} did not answer in HTTP "
                f"({type(error).__name__}); check {ENDPOINT_VARIABLE} if you set it"
            ) from None
        except (urllib.error.URLError, OSError) as error:
            import socket

            reason = getattr(error, "reason", error)
            if isinstance(reason, socket.gaierror):
                failure = "cannot resolve the host name"
            elif isinstance(reason, BaseException):
                failure = type(reason).__name__
            else:
                failure = str(reason)
    raise StsError(
        f"cannot reach the AWS federation endpoint at {where} ({failure}, {MAX_ATTEMPTS} "
        f"tries); check the network, or {ENDPOINT_VARIABLE} if you set it"
    )


def _read_capped(answer: Any, where: str) -> bytes:
    """The body, refused past MAX_ANSWER_BYTES."""
    body = b""
    while True:
        chunk: bytes = answer.read1(8192)
        if not chunk:
            return body
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise StsError(
                f"the AWS federation endpoint at {where} answered more than "
                f"{MAX_ANSWER_BYTES // 1024} KiB, which no sign-in token is"
            )


def _refusal(where: str, status: int, session_seconds: int | None) -> str:
    if session_seconds is not None:
        hint = (
            "a shorter --duration may do (a console session of a role assumed from another "
            "role's session lasts at most 1h)"
        )
    else:
        hint = "if they were revoked, run again with --refresh"
    return f"the AWS federation endpoint at {where} refused the credentials (HTTP {status}); {hint}"


def _shown(endpoint: str) -> str:
    """The endpoint as errors name it: scheme, host and path, no query."""
    parsed = urllib.parse.urlsplit(endpoint)
    return f"{parsed.scheme}://{parsed.netloc}{parsed.path}"


__all__ = [
    "CONSOLE_HOSTS",
    "ENDPOINT_VARIABLE",
    "SIGN_IN_HOSTS",
    "console_destination",
    "federation_endpoint",
    "partition_of_arn",
    "partition_of_region",
    "sign_in_url",
]
