"""The AWS federation endpoint on 127.0.0.1: `Action=getSigninToken` takes a Session of
temporary credentials and answers a SigninToken, recording what it was given."""

from __future__ import annotations

import json
import threading
import urllib.parse
from contextlib import AbstractContextManager
from typing import Any

from loopback import LoopbackServer, QuietHandler, serving


class FakeFederation(LoopbackServer):
    def __init__(self) -> None:
        # Each getSigninToken's Session document and SessionDuration (None when absent).
        self.sessions: list[dict[str, Any]] = []
        self.durations: list[str | None] = []
        # The HTTP status to answer instead of a token (a refusal, an outage).
        self.refuse_with: int | None = None
        self._lock = threading.Lock()
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                status, body = server.get(self.path)
                self.reply(status, json.dumps(body).encode(), "application/json")

        super().__init__(Handler)

    @property
    def endpoint(self) -> str:
        return f"{super().endpoint}/federation"

    def get(self, path: str) -> tuple[int, dict[str, Any]]:
        parsed = urllib.parse.urlsplit(path)
        query = urllib.parse.parse_qs(parsed.query)
        if parsed.path != "/federation" or query.get("Action") != ["getSigninToken"]:
            return 404, {"message": "no such action"}
        if self.refuse_with is not None:
            return self.refuse_with, {"message": "refused"}
        with self._lock:
            self.sessions.append(json.loads(query["Session"][0]))
            self.durations.append(query.get("SessionDuration", [None])[0])
            serial = len(self.sessions)
        return 200, {"SigninToken": f"signin-token-{serial}-secret"}


def federation() -> AbstractContextManager[FakeFederation]:
    return serving(FakeFederation())
