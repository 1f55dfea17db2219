"""Durations as people type them: `90m`, `2h`, `1h30m`, `3600` (seconds)."""

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


def format_duration(seconds: float) -> str:
    """`1h05m`, `12m`, `40s`: short enough for a status line."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


__all__ = ["format_duration", "parse_duration"]
