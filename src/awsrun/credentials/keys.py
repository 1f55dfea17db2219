"""Credentials as awsrun passes them around, and the UTC timestamps they expire at.

Plain classes, not dataclasses: this module is on the cache-hit path, where importing
`dataclasses` (and with it `inspect`) would cost as much as the rest of the run.
"""

from __future__ import annotations

import time

# RFC 3339 with `Z`: the one form every SDK's parser takes (the JS SDK v3's container
# provider refuses `+00:00`).
_ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


class Credentials:
    """A credential set. The secret parts stay out of repr() so a traceback cannot show them."""

    __slots__ = ("access_key_id", "expires_at", "secret_access_key", "session_token")

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        expires_at: float | None = None,
    ) -> None:
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token
        # Seconds since the epoch (UTC); None for keys that do not expire.
        self.expires_at = expires_at

    def _fields(self) -> tuple[str, str, str | None, float | None]:
        return (self.access_key_id, self.secret_access_key, self.session_token, self.expires_at)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Credentials) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"Credentials(access_key_id={self.access_key_id!r}, expires_at={self.expires_at!r})"

    @property
    def expiration_iso(self) -> str | None:
        return None if self.expires_at is None else iso_utc(self.expires_at)


def iso_utc(timestamp: float) -> str:
    """`2026-11-28T21:00:00Z`: RFC 3339 in UTC."""
    return time.strftime(_ISO_UTC, time.gmtime(int(timestamp)))


def parse_iso(text: str) -> float:
    """Seconds since the epoch for an ISO 8601 time; one without an offset is taken as UTC."""
    from datetime import datetime, timezone  # off the cache-hit path, which reads epochs

    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


__all__ = ["Credentials", "iso_utc", "parse_iso"]
