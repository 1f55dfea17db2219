"""Durations as people type them (`90m`, `2h`, `1h30m`, `3600` seconds) and as awsrun
says them, and the local clock time a line says something ends at."""

from __future__ import annotations

from awsrun.errors import UsageError


def parse_duration(text: str, *, what: str) -> int:
    """Seconds in `text`; `what` names the option in the error message."""
    import re  # only when a duration was given: keeps `re` off the plain cache-hit path

    spec = text.strip().lower()
    if spec.isdigit():
        return int(spec)
    match = re.fullmatch(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", spec)
    if not spec or match is None:
        raise UsageError(
            f"{what} takes a duration such as 90m, 2h, 1h30m or 3600 (seconds), not {text!r}"
        )
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def format_duration(seconds: float, *, exact: bool = False) -> str:
    """`1h05m`, `12m`, `40s`: short enough for a status line; `exact` keeps the seconds
    (`14m05s`), for two figures that would otherwise read the same."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m" + (f"{secs:02d}s" if exact else "")
    if minutes:
        return f"{minutes}m" + (f"{secs:02d}s" if exact else "")
    return f"{secs}s"


def clock_time(at: float) -> str:
    """`14:05`: the local time of the instant `at` (seconds since the epoch)."""
    import time

    return time.strftime("%H:%M", time.localtime(at))


def format_durations(first: float, second: float) -> tuple[str, str]:
    """Both durations, with seconds when the short forms would look alike
    (`14m05s left, less than 15m00s`, not `14m left, less than 14m`)."""
    short = format_duration(first), format_duration(second)
    if short[0] != short[1]:
        return short
    return format_duration(first, exact=True), format_duration(second, exact=True)


__all__ = ["format_duration", "format_durations", "parse_duration"]
