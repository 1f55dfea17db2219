"""Which profile a run is for, and why: the one named on the command line, else
AWS_DEFAULT_PROFILE or AWS_PROFILE (botocore's order), else the profile of the awsrun
session the run is in (AWSRUN_PROFILE), else `default`.

AWSRUN_PROFILE comes before `default` because awsrun removes AWS_PROFILE from the
command's environment: inside `awsrun prodaccess` (a shell) or after
`eval "$(awsrun env prodaccess)"`, a bare `awsrun -- aws ...` means prodaccess, not the
long-term keys of [default].
"""

from __future__ import annotations

from awsrun.errors import UsageError

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import Mapping

_SESSION_VARIABLE = "AWSRUN_PROFILE"


class Choice:
    __slots__ = ("name", "origin")

    def __init__(self, name: str, origin: str) -> None:
        self.name = name
        # Where the name came from, for -v and for errors; "" when it was named.
        self.origin = origin

    def describe(self) -> str:
        """`profile 'prod' (from AWS_PROFILE)`, as -v says it."""
        return f"profile {self.name!r} ({self.origin or 'named on the command line'})"


def choose_profile(named: str | None, environ: Mapping[str, str]) -> Choice:
    if named is not None:
        if not named:
            raise UsageError("the profile name is empty: name a profile, or leave it out")
        return Choice(named, "")
    # botocore's order: the first of these that is set, even to nothing.
    for variable in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"):
        name = environ.get(variable)
        if name is not None:
            if not name:
                raise UsageError(f"{variable} is set but empty: unset it, or name a profile")
            return Choice(name, f"from {variable}")
    session = environ.get(_SESSION_VARIABLE)
    if session:
        return Choice(session, f"from {_SESSION_VARIABLE}: the awsrun session this runs in")
    return Choice("default", f"no profile named, and no AWS_PROFILE or {_SESSION_VARIABLE}")


__all__ = ["Choice", "choose_profile"]
