"""The session behind a profile that only its user can renew, and when it ends: an MFA
session whose code is typed (no `mfa_process`), or an IAM Identity Center token with no
refresh token left. A run that uses one ending soon says so once, with the command that
renews it now, while the user is at the terminal rather than at the next prompt.

On the cache-hit path: the MFA session's end is its cache entry's mtime (one stat).
"""

from __future__ import annotations

from awsrun.durations import clock_time, format_duration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from awsrun.config.chain import Chain, Identity
    from awsrun.credentials.cache import Cache
    from awsrun.credentials.sso_tokens import SsoSession

# Within this of its end, a session that needs the user is said to end soon.
ENDING_SOON_SECONDS = 15 * 60
_MFA = "MFA session"


class SessionEnd:
    """`label` ("the MFA session of arn:..."; `short`: "MFA session") ends at `ends_at`;
    `renewable`: by awsrun itself (mfa_process, a refresh token), so nothing need be said."""

    __slots__ = ("ends_at", "label", "renewable", "short")

    def __init__(self, label: str, short: str, ends_at: float, *, renewable: bool) -> None:
        self.label = label
        self.short = short
        self.ends_at = ends_at
        self.renewable = renewable

    def ending_soon(self, profile: str, now: float) -> str | None:
        """The line for a run of `profile`, or None while there is time (or no need)."""
        left = self.ends_at - now
        if self.renewable or not 0 < left <= ENDING_SOON_SECONDS:
            return None
        at = clock_time(self.ends_at)
        need = "a new MFA code" if self.short == _MFA else "a new sign-in"
        return (
            f"{self.label} ends in {format_duration(left)} (at {at}); then runs need "
            f"{need}: `awsrun login {profile}` renews it now"
        )


def mfa_session_end(
    chain: Chain, identity: Identity | None, cache: Cache | None, now: float
) -> SessionEnd | None:
    """The cached MFA session of the chain, if it has one (from its entry's mtime);
    `identity`: its step's, the one after the root."""
    if chain.mfa_serial is None or cache is None or identity is None:
        return None
    from awsrun.credentials.cache import entry_key

    ends_at = cache.expiry(entry_key(identity), now)
    if ends_at is None:
        return None
    label = chain.mfa_session_name
    assert label is not None
    return SessionEnd(label, _MFA, ends_at, renewable=chain.mfa_process is not None)


def sso_session_end(
    session: SsoSession, token: Mapping[str, Any] | None, now: float
) -> SessionEnd | None:
    """The stored token of `session`: renewable while botocore can refresh it."""
    from awsrun.credentials.sso_tokens import refreshable, seconds_left

    left = seconds_left(token, now)
    if token is None or left is None:
        return None
    return SessionEnd(
        f"the token of {session.label}",
        session.label,
        now + left,
        renewable=refreshable(session, token, now),
    )


__all__ = ["ENDING_SOON_SECONDS", "SessionEnd", "mfa_session_end", "sso_session_end"]
