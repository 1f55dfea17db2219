"""awsrun.cli: how a command line splits into awsrun's options, the profile and the
command that is passed on untouched. Pure."""

from __future__ import annotations

import pytest

from awsrun.cli import parse_args
from awsrun.errors import UsageError


def test_options_then_profile_then_command() -> None:
    parsed = parse_args(["-v", "--min-ttl=50m", "--region", "us-east-2", "prod", "--", "ls", "-l"])

    assert parsed.profile == "prod"
    assert parsed.command == ["ls", "-l"]
    assert parsed.values == {"min_ttl": "50m", "region": "us-east-2"}
    assert parsed.flags == {"verbose"}


def test_everything_after_the_profile_belongs_to_the_command() -> None:
    assert parse_args(["prod", "terraform", "-v", "--", "x"]).command == [
        "terraform",
        "-v",
        "--",
        "x",
    ]
    assert parse_args(["--", "make", "-j4"]).profile is None
    assert parse_args(["--", "make", "-j4"]).command == ["make", "-j4"]


@pytest.mark.parametrize("args", [["--bogus", "p"], ["--duration"], ["--refresh=yes", "p"]])
def test_bad_command_lines(args: list[str]) -> None:
    with pytest.raises(UsageError):
        parse_args(args)
