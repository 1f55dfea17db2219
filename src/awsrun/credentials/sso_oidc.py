"""What both IAM Identity Center sign-in flows share: botocore's `sso-oidc` client (its
endpoint rules, every call bounded in time), the client registration kept for each flow,
the token written where the AWS CLI v2 keeps it, and one line for each way a sign-in fails.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from awsrun.credentials.keys import iso_utc
from awsrun.credentials.sso_tokens import (
    USABLE_MARGIN_SECONDS,
    SsoSession,
    read_registration,
    read_token,
    refreshable,
    seconds_left,
    seconds_until,
    write_registration,
    write_token,
)
from awsrun.errors import StsError

# The two flows, by the grant that their registration must carry.
DEVICE_FLOW = "urn:ietf:params:oauth:grant-type:device_code"
CODE_FLOW = "authorization_code"
# RFC 8252: a loopback redirect is registered without its port, which is chosen per sign-in.
LOOPBACK_REDIRECT = "http://127.0.0.1/oauth/callback"
_CLIENT_NAME = "awsrun"
# A registration this close to its end is replaced rather than used for a sign-in.
_REGISTRATION_MARGIN_SECONDS = 3600


def oidc_client(session: SsoSession) -> Any:
    """botocore's client for the session's region, at the endpoint configured for the
    profile in use (its variables and `services` block), else botocore's."""
    import botocore.session

    from awsrun.credentials.sts import CLIENT_CONFIG

    return Bounded(
        botocore.session.Session().create_client(
            "sso-oidc",
            region_name=session.region,
            endpoint_url=session.oidc_endpoint,
            config=CLIENT_CONFIG,
        )
    )


@contextlib.contextmanager
def failures_said(session: SsoSession) -> Iterator[None]:
    """Every botocore failure inside as one StsError line about `session`."""
    from botocore.exceptions import BotoCoreError, ClientError

    from awsrun.credentials.sts import CALL_DEADLINE_SECONDS
    from awsrun.deadline import DeadlinePassed

    try:
        yield
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
            f"{CALL_DEADLINE_SECONDS}s; check the network and its sso_region ({session.region})"
        ) from None


def registration(
    client: Any, session: SsoSession, flow: str, now: Callable[[], float] = time.time
) -> dict[str, str]:
    """A client registration with the grants of `flow`: the kept one while it is valid,
    else a new one, kept for the next sign-in."""
    kept = _registration_in(read_registration(session, flow) or {})
    left = seconds_until(kept and kept["registrationExpiresAt"], now())
    if kept and left is not None and left > _REGISTRATION_MARGIN_SECONDS:
        return kept
    arguments: dict[str, Any] = {"clientName": _CLIENT_NAME, "clientType": "public"}
    if session.name:  # a session-style sign-in can be refreshed
        arguments["scopes"] = session.scopes.replace(",", " ").split()
        arguments["grantTypes"] = [flow, "refresh_token"]
    if flow == CODE_FLOW:
        arguments.update(redirectUris=[LOOPBACK_REDIRECT], issuerUrl=session.start_url)
    registered = client.register_client(**arguments)
    made = {
        "clientId": registered["clientId"],
        "clientSecret": registered["clientSecret"],
        "registrationExpiresAt": iso_utc(registered["clientSecretExpiresAt"]),
    }
    write_registration(session, flow, made)
    return made


def store_token(
    session: SsoSession,
    created: Mapping[str, Any],
    registration: Mapping[str, str],
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """The token CreateToken gave, stored with the AWS CLI v2's fields (the registration
    too, which botocore needs to refresh it)."""
    token = {
        "startUrl": session.start_url,
        "region": session.region,
        "accessToken": created["accessToken"],
        "expiresAt": iso_utc(now() + int(created["expiresIn"])),
        **registration,
    }
    if created.get("refreshToken"):
        token["refreshToken"] = created["refreshToken"]
    write_token(session, token)
    return token


def fresh_access_token(session: SsoSession, now: Callable[[], float] = time.time) -> str | None:
    """An access token good for a minute at least: the stored one, else one renewed with
    its refresh token (and stored, as botocore would); None when neither can be had."""
    from botocore.exceptions import BotoCoreError, ClientError

    from awsrun.deadline import DeadlinePassed

    token = read_token(session)
    left = seconds_left(token, now())
    if token is None or left is None:
        return None
    if left > USABLE_MARGIN_SECONDS:  # else renewed, as botocore would before a call
        return str(token["accessToken"])
    registered = _registration_in(token)
    if registered is None or not refreshable(session, token, now()):
        return None
    try:
        created = oidc_client(session).create_token(
            grantType="refresh_token",
            clientId=registered["clientId"],
            clientSecret=registered["clientSecret"],
            refreshToken=token["refreshToken"],
        )
    except (BotoCoreError, ClientError, DeadlinePassed):
        return None  # refused or unreachable: a sign-in is the way on
    return str(store_token(session, created, registered, now)["accessToken"])


def _registration_in(record: Mapping[str, Any]) -> dict[str, str] | None:
    """The registration's three fields, from a kept registration or a token; None when
    one is missing."""
    found = {
        name: record.get(name) for name in ("clientId", "clientSecret", "registrationExpiresAt")
    }
    if all(isinstance(value, str) and value for value in found.values()):
        return {name: str(value) for name, value in found.items()}
    return None


def sign_out(session: SsoSession, access_token: str) -> None:
    """The portal's sign-out, so the token is no good anywhere; best effort: the token
    file goes whatever the answer."""
    import botocore.session
    from botocore.exceptions import BotoCoreError, ClientError

    from awsrun.credentials.sts import CLIENT_CONFIG
    from awsrun.deadline import DeadlinePassed

    with contextlib.suppress(BotoCoreError, ClientError, DeadlinePassed):
        client: Any = Bounded(
            botocore.session.Session().create_client(
                "sso", region_name=session.region, config=CLIENT_CONFIG
            )
        )
        client.logout(accessToken=access_token)


class Bounded:
    """A botocore client whose every call ends within CALL_DEADLINE_SECONDS (or raises
    DeadlinePassed); its other attributes (`exceptions`, `meta`) as they are."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        from awsrun.credentials.sts import CALL_DEADLINE_SECONDS
        from awsrun.deadline import call_within

        found = getattr(self._client, name)
        if name in ("exceptions", "meta") or not callable(found):
            return found

        def bounded(**arguments: Any) -> Any:
            return call_within(CALL_DEADLINE_SECONDS, lambda: found(**arguments))

        return bounded


def code_expired(session: SsoSession) -> str:
    return (
        f"the sign-in code for {session.label} expired before it was approved: "
        "run the command again"
    )


def denied(session: SsoSession) -> str:
    return f"the sign-in to {session.label} was denied in the browser"


def _sign_in_error(session: SsoSession, error: Any) -> str:
    code = error.response.get("Error", {}).get("Code", "")
    if code == "AccessDeniedException":
        return denied(session)
    if code == "ExpiredTokenException":
        return code_expired(session)
    if code in ("InvalidRequestException", "InvalidClientException", "UnauthorizedClientException"):
        return (
            f"{session.label} refused the sign-in ({code}); check its sso_start_url "
            f"({session.start_url}) and sso_region ({session.region})"
        )
    return f"signing in to {session.label} failed: {code or 'an error'}"


__all__ = [
    "CODE_FLOW",
    "DEVICE_FLOW",
    "LOOPBACK_REDIRECT",
    "Bounded",
    "code_expired",
    "denied",
    "failures_said",
    "fresh_access_token",
    "oidc_client",
    "registration",
    "sign_out",
    "store_token",
]
