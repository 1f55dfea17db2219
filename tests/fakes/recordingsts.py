"""An STS on 127.0.0.1 that writes down every request and answers with keys derived from it.

For the differential tests: awsrun and botocore each resolve a profile against it, and the
two lists of requests (action, parameters, signing key id, token, region, and whether the
signature was made with the right secret) and the keys handed back must be the same. The
keys it issues depend on the request alone, so two clients that send the same requests get
the same keys, whenever they run.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials
from loopback import LoopbackSts, serving

_RESULT = """<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<{action}Result><Credentials>
<AccessKeyId>{access_key_id}</AccessKeyId>
<SecretAccessKey>{secret}</SecretAccessKey>
<SessionToken>{token}</SessionToken>
<Expiration>{expiration}</Expiration>
</Credentials>{extra}</{action}Result>
<ResponseMetadata><RequestId>0</RequestId></ResponseMetadata>
</{action}Response>"""
_ERROR = """<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>
<RequestId>0</RequestId></ErrorResponse>"""
# The parameters a request is compared by; Version and Action are the same for everyone.
PARAMETERS = ("RoleArn", "RoleSessionName", "ExternalId", "DurationSeconds", "SerialNumber")
# Where a profile names no role_session_name, botocore makes one of the time and awsrun one
# of the user (a difference docs/botocore.md names): both are recorded as this.
DEFAULT_SESSION_NAME = "<default>"


def _recorded_name(name: str) -> str:
    return DEFAULT_SESSION_NAME if name.startswith(("botocore-session-", "awsrun-")) else name


def secret_for(access_key_id: str) -> str:
    """The secret key that goes with a long-term key id in the differential tests."""
    return "secret-of-" + access_key_id


@dataclass(frozen=True)
class Request:
    action: str
    parameters: tuple[tuple[str, str], ...]
    access_key_id: str
    token: str | None
    region: str
    # Whether the signature checks out with the secret that belongs to the key id: a key id
    # from one file signed with the secret from another does not.
    signed_with_its_secret: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "parameters": dict(self.parameters),
            "access_key_id": self.access_key_id,
            "token": self.token,
            "region": self.region,
            "signed_with_its_secret": self.signed_with_its_secret,
        }


class RecordingSts(LoopbackSts):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Request] = []
        # Secrets of the keys it knows: the ones it issued, and long-term ones by secret_for.
        self._secrets: dict[str, str] = {}
        self._lock = threading.Lock()

    def reset(self) -> list[Request]:
        with self._lock:
            requests, self.requests = self.requests, []
        return requests

    def _secret(self, access_key_id: str) -> str:
        with self._lock:
            return self._secrets.get(access_key_id) or secret_for(access_key_id)

    def answer(self, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        authorization = headers.get("Authorization", "")
        # AWS4-HMAC-SHA256 Credential=KEYID/DATE/REGION/sts/aws4_request, SignedHeaders=...
        scope = authorization.partition("Credential=")[2].partition(",")[0].split("/")
        access_key_id, region = (scope[0], scope[2]) if len(scope) == 5 else ("", "")
        token = headers.get("X-Amz-Security-Token")
        request = Request(
            action=form.get("Action", ""),
            parameters=tuple(
                (name, _recorded_name(form[name]) if name == "RoleSessionName" else form[name])
                for name in PARAMETERS
                if name in form
            ),
            access_key_id=access_key_id,
            token=token,
            region=region,
            signed_with_its_secret=self._signature_checks_out(path, headers, body, region),
        )
        with self._lock:
            self.requests.append(request)
        if request.action not in ("AssumeRole", "GetSessionToken"):
            return 400, _ERROR.format(code="InvalidAction", message=request.action).encode()
        seed = repr((request.action, request.parameters, access_key_id, token)).encode()
        digest = hashlib.sha256(seed).hexdigest()
        issued_key_id = "ASIA" + digest[:16].upper()
        secret = "issued-secret-" + digest[16:40]
        with self._lock:
            self._secrets[issued_key_id] = secret
        duration = int(form.get("DurationSeconds") or 3600)
        expiration = datetime.now(timezone.utc) + timedelta(seconds=duration)
        extra = ""
        if request.action == "AssumeRole":
            arn = (
                form.get("RoleArn", "")
                .replace(":iam::", ":sts::")
                .replace(":role/", ":assumed-role/")
            )
            extra = (
                f"<AssumedRoleUser><AssumedRoleId>AROA{digest[:12].upper()}:s</AssumedRoleId>"
                f"<Arn>{arn}/s</Arn></AssumedRoleUser>"
            )
        return 200, _RESULT.format(
            action=request.action,
            access_key_id=issued_key_id,
            secret=secret,
            token="issued-token-" + digest[40:],
            expiration=expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            extra=extra,
        ).encode()

    def _signature_checks_out(
        self, path: str, headers: Mapping[str, str], body: bytes, region: str
    ) -> bool:
        """Sign the same request again with the secret that belongs to its key id."""
        authorization = headers.get("Authorization", "")
        scope = authorization.partition("Credential=")[2].partition(",")[0].split("/")
        signed = authorization.partition("SignedHeaders=")[2].partition(",")[0].split(";")
        given = authorization.partition("Signature=")[2].strip()
        if len(scope) != 5 or not given:
            return False
        lower = {name.lower(): value for name, value in headers.items()}
        request = AWSRequest(
            method="POST",
            url=f"http://{lower.get('host', '')}{path}",
            data=body,
            headers={name: lower[name] for name in signed if name in lower},
        )
        request.context["timestamp"] = lower.get("x-amz-date", "")
        credentials = BotocoreCredentials(
            scope[0], self._secret(scope[0]), lower.get("x-amz-security-token")
        )
        auth = SigV4Auth(credentials, "sts", region)
        canonical = auth.canonical_request(request)
        expected = auth.signature(auth.string_to_sign(request, canonical), request)
        return bool(expected == given)


def recording_sts() -> AbstractContextManager[RecordingSts]:
    return serving(RecordingSts())
