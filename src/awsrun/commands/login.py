"""`awsrun login` and `awsrun logout`: sign in to an IAM Identity Center session now, rather
than at the first run that needs it; sign out of sessions and forget what they gave."""

from __future__ import annotations

import sys

from awsrun.commands.invocation import profile_choice
from awsrun.errors import UsageError

TYPE_CHECKING = False  # annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping

    from awsrun.commands.invocation import Invocation
    from awsrun.report import Reporter


def run_login(invocation: Invocation, environ: Mapping[str, str], reporter: Reporter) -> int:
    """awsrun login PROFILE | --sso-session NAME."""
    from awsrun.config.files import load_config_files
    from awsrun.config.resolve import resolve_choice
    from awsrun.credentials import sso
    from awsrun.credentials.sso_tokens import session_named, session_of_chain

    name = invocation.values.get("sso_session")
    if len(invocation.words) != (0 if name else 1):
        raise UsageError(
            "awsrun login takes one profile, or --sso-session NAME: awsrun login PROFILE"
        )
    files = load_config_files(environ)
    if name:
        session, words = session_named(name, files), f"--sso-session {name}"
    else:
        choice = profile_choice(invocation, environ)
        session = session_of_chain(resolve_choice(choice, files))
        words = choice.name
    flags = invocation.flags
    said = sso.login(
        session, words, browser="no_browser" not in flags, device_code="use_device_code" in flags
    )
    sys.stdout.write(said)
    return 0


def run_logout(invocation: Invocation, environ: Mapping[str, str], reporter: Reporter) -> int:
    """awsrun logout PROFILE... | --all."""
    from awsrun.config.files import load_config_files
    from awsrun.credentials.cache import Cache
    from awsrun.credentials.sso import logout
    from awsrun.folders import cache_dir

    if ("all" in invocation.flags) == bool(invocation.words):
        raise UsageError("awsrun logout takes profiles or --all (see awsrun logout --help)")
    cache = Cache(cache_dir(environ), reporter)
    said = logout(load_config_files(environ), invocation.words, cache)
    sys.stdout.write("".join(f"{line}\n" for line in said) or "nothing to sign out of\n")
    return 0


__all__ = ["run_login", "run_logout"]
