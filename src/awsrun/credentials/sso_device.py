"""The device authorization flow (RFC 8628) of IAM Identity Center: a code to enter on a
page that may be opened on any device. The way in where no browser can come back to this
machine (SSH, no display, --no-browser, --use-device-code) and for legacy profiles."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from awsrun.credentials.sso_oidc import (
    DEVICE_FLOW,
    code_expired,
    failures_said,
    oidc_client,
    registration,
    store_token,
)
from awsrun.credentials.sso_tokens import SsoSession
from awsrun.errors import StsError

# RFC 8628: on slow_down, poll 5 seconds less often from then on.
_SLOW_DOWN_SECONDS = 5


class DeviceSignIn:
    """The device flow for one session, shown on the terminal `show` writes to, with the
    verification page opened by `open_url` where there is one."""

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
        session = self._session
        with failures_said(session):
            client = oidc_client(session)
            registered = registration(client, session, DEVICE_FLOW, self._now)
            started = client.start_device_authorization(
                clientId=registered["clientId"],
                clientSecret=registered["clientSecret"],
                startUrl=session.start_url,
            )
            self._invite(started)
            created = self._poll(client, registered, started)
        return store_token(session, created, registered, self._now)

    def _invite(self, started: Mapping[str, Any]) -> None:
        url = started.get("verificationUriComplete") or started["verificationUri"]
        self._show(
            f"awsrun: sign in to {self._session.label}: open {started['verificationUri']} "
            f"and enter the code {started['userCode']}\n"
        )
        if self._open_url is not None and self._open_url(url):
            self._show("awsrun: opened your browser; waiting for you to approve there\n")

    def _poll(
        self, client: Any, registered: Mapping[str, str], started: Mapping[str, Any]
    ) -> dict[str, Any]:
        interval = float(started.get("interval") or 5)
        deadline = self._now() + float(started.get("expiresIn") or 600)
        while True:
            self._sleep(interval)
            try:
                created: dict[str, Any] = client.create_token(
                    grantType=DEVICE_FLOW,
                    deviceCode=started["deviceCode"],
                    clientId=registered["clientId"],
                    clientSecret=registered["clientSecret"],
                )
                return created
            except client.exceptions.AuthorizationPendingException:
                pass
            except client.exceptions.SlowDownException:
                interval += _SLOW_DOWN_SECONDS
            if self._now() >= deadline:
                raise StsError(code_expired(self._session))


__all__ = ["DeviceSignIn"]
