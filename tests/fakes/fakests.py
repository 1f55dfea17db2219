"""An STS that misbehaves on purpose, on 127.0.0.1: throttles, fails with 5xx, rejects the
signer, or accepts the request and never answers. moto's server answers everything well;
this one answers AssumeRole the way a bad day at AWS does."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

from loopback import LoopbackSts, serving

_ERROR = """<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>
<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"""

_ASSUMED = """<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<AssumeRoleResult><Credentials>
<AccessKeyId>ASIAFAKESTSFAKESTS{count:02d}</AccessKeyId>
<SecretAccessKey>fakeSECRETfakeSECRET{count:02d}</SecretAccessKey>
<SessionToken>fakeTOKEN{count:02d}</SessionToken>
<Expiration>{expiration}</Expiration>
</Credentials>
<AssumedRoleUser><AssumedRoleId>AROAFAKE:s</AssumedRoleId><Arn>{arn}</Arn></AssumedRoleUser>
</AssumeRoleResult><ResponseMetadata><RequestId>0</RequestId></ResponseMetadata>
</AssumeRoleResponse>"""

_SESSION = """<GetSessionTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<GetSessionTokenResult><Credentials>
<AccessKeyId>ASIAFAKESESSION{count:05d}</AccessKeyId>
<SecretAccessKey>fakeSECRETsession{count:02d}</SecretAccessKey>
<SessionToken>fakeTOKENsession{count:02d}</SessionToken>
<Expiration>{expiration}</Expiration>
</Credentials></GetSessionTokenResult>
<ResponseMetadata><RequestId>0</RequestId></ResponseMetadata></GetSessionTokenResponse>"""
# The MFA code this STS takes as wrong (mistyped, or used already).
WRONG_CODE = "000000"

# What the server does with an AssumeRole, by the role name at the end of its ARN.
BEHAVIOURS = {
    "Throttled": (400, "Throttling", "Rate exceeded"),
    "Broken": (500, "InternalFailure", "We encountered an internal error"),
    "Expired": (400, "ExpiredToken", "The security token included in the request is expired"),
    "Revoked": (403, "InvalidClientTokenId", "The security token is invalid"),
    "Denied": (403, "AccessDenied", "User is not authorized to perform sts:AssumeRole"),
}


class FakeSts(LoopbackSts):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[str] = []
        self._closing = threading.Event()

    def answer(
        self, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, bytes] | None:
        form = parse_qs(body.decode())
        expiration = datetime.now(timezone.utc) + timedelta(hours=1)
        if form.get("Action") == ["GetSessionToken"]:
            self.requests.append("GetSessionToken")
            if form.get("TokenCode") == [WRONG_CODE]:
                message = "MultiFactorAuthentication failed with invalid MFA one time pass code."
                return 403, _ERROR.format(code="AccessDenied", message=message).encode()
            return 200, _SESSION.format(
                count=len(self.requests), expiration=expiration.strftime("%Y-%m-%dT%H:%M:%SZ")
            ).encode()
        role = form.get("RoleArn", [""])[0].rsplit("/", 1)[-1]
        self.requests.append(role)
        if role == "Hanging":
            self._closing.wait(120)  # read the request, never answer
            return None
        if role in BEHAVIOURS:
            status, code, message = BEHAVIOURS[role]
            return status, _ERROR.format(code=code, message=message).encode()
        return 200, _ASSUMED.format(
            count=len(self.requests),
            expiration=expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            arn=f"arn:aws:sts::123456789012:assumed-role/{role}/s",
        ).encode()

    def close(self) -> None:
        self._closing.set()
        super().close()


def fake_sts() -> AbstractContextManager[FakeSts]:
    return serving(FakeSts())
