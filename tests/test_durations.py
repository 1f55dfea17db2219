"""awsrun.durations: durations as people type them and as awsrun writes them. Pure."""

from __future__ import annotations

import pytest

from awsrun.durations import format_duration, format_durations, parse_duration
from awsrun.errors import UsageError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3600", 3600), ("90m", 5400), ("2h", 7200), ("1h30m", 5400), ("45s", 45), ("1d", 86400)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text, what="--duration") == seconds


@pytest.mark.parametrize("text", ["", "soon", "1x", "h", "-5", "1.5h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError, match="--duration"):
        parse_duration(text, what="--duration")


def test_format_duration() -> None:
    assert [format_duration(s) for s in (3900, 720, 40, -5)] == ["1h05m", "12m", "40s", "0s"]


def test_two_durations_that_would_read_alike_keep_their_seconds() -> None:
    assert format_durations(845, 895) == ("14m05s", "14m55s")
    assert format_durations(845, 900) == ("14m", "15m")
    assert format_durations(3605, 3659) == ("1h00m05s", "1h00m59s")
