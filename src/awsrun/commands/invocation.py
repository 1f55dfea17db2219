"""The command line as `awsrun.cli` parsed it, and what every command that acts as a profile
reads from it: which profile, and the options that shape its credentials."""

from __future__ import annotations

from awsrun.errors import UsageError

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import Mapping

    from awsrun.config.choice import Choice
    from awsrun.credentials.options import Options

# The command words that take one profile (as a word after them) and run no command.
ONE_PROFILE_ACTIONS = (
    "env",
    "credential-process",
    "login",
    "console",
    "add",
    "remove",
    "rotate",
    "roles",
    "populate",
)


class Invocation:
    """The command line, split: awsrun's options, the action, its words, the command."""

    __slots__ = ("action", "command", "flags", "profile", "values", "words")

    def __init__(self) -> None:
        # "run" is the plain `awsrun PROFILE -- CMD`; "exec" is its explicit spelling.
        self.action = "run"
        self.profile: str | None = None
        # The words after a command word other than exec: profiles, a shell name.
        self.words: list[str] = []
        self.command: list[str] = []
        self.values: dict[str, str] = {}
        self.flags: set[str] = set()


def profile_choice(invocation: Invocation, environ: Mapping[str, str]) -> Choice:
    """The profile named on the command line, else the one the environment chooses."""
    from awsrun.config.choice import choose_profile

    if invocation.action in ONE_PROFILE_ACTIONS:
        if len(invocation.words) > 1:
            raise UsageError(
                f"awsrun {invocation.action} takes one profile and runs no command: "
                f"drop {invocation.words[1]!r}"
            )
        if invocation.words:
            return choose_profile(invocation.words[0], environ)
    return choose_profile(invocation.profile, environ)


def credential_options(invocation: Invocation, environ: Mapping[str, str]) -> Options:
    """--min-ttl, --duration, --session-name and the rest, checked, for the broker."""
    from awsrun.config.chain import MAX_DURATION_SECONDS, MIN_DURATION_SECONDS, session_name_problem
    from awsrun.credentials.options import Options, lock_timeout_from
    from awsrun.durations import parse_duration

    values = invocation.values
    durations: dict[str, int] = {}
    min_ttl = values.get("min_ttl") or environ.get("AWSRUN_MIN_TTL")
    if min_ttl:
        source = "--min-ttl" if "min_ttl" in values else "AWSRUN_MIN_TTL"
        durations["min_ttl"] = parse_duration(min_ttl, what=source)
    for name in ("duration", "mfa_duration"):
        if name in values:
            option = "--" + name.replace("_", "-")
            durations[name] = parse_duration(values[name], what=option)
    duration = durations.get("duration")
    if duration is not None and not MIN_DURATION_SECONDS <= duration <= MAX_DURATION_SECONDS:
        raise UsageError(
            f"--duration takes 15m to 12h (what STS allows for a role session), "
            f"not {values['duration']!r}"
        )
    session_name = values.get("session_name")
    problem = None if session_name is None else session_name_problem(session_name)
    if problem:
        raise UsageError(f"--session-name {session_name!r} is not one STS takes: {problem}")
    options = Options(
        refresh="refresh" in invocation.flags,
        duration=duration,
        session_name=session_name,
        region=values.get("region"),
        mfa_code=values.get("mfa_code"),
        lock_timeout=lock_timeout_from(environ),
        browser="no_browser" not in invocation.flags,
        device_code="use_device_code" in invocation.flags,
        no_session="no_session" in invocation.flags,
    )
    options.min_ttl = durations.get("min_ttl", options.min_ttl)
    options.mfa_duration = durations.get("mfa_duration", options.mfa_duration)
    return options


__all__ = ["ONE_PROFILE_ACTIONS", "Invocation", "credential_options", "profile_choice"]
