"""Credentials as awsrun passes them around, and the UTC timestamps they expire at."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone


@dataclass(frozen=True)
class Credentials:
    """A credential set. The secret parts stay out of repr() so a traceback cannot show them."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    # Seconds since the epoch (UTC); None for keys that do not expire.
    expires_at: float | None = None

    @property
    def expiration_iso(self) -> str | None:
        return None if self.expires_at is None else iso_utc(self.expires_at)


def iso_utc(timestamp: float) -> str:
    """`2026-11-28T21:00:00+00:00`: ISO 8601 in UTC, with the offset written out."""
    return datetime.fromtimestamp(int(timestamp), tz=timezone.utc).isoformat()


def parse_iso(text: str) -> float:
    """Seconds since the epoch for an ISO 8601 time; one without an offset is taken as UTC."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


__all__ = ["Credentials", "iso_utc", "parse_iso"]
