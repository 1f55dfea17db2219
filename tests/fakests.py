"""An STS that misbehaves on purpose, on 127.0.0.1: throttles, fails with 5xx, rejects the
signer, or accepts the request and never answers. moto's server answers everything well;
this one answers AssumeRole the way a bad day at AWS does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

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

# What the server does with an AssumeRole, by the role name at the end of its ARN.
BEHAVIOURS = {
    "Throttled": (400, "Throttling", "Rate exceeded"),
    "Broken": (500, "InternalFailure", "We encountered an internal error"),
    "Expired": (400, "ExpiredToken", "The security token included in the request is expired"),
    "Revoked": (403, "InvalidClientTokenId", "The security token is invalid"),
    "Denied": (403, "AccessDenied", "User is not authorized to perform sts:AssumeRole"),
}


class FakeSts:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self._closing = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                role = form.get("RoleArn", [""])[0].rsplit("/", 1)[-1]
                fake.requests.append(role)
                if role == "Hanging":
                    fake._closing.wait(120)  # read the request, never answer
                    return
                if role in BEHAVIOURS:
                    status, code, message = BEHAVIOURS[role]
                    body = _ERROR.format(code=code, message=message)
                else:
                    status = 200
                    expiration = datetime.now(timezone.utc) + timedelta(hours=1)
                    body = _ASSUMED.format(
                        count=len(fake.requests),
                        expiration=expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        arn=f"arn:aws:sts::123456789012:assumed-role/{role}/s",
                    )
                payload = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def serve(self) -> None:
        self._httpd.serve_forever(poll_interval=0.05)

    def close(self) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def fake_sts() -> Iterator[FakeSts]:
    server = FakeSts()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.close()
        thread.join(timeout=5)
