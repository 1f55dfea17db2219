"""IAM Identity Center on 127.0.0.1, for the tests moto cannot serve: the `sso-oidc` device
flow (RegisterClient, StartDeviceAuthorization, CreateToken), the authorization code flow
with PKCE (the authorize page, which checks the S256 challenge's method and the loopback
redirect and sends the browser back there; CreateToken, which checks the verifier against
the challenge), the refresh grant, and the portal's
GetRoleCredentials, ListAccounts and ListAccountRoles (paged, and throttled beyond a number
of calls in flight, as the real portal is), as botocore's clients call them (restJson).

The user approves a device code by opening its verification URL, and an authorization by
opening the authorize URL, as a browser would (urllib follows the redirect to the listener).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import urllib.parse
from contextlib import AbstractContextManager
from typing import Any

from loopback import LoopbackServer, QuietHandler, serving

ACCOUNT = "123456789012"
# What every secret this fake hands out contains: no test may find one on stderr or the
# terminal (the device code only inside the verification URL the browser gets).
SECRET_MARKERS = (
    "sso-access-token-", "sso-refresh-token-", "client-secret-", "ssoSECRET", "ssoTOKEN",
    "code=device-", "authcode-",
)  # fmt: skip
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class FakeIdentityCenter(LoopbackServer):
    def __init__(self) -> None:
        self.registrations = 0
        self.grants: dict[str, list[str]] = {}  # client id -> the grants it registered for
        self.deny_authorizations = False  # the user clicks "Deny" on the authorize page
        self.authorize_queries: list[dict[str, str]] = []
        self._codes: dict[str, tuple[str, str, str]] = {}  # code -> client, redirect, challenge
        self.authorizations = 0
        self.role_credentials: list[tuple[str, str]] = []  # (account, role) asked for
        self.approved: set[str] = set()
        self.denied: set[str] = set()
        self.slow_down_once = False
        self.assigned_roles = {"Developer"}
        # The instances this fake serves: the tests' sso-session and legacy profile.
        self.start_urls = {"https://corp.awsapps.com/start", "https://old.awsapps.com/start"}
        self.code_lifetime = 600  # seconds a device code stays good for
        self._issued: dict[str, float] = {}
        self.logouts = 0
        self.refreshes = 0
        # The accounts the user is assigned to: id -> (name, its roles).
        self.accounts: dict[str, tuple[str, list[str]]] = {ACCOUNT: ("Corp Dev", ["Developer"])}
        self.page_size = 20
        self.latency = 0.0  # seconds each listing call takes
        self.max_in_flight = 1000  # listing calls beyond this many at once are throttled
        self.listing_calls = 0
        self.throttled = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(QuietHandler):
            def _reply(self, status: int, body: dict[str, Any], error: str = "") -> None:
                headers = {"x-amzn-ErrorType": error} if error else {}
                self.reply(status, json.dumps(body).encode(), "application/json", headers)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                request = json.loads(self.rfile.read(length) or b"{}")
                self._reply(*server.post(self.path, request))

            def do_GET(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parsed.query))
                if parsed.path == "/authorize":
                    status, location = server.authorize(query)
                    headers = {"Location": location} if location else {}
                    self.reply(status, b"", "text/html", headers)
                    return
                token = self.headers.get("x-amz-sso_bearer_token", "")
                self._reply(*server.get(parsed.path, query, token))

        super().__init__(Handler)

    def post(self, path: str, request: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        with self._lock:
            if path == "/client/register":
                issuer = request.get("issuerUrl")
                if issuer is not None and issuer not in self.start_urls:
                    return 400, {"error": "invalid_request"}, "InvalidRequestException"
                self.registrations += 1
                self.grants[f"client-{self.registrations}"] = list(request.get("grantTypes", []))
                return (
                    200,
                    {
                        "clientId": f"client-{self.registrations}",
                        "clientSecret": f"client-secret-{self.registrations}",
                        "clientIdIssuedAt": int(time.time()),
                        "clientSecretExpiresAt": int(time.time()) + 90 * 86400,
                    },
                    "",
                )
            if path == "/device_authorization":
                if request.get("startUrl") not in self.start_urls:
                    # What Identity Center answers for a start URL it does not serve.
                    return 400, {"error": "invalid_request"}, "InvalidRequestException"
                self.authorizations += 1
                code = f"device-{self.authorizations}"
                self._issued[code] = time.monotonic()
                return (
                    200,
                    {
                        "deviceCode": code,
                        "userCode": f"ABCD-{self.authorizations:04d}",
                        "verificationUri": f"{self.endpoint}/verify",
                        "verificationUriComplete": f"{self.endpoint}/verify?code={code}",
                        "expiresIn": self.code_lifetime,
                        "interval": 1,
                    },
                    "",
                )
            if path == "/token" and request.get("grantType") == "refresh_token":
                # botocore's silent renewal of a session's token.
                if not str(request.get("refreshToken", "")).startswith("sso-refresh-token-"):
                    return 400, {"error": "invalid_grant"}, "InvalidGrantException"
                self.refreshes += 1
                return (
                    200,
                    {
                        "accessToken": f"sso-access-token-refreshed-{self.refreshes}",
                        "tokenType": "Bearer",
                        "expiresIn": 8 * 3600,
                        "refreshToken": f"sso-refresh-token-refreshed-{self.refreshes}",
                    },
                    "",
                )
            if path == "/token" and request.get("grantType") == "authorization_code":
                return self._exchange(request)
            if path == "/token":
                if not self._registered_for(request.get("clientId", ""), DEVICE_GRANT):
                    return 400, {"error": "unauthorized_client"}, "UnauthorizedClientException"
                code = request.get("deviceCode", "")
                if time.monotonic() - self._issued.get(code, 0.0) > self.code_lifetime:
                    return 400, {"error": "expired_token"}, "ExpiredTokenException"
                if code in self.denied:
                    return 400, {"error": "access_denied"}, "AccessDeniedException"
                if code not in self.approved:
                    return 400, {"error": "authorization_pending"}, "AuthorizationPendingException"
                if self.slow_down_once:
                    self.slow_down_once = False
                    return 400, {"error": "slow_down"}, "SlowDownException"
                return (
                    200,
                    {
                        "accessToken": f"sso-access-token-{code}",
                        "tokenType": "Bearer",
                        "expiresIn": 8 * 3600,
                        "refreshToken": f"sso-refresh-token-{code}",
                    },
                    "",
                )
            if path == "/logout":
                self.logouts += 1
                return 200, {}, ""
        return 404, {"message": "no such path"}, "ResourceNotFoundException"

    def _registered_for(self, client: str, grant: str) -> bool:
        """A client registered with no grants named (a legacy profile's) has the device's."""
        grants = self.grants.get(client)
        if grants is None:
            return False
        return grant in grants or (not grants and grant == DEVICE_GRANT)

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """The authorize page, approved at once (or denied): a status and where to."""
        with self._lock:
            self.authorize_queries.append(query)
            redirect = query.get("redirect_uri", "")
            target = urllib.parse.urlsplit(redirect)
            if (
                query.get("response_type") != "code"
                or query.get("code_challenge_method") != "S256"
                or not query.get("code_challenge")
                or not self._registered_for(query.get("client_id", ""), "authorization_code")
                or target.hostname != "127.0.0.1"
                or target.path != "/oauth/callback"
            ):
                return 400, ""
            answer = {"state": query.get("state", "")}
            if self.deny_authorizations:
                answer["error"] = "access_denied"
            else:
                self.authorizations += 1
                code = f"authcode-{self.authorizations}"
                self._codes[code] = (query["client_id"], redirect, query["code_challenge"])
                answer["code"] = code
            return 302, f"{redirect}?{urllib.parse.urlencode(answer)}"

    def _exchange(self, request: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        """CreateToken for an authorization code: once, by the client it was given to,
        with the same redirect and the verifier whose S256 is the challenge."""
        issued = self._codes.pop(str(request.get("code", "")), None)
        verifier = str(request.get("codeVerifier", "")).encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if (
            issued is None
            or issued[0] != request.get("clientId")
            or issued[1] != request.get("redirectUri")
            or issued[2] != challenge.decode()
        ):
            return 400, {"error": "invalid_grant"}, "InvalidGrantException"
        number = request["code"].removeprefix("authcode-")
        return (
            200,
            {
                "accessToken": f"sso-access-token-pkce-{number}",
                "tokenType": "Bearer",
                "expiresIn": 8 * 3600,
                "refreshToken": f"sso-refresh-token-pkce-{number}",
            },
            "",
        )

    def get(self, path: str, query: dict[str, str], token: str) -> tuple[int, dict[str, Any], str]:
        if path == "/verify":  # the browser
            code = query.get("code", "")
            with self._lock:
                if code.startswith("deny-"):
                    self.denied.add(code.removeprefix("deny-"))
                else:
                    self.approved.add(code)
            return 200, {"approved": code}, ""
        if path in ("/assignment/accounts", "/assignment/roles"):
            return self._listing(path, query, token)
        if path == "/federation/credentials":
            if not token.startswith("sso-access-token-"):
                return (
                    401,
                    {"message": "Session token not found or invalid"},
                    "UnauthorizedException",
                )
            role, account = query.get("role_name", ""), query.get("account_id", "")
            if role not in self.assigned_roles:
                return 403, {"message": "No access"}, "ForbiddenException"
            with self._lock:
                self.role_credentials.append((account, role))
                serial = len(self.role_credentials)
            return (
                200,
                {
                    "roleCredentials": {
                        "accessKeyId": f"ASIASSO{serial:013d}",
                        "secretAccessKey": f"ssoSECRET{serial:031d}",
                        "sessionToken": f"ssoTOKEN{serial}",
                        "expiration": int((time.time() + 3600) * 1000),
                    }
                },
                "",
            )
        return 404, {"message": "no such path"}, "ResourceNotFoundException"

    def _listing(
        self, path: str, query: dict[str, str], token: str
    ) -> tuple[int, dict[str, Any], str]:
        if not token.startswith("sso-access-token-"):
            return 401, {"message": "Session token not found or invalid"}, "UnauthorizedException"
        with self._lock:
            self.listing_calls += 1
            if self._in_flight >= self.max_in_flight:
                self.throttled += 1
                return 429, {"message": "Too many requests"}, "TooManyRequestsException"
            self._in_flight += 1
        try:
            time.sleep(self.latency)
            start = int(query.get("next_token") or 0)
            size = min(int(query.get("max_result") or self.page_size), self.page_size)
            if path == "/assignment/accounts":
                ids = sorted(self.accounts)[start : start + size]
                items: list[dict[str, str]] = [
                    {"accountId": i, "accountName": self.accounts[i][0], "emailAddress": "x@y"}
                    for i in ids
                ]
                total, key = len(self.accounts), "accountList"
            else:
                account = query.get("account_id", "")
                roles = self.accounts.get(account, ("", []))[1]
                items = [{"roleName": r, "accountId": account} for r in roles[start : start + size]]
                total, key = len(roles), "roleList"
            body: dict[str, Any] = {key: items}
            if start + size < total:
                body["nextToken"] = str(start + size)
            return 200, body, ""
        finally:
            with self._lock:
                self._in_flight -= 1


def identity_center() -> AbstractContextManager[FakeIdentityCenter]:
    return serving(FakeIdentityCenter())
