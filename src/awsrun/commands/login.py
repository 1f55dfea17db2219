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
    from awsrun.config.chain import Chain
    from awsrun.report import Reporter


def run_login(invocation: Invocation, environ: Mapping[str, str], reporter: Reporter) -> int:
    """awsrun login PROFILE | --sso-session NAME: sign in to the profile's IAM Identity
    Center session, or renew its MFA session."""
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
        chain = resolve_choice(choice, files)
        if chain.mfa_serial is not None:
            sys.stdout.write(_renewed_mfa_session(invocation, chain, environ, reporter))
            return 0
        session = session_of_chain(
            chain,
            " and has no mfa_serial, so it has no session to renew; to open the AWS console "
            f"as it: awsrun console {chain.profile}",
        )
        words = choice.name
    flags = invocation.flags
    said = sso.login(
        session, words, browser="no_browser" not in flags, device_code="use_device_code" in flags
    )
    sys.stdout.write(said)
    return 0


def _renewed_mfa_session(
    invocation: Invocation, chain: Chain, environ: Mapping[str, str], reporter: Reporter
) -> str:
    """`awsrun login` of a profile with mfa_serial: a new MFA session now (a code asked for
    on the terminal, or --mfa-code, or mfa_process), in place of the cached one."""
    from awsrun.commands.invocation import credential_options
    from awsrun.credentials.broker import Broker
    from awsrun.credentials.cache import Cache
    from awsrun.durations import clock_time
    from awsrun.folders import cache_dir

    options = credential_options(invocation, environ)
    cache = Cache(cache_dir(environ), reporter)
    broker = Broker(chain, options, cache=cache, reporter=reporter, environ=environ)
    renewed = broker.renew_mfa_session()
    assert renewed.expires_at is not None  # a session's credentials expire
    return f"renewed {chain.mfa_session_name} until {clock_time(renewed.expires_at)}\n"


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
