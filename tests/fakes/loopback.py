"""HTTP servers on 127.0.0.1 for the tests that need one moto cannot be: an STS-shaped one
whose subclasses say what each POST gets back, and the base the other fakes share."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol, TypeVar


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers in one call."""

    def reply(
        self,
        status: int,
        payload: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


class LoopbackServer:
    """An HTTP server on a free port of 127.0.0.1, answering with `handler`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class LoopbackSts(LoopbackServer):
    def __init__(self) -> None:
        server = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                reply = server.answer(self.path, dict(self.headers.items()), body)
                if reply is None:  # the request was read and is never answered
                    return
                status, payload = reply
                self.reply(status, payload, "text/xml")

        super().__init__(Handler)

    def answer(
        self, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, bytes] | None:
        """The status and body for one POST, or None to leave it unanswered."""
        raise NotImplementedError


class Serves(Protocol):
    """A test server: an HTTP server on loopback, and a way to stop it."""

    _httpd: ThreadingHTTPServer

    def close(self) -> None: ...


Server = TypeVar("Server", bound=Serves)


@contextmanager
def serving(server: Server) -> Iterator[Server]:
    """Serve on a thread of its own until the block ends."""
    thread = threading.Thread(
        target=server._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.close()
        thread.join(timeout=5)
