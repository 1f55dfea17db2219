"""exec (and the plain `awsrun PROFILE -- COMMAND`), env and credential-process: one
profile's credentials, handed on three ways. exec puts them into the command's environment
and becomes the command (or, with --server, serves them to it); env writes them as lines
for a shell; credential-process prints the document of the SDKs' credential_process
protocol. On the cache-hit path: what it imports at the top is paid on every run.
"""

from __future__ import annotations

import sys

from awsrun.commands.invocation import credential_options, profile_choice
from awsrun.errors import CommandNotFound, UsageError
from awsrun.internal import enter_resolving, leave_resolving

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import MutableMapping

    from awsrun.commands.invocation import Invocation
    from awsrun.config.chain import Chain
    from awsrun.config.choice import Choice
    from awsrun.credentials.cache import Cache
    from awsrun.credentials.keys import Credentials
    from awsrun.credentials.options import Options
    from awsrun.report import Reporter

RUNS_A_COMMAND = ("run", "exec")


class _Fetched:
    """What a profile's run has once its credentials are in hand."""

    __slots__ = ("cache", "chain", "credentials", "session", "variables")

    def __init__(
        self, chain: Chain, cache: Cache, credentials: Credentials, variables: dict[str, str]
    ) -> None:
        self.chain = chain
        self.cache = cache
        self.credentials = credentials
        self.variables = variables
        # The session behind the profile that only the user renews, and when it ends.
        self.session: tuple[str, float] | None = None


def run(invocation: Invocation, environ: MutableMapping[str, str], reporter: Reporter) -> int:
    if "server" in invocation.flags and invocation.action not in RUNS_A_COMMAND:
        raise UsageError(f"--server runs a command: it does not go with awsrun {invocation.action}")
    options = credential_options(invocation, environ)
    choice = profile_choice(invocation, environ)
    starts_shell = invocation.action in RUNS_A_COMMAND and not invocation.command
    if starts_shell and choice.origin:
        # A shell only for a profile named here: `awsrun -v` alone is more likely a slip.
        raise UsageError(
            "name the profile to start a shell as (awsrun PROFILE), or give a command "
            "(awsrun -- COMMAND)"
        )
    reporter.info(choice.describe())
    outer_stack = enter_resolving(choice.name, environ)
    if invocation.action == "env":
        return _write_env(invocation, choice, options, environ, reporter, outer_stack)
    fetched = _fetch(invocation, choice, options, environ, reporter)
    leave_resolving(outer_stack, environ)  # the command is not resolving anything
    if invocation.action == "credential-process":
        from awsrun.handoff.formats import credential_process_document

        credentials = fetched.credentials
        sys.stdout.write(
            credential_process_document(
                credentials.access_key_id,
                credentials.secret_access_key,
                credentials.session_token,
                credentials.expiration_iso,
            )
        )
        return 0
    return _start_command(invocation, choice.name, options, fetched, environ, reporter)


def _fetch(
    invocation: Invocation,
    choice: Choice,
    options: Options,
    environ: MutableMapping[str, str],
    reporter: Reporter,
) -> _Fetched:
    from awsrun.config.files import load_config_files
    from awsrun.config.resolve import resolve_choice
    from awsrun.credentials.broker import Broker
    from awsrun.credentials.cache import Cache
    from awsrun.folders import cache_dir
    from awsrun.handoff.childenv import credential_variables

    chain = resolve_choice(choice, load_config_files(environ))
    if "server" in invocation.flags:  # before any STS call or MFA prompt
        from awsrun.handoff.server import refuse_shadowing

        default = chain.files.config_sections.get("default", {})
        refuse_shadowing(chain.files.config_path, default, environ)
    cache = Cache(cache_dir(environ), reporter)
    broker = Broker(chain, options, cache=cache, reporter=reporter, environ=environ)
    credentials = broker.credentials()
    if broker.region:
        reporter.info(f"region {broker.region}: from {broker.region_source}")
    variables = credential_variables(
        credentials,
        region=broker.region,
        profile=choice.name,
        users_region=broker.region_source == "AWS_DEFAULT_REGION",
    )
    fetched = _Fetched(chain, cache, credentials, variables)
    end = broker.session_end
    if end is not None and not end.renewable:
        fetched.session = (end.short, end.ends_at)
    return fetched


def _write_env(
    invocation: Invocation,
    choice: Choice,
    options: Options,
    environ: MutableMapping[str, str],
    reporter: Reporter,
    outer_stack: str | None,
) -> int:
    from awsrun.handoff.formats import FORMATS

    output_format = invocation.values.get("format", "sh")
    if output_format not in FORMATS:
        raise UsageError(f"--format takes one of {', '.join(FORMATS)}, not {output_format!r}")
    to_file = "output" in invocation.values
    try:
        fetched = _fetch(invocation, choice, options, environ, reporter)
        leave_resolving(outer_stack, environ)
        from awsrun.handoff.childenv import removed_variables

        removed = removed_variables(fetched.variables, environ)
        text = FORMATS[output_format].text(fetched.variables, removed)
        if to_file:
            from awsrun.handoff.output import write_private

            write_private(invocation.values["output"], text)
        else:
            sys.stdout.write(text)
        return 0
    except BaseException:
        if not to_file:
            from awsrun.handoff.childenv import IDENTITY_VARIABLES

            # `eval` of nothing succeeds: make it fail, and leave no credentials from before.
            sys.stdout.write(FORMATS[output_format].failure(IDENTITY_VARIABLES))
        raise


def _start_command(
    invocation: Invocation,
    profile: str,
    options: Options,
    fetched: _Fetched,
    environ: MutableMapping[str, str],
    reporter: Reporter,
) -> int:
    """exec the command with the credentials in its environment, or run it under --server."""
    command = invocation.command or [environ.get("SHELL") or "/bin/sh"]
    serve = "server" in invocation.flags
    if not invocation.command:
        from awsrun.handoff.childenv import shell_banner

        reporter.warn(
            shell_banner(profile, fetched.credentials, server=serve, session=fetched.session)
        )
    if not serve:
        from awsrun.handoff.childenv import child_environment
        from awsrun.handoff.execute import exec_command

        try:
            return exec_command(command, child_environment(environ, fetched.variables))
        except CommandNotFound:
            _refuse_a_profile_as_the_command(invocation, fetched.chain)
            raise
    from awsrun.credentials.broker import Broker
    from awsrun.handoff.server import CredentialServer, server_environment
    from awsrun.handoff.supervise import with_signals_unblocked

    later = Broker(
        fetched.chain,
        options.for_later_refreshes(),
        cache=fetched.cache,
        reporter=reporter,
        environ=environ,
    )
    server = CredentialServer(
        with_signals_unblocked(later.credentials),
        fetched.credentials,
        label=f"profile {profile!r}",
        reporter=reporter,
        min_ttl=options.min_ttl,
    )
    child_env = server_environment(
        environ,
        fetched.variables,
        server.url,
        server.token,
        fetched.chain.files.credentials_path,
    )
    return server.run(command, child_env)


def _refuse_a_profile_as_the_command(invocation: Invocation, chain: Chain) -> None:
    """`awsrun -- prodaccess aws ...`: the profile was written where the command goes."""
    word = invocation.command[0] if invocation.command else ""
    if invocation.profile is None and word in chain.files.profiles:
        rest = " ".join(invocation.command[1:]) or "COMMAND"
        raise CommandNotFound(f"{word} is a profile, not a command: awsrun {word} -- {rest}")


__all__ = ["run"]
