"""The command line: parse, dispatch, and map every failure to an exit status and one line.

The parser is written out rather than built on argparse: awsrun's grammar is "options,
a profile, then a command that is passed on untouched", which argparse's REMAINDER
handles poorly, and the cache-hit path should not pay for importing it.
"""

from __future__ import annotations

import os
import sys

from awsrun import __version__
from awsrun.errors import EXIT_AWSRUN_FAILED, AwsrunError, ConfigError, UsageError
from awsrun.internal import RESOLVING_VARIABLE

TYPE_CHECKING = False  # as in broker.py: imports for annotations stay off the cache-hit path
if TYPE_CHECKING:
    from collections.abc import Mapping, MutableMapping, Sequence

    from awsrun.broker import Options
    from awsrun.choice import Choice
    from awsrun.profiles import Chain, ConfigFiles
    from awsrun.report import Reporter

_VALUE_OPTIONS = {
    "--min-ttl": "min_ttl",
    "--duration": "duration",
    "--region": "region",
    "--session-name": "session_name",
    "--mfa-code": "mfa_code",
    "--mfa-duration": "mfa_duration",
    "--format": "format",
    "--service": "service",
    "--destination": "destination",
    "--sso-session": "sso_session",
    "--output": "output",
}
_FLAG_OPTIONS = {
    "--refresh": "refresh",
    "-v": "verbose",
    "--verbose": "verbose",
    "--debug": "debug",
    "-h": "help",
    "--help": "help",
    "--version": "version",
    "--json": "json",
    "--all": "all",
    "--mfa": "mfa",
    "--names": "names",
    "--server": "server",
    "--no-browser": "no_browser",
    "--print": "print",
    "--url-in-argv": "url_in_argv",
}
# Options that one command word alone takes.
_ACTION_OPTIONS = {
    "service": "console", "destination": "console", "print": "console", "sso_session": "login",
    "url_in_argv": "console", "output": "env",
}  # fmt: skip
COMMAND_WORDS = (
    "exec", "env", "credential-process", "list", "clear", "login", "logout", "console",
    "completion",
)  # fmt: skip


class Invocation:
    """The command line, split: awsrun's options, the action, its words, the command."""

    def __init__(self) -> None:
        # "run" is the plain `awsrun PROFILE -- CMD`; "exec" is its explicit spelling.
        self.action = "run"
        self.profile: str | None = None
        # The words after a command word other than exec: profiles, a shell name.
        self.words: list[str] = []
        self.command: list[str] = []
        self.values: dict[str, str] = {}
        self.flags: set[str] = set()


def _take_options(args: Sequence[str], position: int, invocation: Invocation) -> int:
    """Read options from `position` on; return where the first other word stands."""
    while position < len(args):
        arg = args[position]
        if arg == "--" or not arg.startswith("-") or arg == "-":
            return position
        name, has_value, value = arg.partition("=")
        if name in _FLAG_OPTIONS and not has_value:
            invocation.flags.add(_FLAG_OPTIONS[name])
        elif name in _VALUE_OPTIONS:
            if not has_value:
                position += 1
                if position == len(args):
                    raise UsageError(f"{name} needs a value (see awsrun --help)")
                value = args[position]
            invocation.values[_VALUE_OPTIONS[name]] = value
        else:
            raise UsageError(
                f"unknown option {name!r}: awsrun's options go before the profile, "
                "the command's after it (see awsrun --help)"
            )
        position += 1
    return position


def parse_args(args: Sequence[str]) -> Invocation:
    invocation = Invocation()
    position = _take_options(args, 0, invocation)
    # `awsrun help [WORD]`, `awsrun version`: what a newcomer types; `awsrun exec help --`
    # still reaches a profile of that name.
    word = args[position] if position < len(args) else None
    if word in ("help", "version") and len(args) - position <= (2 if word == "help" else 1):
        invocation.flags.add(word)
        topic = args[position + 1 : position + 2]
        if topic and topic[0] in COMMAND_WORDS:
            invocation.action = topic[0]
        return invocation
    if position < len(args) and args[position] in COMMAND_WORDS:
        invocation.action = args[position]
        position = _take_options(args, position + 1, invocation)
        if invocation.action not in ("run", "exec"):
            # These take options and words in any order, and run no command.
            while position < len(args):
                word = args[position]
                if word == "--":
                    raise UsageError(
                        f"awsrun {invocation.action} runs no command: drop '--' (for a "
                        f"profile named {invocation.action}: awsrun exec "
                        f"{invocation.action} -- ...)"
                    )
                invocation.words.append(word)
                position = _take_options(args, position + 1, invocation)
            return invocation
    if position < len(args):
        if args[position] == "--":
            invocation.command = list(args[position + 1 :])
            return invocation
        invocation.profile = args[position]
        rest = list(args[position + 1 :])
        if rest and rest[0] != "--":
            _refuse_awsrun_option(rest, invocation.profile)
        invocation.command = rest[1:] if rest[:1] == ["--"] else rest
    return invocation


def _refuse_awsrun_option(rest: Sequence[str], profile: str) -> None:
    """`awsrun prod -v -- cmd`: the option was meant for awsrun, not as the command."""
    name, has_value, _ = rest[0].partition("=")
    if name in _FLAG_OPTIONS or name in _VALUE_OPTIONS:
        spelled = " ".join(rest[:2]) if name in _VALUE_OPTIONS and not has_value else rest[0]
        raise UsageError(
            f"{name} is an awsrun option: put it before the profile "
            f"(awsrun {spelled} {profile} -- ...)"
        )


def _profile_choice(invocation: Invocation, environ: Mapping[str, str]) -> Choice:
    from awsrun.choice import choose_profile

    if invocation.action in ("env", "credential-process", "login", "console"):
        if len(invocation.words) > 1:
            raise UsageError(
                f"awsrun {invocation.action} takes one profile and runs no command: "
                f"drop {invocation.words[1]!r}"
            )
        if invocation.words:
            return choose_profile(invocation.words[0], environ)
    return choose_profile(invocation.profile, environ)


def _credential_options(invocation: Invocation, environ: Mapping[str, str]) -> Options:
    from awsrun.broker import Options, lock_timeout_from
    from awsrun.durations import parse_duration
    from awsrun.profiles import MAX_DURATION_SECONDS, MIN_DURATION_SECONDS, session_name_problem

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
    return Options(
        refresh="refresh" in invocation.flags,
        session_name=session_name,
        region=values.get("region"),
        mfa_code=values.get("mfa_code"),
        lock_timeout=lock_timeout_from(environ),
        browser="no_browser" not in invocation.flags,
        **durations,
    )


def _run_with_credentials(
    invocation: Invocation, environ: MutableMapping[str, str], reporter: Reporter
) -> int:
    """exec, env and credential-process: credentials for one profile, then hand them on."""
    from awsrun.broker import Broker
    from awsrun.cache import Cache, cache_dir
    from awsrun.childenv import child_environment, credential_variables, removed_variables
    from awsrun.execute import exec_command
    from awsrun.profiles import load_config_files

    if "server" in invocation.flags and invocation.action not in ("run", "exec"):
        raise UsageError(f"--server runs a command: it does not go with awsrun {invocation.action}")
    options = _credential_options(invocation, environ)
    choice = _profile_choice(invocation, environ)
    profile = choice.name
    starts_shell = invocation.action in ("run", "exec") and not invocation.command
    if starts_shell and choice.origin:
        # A shell only for a profile named here: `awsrun -v` alone is more likely a slip.
        raise UsageError(
            "name the profile to start a shell as (awsrun PROFILE), or give a command "
            "(awsrun -- COMMAND)"
        )
    reporter.info(choice.describe())
    output_format = invocation.values.get("format", "sh")
    # On every path, so that a credential_process that runs awsrun for this profile again
    # stops at once instead of waiting for the lock this run holds.
    outer_stack = _enter_resolving(profile, environ)
    if invocation.action == "env":
        from awsrun.formats import FORMATS

        if output_format not in FORMATS:
            raise UsageError(f"--format takes one of {', '.join(FORMATS)}, not {output_format!r}")
    try:
        chain = _resolve(choice, invocation, load_config_files(environ))
        if "server" in invocation.flags:  # before any STS call or MFA prompt
            from awsrun.server import refuse_shadowing

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
            profile=profile,
            users_region=broker.region_source == "AWS_DEFAULT_REGION",
        )
        # The command is not resolving anything: the stack is not passed on to it.
        if outer_stack is None:
            environ.pop(RESOLVING_VARIABLE, None)
        else:
            environ[RESOLVING_VARIABLE] = outer_stack
        if invocation.action == "env":
            text = FORMATS[output_format].text(variables, removed_variables(variables, environ))
            if "output" in invocation.values:
                from awsrun.output import write_private

                write_private(invocation.values["output"], text)
            else:
                sys.stdout.write(text)
            return 0
    except BaseException:
        if invocation.action == "env" and "output" not in invocation.values:
            from awsrun.childenv import IDENTITY_VARIABLES

            # `eval` of nothing succeeds: make it fail, and leave no credentials from before.
            sys.stdout.write(FORMATS[output_format].failure(IDENTITY_VARIABLES))
        raise
    if invocation.action == "credential-process":
        from awsrun.formats import credential_process_document

        sys.stdout.write(
            credential_process_document(
                credentials.access_key_id,
                credentials.secret_access_key,
                credentials.session_token,
                credentials.expiration_iso,
            )
        )
        return 0
    command = invocation.command or [environ.get("SHELL") or "/bin/sh"]
    if starts_shell:
        from awsrun.childenv import shell_banner

        reporter.warn(shell_banner(profile, credentials, server="server" in invocation.flags))
    if "server" in invocation.flags:
        from awsrun.server import CredentialServer, server_environment
        from awsrun.supervise import with_signals_unblocked

        later = Broker(
            chain, options.for_later_refreshes(), cache=cache, reporter=reporter, environ=environ
        )
        server = CredentialServer(
            with_signals_unblocked(later.credentials),
            credentials,
            label=f"profile {profile!r}",
            reporter=reporter,
            min_ttl=options.min_ttl,
        )
        child_env = server_environment(
            environ, variables, server.url, server.token, chain.files.credentials_path
        )
        return server.run(command, child_env)
    return exec_command(command, child_environment(environ, variables))


def _resolve(choice: Choice, invocation: Invocation, files: ConfigFiles) -> Chain:
    from awsrun.profiles import resolve_chain

    try:
        return resolve_chain(choice.name, files, choice.origin)
    except ConfigError as error:
        import shutil  # error path only

        name = choice.name
        if choice.origin or name in files.profiles or not shutil.which(name):
            raise
        # `awsrun aws s3 ls`: a command where the profile goes.
        raise ConfigError(
            f"{error}; to run {name} as the default profile: awsrun -- {name} ..."
        ) from None


def _enter_resolving(profile: str, environ: MutableMapping[str, str]) -> str | None:
    """Put `profile` on the stack of profiles being resolved; the stack before it."""
    outer = environ.get(RESOLVING_VARIABLE)
    stack = [name for name in (outer or "").split("\n") if name]
    if profile in stack:
        loop = " -> ".join([*stack, profile])
        raise ConfigError(
            f"credential_process loop: {loop}; a profile's credential_process must not run "
            "`awsrun credential-process` for itself (point it at the role profile instead)"
        )
    environ[RESOLVING_VARIABLE] = "\n".join([*stack, profile])
    return outer


def _run_inventory(invocation: Invocation, environ: Mapping[str, str], reporter: Reporter) -> int:
    """list and clear: the config files and the cache, no STS."""
    from awsrun import inventory

    if invocation.action == "list":
        if invocation.words:
            raise UsageError(f"awsrun list takes no profile: drop {invocation.words[0]!r}")
        return inventory.run_list(environ, reporter, invocation.flags)
    return inventory.run_clear(environ, reporter, invocation.words, invocation.flags)


def _run_login(invocation: Invocation, environ: Mapping[str, str]) -> int:
    """awsrun login PROFILE | --sso-session NAME: sign in to an IAM Identity Center session
    now."""
    from awsrun import sso
    from awsrun.profiles import load_config_files

    name = invocation.values.get("sso_session")
    if len(invocation.words) != (0 if name else 1):
        raise UsageError(
            "awsrun login takes one profile, or --sso-session NAME: awsrun login PROFILE"
        )
    files = load_config_files(environ)
    if name:
        session, words = sso.session_named(name, files), f"--sso-session {name}"
    else:
        choice = _profile_choice(invocation, environ)
        session = sso.session_of_chain(_resolve(choice, invocation, files))
        words = choice.name
    sys.stdout.write(sso.login(session, words, browser="no_browser" not in invocation.flags))
    return 0


def _run_logout(invocation: Invocation, environ: Mapping[str, str], reporter: Reporter) -> int:
    """awsrun logout PROFILE... | --all: sign out of their IAM Identity Center sessions."""
    from awsrun.cache import Cache, cache_dir
    from awsrun.profiles import load_config_files
    from awsrun.sso import logout

    if ("all" in invocation.flags) == bool(invocation.words):
        raise UsageError("awsrun logout takes profiles or --all (see awsrun logout --help)")
    cache = Cache(cache_dir(environ), reporter)
    said = logout(load_config_files(environ), invocation.words, cache)
    sys.stdout.write("".join(f"{line}\n" for line in said) or "nothing to sign out of\n")
    return 0


def _run_console(
    invocation: Invocation, environ: MutableMapping[str, str], reporter: Reporter
) -> int:
    """awsrun console PROFILE: the AWS console as the profile, in the browser or printed."""
    from awsrun.cache import Cache, cache_dir
    from awsrun.console import ConsoleRequest, open_console
    from awsrun.profiles import load_config_files

    values = invocation.values
    if "service" in values and "destination" in values:
        raise UsageError("awsrun console takes --service or --destination, not both")
    if "server" in invocation.flags:
        raise UsageError("--server runs a command: it does not go with awsrun console")
    options = _credential_options(invocation, environ)
    # --duration is the console session's length: the role session stays as cached.
    request = ConsoleRequest(
        service=values.get("service"),
        destination=values.get("destination"),
        session_seconds=options.duration,
        print_only="print" in invocation.flags,
        url_in_argv="url_in_argv" in invocation.flags,
    )
    options.duration = None
    choice = _profile_choice(invocation, environ)
    reporter.info(choice.describe())
    _enter_resolving(choice.name, environ)  # a credential_process loop stops at once
    chain = _resolve(choice, invocation, load_config_files(environ))
    cache = Cache(cache_dir(environ), reporter)
    return open_console(chain, options, request, cache=cache, reporter=reporter, environ=environ)


def _refuse_other_actions_options(invocation: Invocation) -> None:
    for name, action in _ACTION_OPTIONS.items():
        given = name in invocation.values or name in invocation.flags
        if given and invocation.action != action:
            option = "--" + name.replace("_", "-")
            raise UsageError(
                f"{option} goes with awsrun {action} only (see awsrun {action} --help)"
            )


def _run_completion(invocation: Invocation) -> int:
    from awsrun.completion import completion_script

    shells = ("bash", "zsh", "fish")
    if len(invocation.words) != 1 or invocation.words[0] not in shells:
        raise UsageError("awsrun completion takes one of bash, zsh, fish")
    flags = [name for name in _FLAG_OPTIONS if name.startswith("--") and name != "--names"]
    from awsrun.formats import FORMATS

    script = completion_script(
        invocation.words[0], COMMAND_WORDS, flags, list(_VALUE_OPTIONS), list(FORMATS)
    )
    sys.stdout.write(script)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    debug = False
    try:
        invocation = parse_args(args)
        debug = "debug" in invocation.flags
        if "help" in invocation.flags:
            from awsrun.helptext import ACTION_HELP, HELP

            sys.stdout.write(ACTION_HELP.get(invocation.action, HELP))
            return 0
        if "version" in invocation.flags:
            sys.stdout.write(f"awsrun {__version__}\n")
            return 0
        if not args:
            raise UsageError("name a profile and a command: awsrun PROFILE -- COMMAND (see --help)")
        from awsrun.report import Reporter

        reporter = Reporter(verbose="verbose" in invocation.flags or debug)
        _refuse_other_actions_options(invocation)
        if invocation.action in ("list", "clear"):
            return _run_inventory(invocation, os.environ, reporter)
        if invocation.action == "completion":
            return _run_completion(invocation)
        if invocation.action == "login":
            return _run_login(invocation, os.environ)
        if invocation.action == "logout":
            return _run_logout(invocation, os.environ, reporter)
        if invocation.action == "console":
            return _run_console(invocation, os.environ, reporter)
        return _run_with_credentials(invocation, os.environ, reporter)
    except AwsrunError as error:
        if debug:
            import traceback

            traceback.print_exc()
        sys.stderr.write(f"awsrun: {error}\n")
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if debug:
            raise
        # The type only: an exception's text could quote a secret.
        sys.stderr.write(
            f"awsrun: unexpected {type(error).__name__}; run again with --debug for the "
            "traceback and report it\n"
        )
        return EXIT_AWSRUN_FAILED


__all__ = ["COMMAND_WORDS", "Invocation", "main", "parse_args"]
