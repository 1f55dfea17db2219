"""The command line: parse, dispatch, and map every failure to an exit status and one line.

The parser is written out rather than built on argparse: awsrun's grammar is "options,
a profile, then a command that is passed on untouched", which argparse's REMAINDER
handles poorly, and the cache-hit path should not pay for importing it.
"""

from __future__ import annotations

import os
import sys

from awsrun import __version__
from awsrun.commands.invocation import Invocation
from awsrun.errors import EXIT_AWSRUN_FAILED, AwsrunError, UsageError

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import MutableMapping, Sequence

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
    "--template": "template",
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
    "--use-device-code": "use_device_code",
    "--print": "print",
    "--url-in-argv": "url_in_argv",
    "--env": "from_env",
    "--no-check": "no_check",
    "--no-session": "no_session",
    "--move": "move",
    "--prune": "prune",
    "--dry-run": "dry_run",
}
# Options that some command words alone take.
_ACTION_OPTIONS = {
    "service": "console", "destination": "console", "print": "console",
    "sso_session": "login roles populate",
    "url_in_argv": "console", "output": "env", "from_env": "add", "no_check": "add",
    "move": "add", "template": "populate", "prune": "populate", "dry_run": "populate",
}  # fmt: skip
COMMAND_WORDS = (
    "exec", "env", "credential-process", "list", "clear", "login", "logout", "console",
    "completion", "add", "remove", "rotate", "roles", "populate",
)  # fmt: skip


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
            raise _unknown_option(name, value if has_value else None, args[position + 1 :])
        position += 1
    return position


def _unknown_option(name: str, value: str | None, rest: Sequence[str]) -> UsageError:
    """The line for an option awsrun does not take, naming what was meant where it can."""
    if name == "--profile":  # aws-vault's and the AWS CLI's spelling
        profile = value or (rest[0] if rest else "PROFILE")
        return UsageError(
            f"awsrun takes the profile as a word, not --profile: awsrun {profile} -- COMMAND"
        )
    if len(name) > 2 and set(name[1:]) == {"v"}:
        return UsageError(
            f"{name}: give -v once (awsrun has one level of detail; --debug adds tracebacks)"
        )
    return UsageError(
        f"unknown option {name!r}: awsrun's options go before the profile, "
        "the command's after it (see awsrun --help)"
    )


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
        elif topic:
            raise UsageError(
                f"{topic[0]!r} is not a command word: awsrun help takes one of "
                f"{', '.join(COMMAND_WORDS)}"
            )
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


def _refuse_other_actions_options(invocation: Invocation) -> None:
    for name, actions in _ACTION_OPTIONS.items():
        given = name in invocation.values or name in invocation.flags
        if given and invocation.action not in actions.split():
            option = "--" + name.replace("_", "-")
            action = actions.split()[0]
            raise UsageError(
                f"{option} goes with awsrun {' or '.join(actions.split())} only "
                f"(see awsrun {action} --help)"
            )


def _dispatch(invocation: Invocation, environ: MutableMapping[str, str], reporter: Reporter) -> int:
    """Run the command the invocation names: only its module is imported."""
    action = invocation.action
    if action == "list":
        from awsrun.commands.inventory import run_list

        return run_list(invocation, environ, reporter)
    if action == "clear":
        from awsrun.commands.inventory import run_clear

        return run_clear(invocation, environ, reporter)
    if action == "completion":
        from awsrun.commands import completion

        flags = [name for name in _FLAG_OPTIONS if name.startswith("--") and name != "--names"]
        return completion.run(invocation, COMMAND_WORDS, flags, list(_VALUE_OPTIONS))
    if action == "login":
        from awsrun.commands.login import run_login

        return run_login(invocation, environ, reporter)
    if action == "logout":
        from awsrun.commands.login import run_logout

        return run_logout(invocation, environ, reporter)
    if action == "add":
        from awsrun.commands.keys import run_add

        return run_add(invocation, environ, reporter)
    if action == "remove":
        from awsrun.commands.keys import run_remove

        return run_remove(invocation, environ, reporter)
    if action == "roles":
        from awsrun.commands.roles import run_roles

        return run_roles(invocation, environ, reporter)
    if action == "populate":
        from awsrun.commands.roles import run_populate

        return run_populate(invocation, environ, reporter)
    if action == "rotate":
        from awsrun.commands.keys import run_rotate

        return run_rotate(invocation, environ, reporter)
    if action == "console":
        from awsrun.commands import console

        return console.run(invocation, environ, reporter)
    from awsrun.commands import run  # run, exec, env, credential-process

    return run.run(invocation, environ, reporter)


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
        return _dispatch(invocation, os.environ, reporter)
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
