"""What the command line asks of the credentials: freshness, session length and name, the
region, an MFA code, how long to wait for another awsrun, whether to open a browser, and
whether stored keys may reach the command. On the cache-hit path: plain, no imports."""

from __future__ import annotations

from awsrun.credentials.cache import DEFAULT_LOCK_TIMEOUT_SECONDS

TYPE_CHECKING = False  # annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_MIN_TTL_SECONDS = 15 * 60
DEFAULT_MFA_DURATION_SECONDS = 12 * 3600


class Options:
    """What the command line asks of the credentials."""

    __slots__ = (
        "browser", "device_code", "duration", "lock_timeout", "mfa_code", "mfa_duration", "min_ttl",
        "no_session", "refresh", "region", "session_name",
    )  # fmt: skip

    def __init__(
        self,
        *,
        min_ttl: int = DEFAULT_MIN_TTL_SECONDS,
        refresh: bool = False,
        duration: int | None = None,
        session_name: str | None = None,
        region: str | None = None,
        mfa_code: str | None = None,
        mfa_duration: int = DEFAULT_MFA_DURATION_SECONDS,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS,
        browser: bool = True,
        device_code: bool = False,
        no_session: bool = False,
    ) -> None:
        self.min_ttl = min_ttl
        self.refresh = refresh
        self.duration = duration
        self.session_name = session_name
        # --region: the session's region, as the AWS CLI's --region is.
        self.region = region
        self.mfa_code = mfa_code
        self.mfa_duration = mfa_duration
        self.lock_timeout = lock_timeout
        # An SSO sign-in opens the browser (False: --no-browser; the URL is on the terminal).
        self.browser = browser
        # --use-device-code: the device flow even where the browser could come back here.
        self.device_code = device_code
        # --no-session: stored long-term keys go to the command as they are.
        self.no_session = no_session

    def for_later_refreshes(self) -> Options:
        """The same, for the refreshes of a long run: a typed MFA code has been used up,
        and --refresh meant the first fetch only."""
        return Options(
            min_ttl=self.min_ttl,
            duration=self.duration,
            session_name=self.session_name,
            region=self.region,
            mfa_duration=self.mfa_duration,
            lock_timeout=self.lock_timeout,
            browser=self.browser,
            device_code=self.device_code,
            no_session=self.no_session,
        )

    def __repr__(self) -> str:  # no MFA code
        return f"Options(min_ttl={self.min_ttl}, refresh={self.refresh}, duration={self.duration})"


def lock_timeout_from(environ: Mapping[str, str]) -> float:
    value = environ.get("AWSRUN_LOCK_TIMEOUT")
    if not value:
        return DEFAULT_LOCK_TIMEOUT_SECONDS
    from awsrun.durations import parse_duration

    return float(parse_duration(value, what="AWSRUN_LOCK_TIMEOUT"))


__all__ = [
    "DEFAULT_MFA_DURATION_SECONDS",
    "DEFAULT_MIN_TTL_SECONDS",
    "Options",
    "lock_timeout_from",
]
