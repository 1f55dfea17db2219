"""The command line: parse, run, and map every failure to an exit status and one line.

The parser is written out rather than built on argparse: awsrun's grammar is "options,
a profile, then a command that is passed on untouched", which argparse's REMAINDER
handles poorly, and the cache-hit path should not pay for importing it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping, Sequence

from awsrun import __version__
from awsrun.errors import EXIT_AWSRUN_FAILED, AwsrunError, ConfigError, UsageError

HELP = """\
usage: awsrun [OPTIONS] [PROFILE] [--] [COMMAND [ARG...]]
       awsrun exec PROFILE -- COMMAND      (for a profile named like a command word)
       awsrun env PROFILE [--format sh|fish|powershell|cmd|dotenv|json]
       awsrun credential-process PROFILE   (for `credential_process = ...` in a profile)

  awsrun prodaccess -- terraform plan
  awsrun -v --min-ttl 50m prodaccess -- terraform apply
  awsrun -- aws s3 ls              # $AWS_PROFILE, else the default profile
  eval "$(awsrun env prodaccess)"  # the same variables, in this shell

Runs COMMAND with temporary credentials for an AWS CLI profile (~/.aws/config and
~/.aws/credentials): STS AssumeRole for role profiles, kept in a private cache until
they are near expiry. With no COMMAND, runs $SHELL.

options (before the profile):
  --min-ttl DURATION     use cached credentials only with this much time left (15m)
  --refresh              fetch new credentials whatever the cache holds
  --duration DURATION    session length for a new role session (e.g. 2h, 90m, 3600)
  --region REGION        the command's AWS_REGION / AWS_DEFAULT_REGION
  --session-name NAME    RoleSessionName for a new role session
  --mfa-code CODE        the MFA code, instead of mfa_process or a prompt on the terminal
  --mfa-duration DURATION  length of the MFA session that serves every role (12h)
  -v, --verbose          say where the credentials came from (never prints secrets)
  --debug                show tracebacks
  -h, --help, --version

environment read: AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE, AWS_ENDPOINT_URL,
  AWS_ENDPOINT_URL_STS, AWSRUN_CACHE_DIR, AWSRUN_MIN_TTL, AWSRUN_LOCK_TIMEOUT (120s)
environment set: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
  AWS_CREDENTIAL_EXPIRATION, AWS_REGION, AWS_DEFAULT_REGION, AWSRUN_PROFILE
environment removed: AWS_PROFILE, AWS_DEFAULT_PROFILE, AWS_SECURITY_TOKEN
exit status: the command's own; 125 awsrun failed; 126 not executable; 127 not found
"""

_VALUE_OPTIONS = {
    "--min-ttl": "min_ttl",
    "--duration": "duration",
    "--region": "region",
    "--session-name": "session_name",
    "--mfa-code": "mfa_code",
    "--mfa-duration": "mfa_duration",
    "--format": "format",
}
COMMAND_WORDS = ("exec", "env", "credential-process")
# Set for the credential_process that boto3 runs, so an awsrun inside it sees the profiles
# already being resolved this way and stops a loop instead of recursing.
RESOLVING_VARIABLE = "AWSRUN_CREDENTIAL_PROCESS_STACK"
_FLAG_OPTIONS = {
    "--refresh": "refresh",
    "-v": "verbose",
    "--verbose": "verbose",
    "--debug": "debug",
    "-h": "help",
    "--help": "help",
    "--version": "version",
}


class Invocation:
    """The command line, split: awsrun's options, the profile, the command."""

    def __init__(self) -> None:
        self.action = "exec"
        self.profile: str | None = None
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
    if position < len(args) and args[position] in COMMAND_WORDS:
        invocation.action = args[position]
        position = _take_options(args, position + 1, invocation)
        if invocation.action != "exec":
            # `env` and `credential-process` take options and one profile, in any order.
            while position < len(args):
                word = args[position]
                if word == "--" or invocation.profile is not None:
                    raise UsageError(f"awsrun {invocation.action} runs no command: drop {word!r}")
                invocation.profile = word
                position = _take_options(args, position + 1, invocation)
            return invocation
    if position < len(args):
        if args[position] == "--":
            invocation.command = list(args[position + 1 :])
            return invocation
        invocation.profile = args[position]
        rest = list(args[position + 1 :])
        invocation.command = rest[1:] if rest[:1] == ["--"] else rest
    return invocation


def _profile_name(invocation: Invocation, environ: Mapping[str, str]) -> str:
    return (
        invocation.profile
        or environ.get("AWS_PROFILE")
        or environ.get("AWS_DEFAULT_PROFILE")
        or "default"
    )


def _run(invocation: Invocation, environ: MutableMapping[str, str], debug: bool) -> int:
    from awsrun.broker import Broker, Options, lock_timeout_from
    from awsrun.cache import Cache, cache_dir
    from awsrun.childenv import child_environment, credential_variables, removed_variables
    from awsrun.durations import parse_duration
    from awsrun.execute import exec_command
    from awsrun.formats import FORMATS, credential_process_document
    from awsrun.profiles import load_config_files, resolve_chain
    from awsrun.report import Reporter

    values = invocation.values
    reporter = Reporter(verbose="verbose" in invocation.flags or debug)
    min_ttl = values.get("min_ttl") or environ.get("AWSRUN_MIN_TTL")
    min_ttl_source = "--min-ttl" if "min_ttl" in values else "AWSRUN_MIN_TTL"
    options = Options(
        refresh="refresh" in invocation.flags,
        session_name=values.get("session_name"),
        mfa_code=values.get("mfa_code"),
        lock_timeout=lock_timeout_from(environ),
        **({"min_ttl": parse_duration(min_ttl, what=min_ttl_source)} if min_ttl else {}),
        **(
            {"duration": parse_duration(values["duration"], what="--duration")}
            if "duration" in values
            else {}
        ),
        **(
            {"mfa_duration": parse_duration(values["mfa_duration"], what="--mfa-duration")}
            if "mfa_duration" in values
            else {}
        ),
    )
    profile = _profile_name(invocation, environ)
    output_format = values.get("format", "sh")
    if invocation.action == "credential-process":
        _enter_credential_process(profile, environ)
    elif output_format not in FORMATS:
        raise UsageError(f"--format takes one of {', '.join(FORMATS)}, not {output_format!r}")
    chain = resolve_chain(profile, load_config_files(environ))
    cache = Cache(cache_dir(environ), reporter)
    broker = Broker(chain, options, cache=cache, reporter=reporter, environ=environ)
    credentials = broker.credentials()
    if invocation.action == "credential-process":
        sys.stdout.write(
            credential_process_document(
                credentials.access_key_id,
                credentials.secret_access_key,
                credentials.session_token,
                credentials.expiration_iso,
            )
        )
        return 0
    region = values.get("region") or chain.region
    variables = credential_variables(credentials, region=region, profile=profile)
    if invocation.action == "env":
        sys.stdout.write(FORMATS[output_format].render(variables, removed_variables(variables)))
        return 0
    command = invocation.command or [environ.get("SHELL") or "/bin/sh"]
    return exec_command(command, child_environment(environ, variables))


def _enter_credential_process(profile: str, environ: MutableMapping[str, str]) -> None:
    stack = [name for name in environ.get(RESOLVING_VARIABLE, "").split("\n") if name]
    if profile in stack:
        loop = " -> ".join([*stack, profile])
        raise ConfigError(
            f"credential_process loop: {loop}; a profile's credential_process must not run "
            "`awsrun credential-process` for itself (point it at the role profile instead)"
        )
    environ[RESOLVING_VARIABLE] = "\n".join([*stack, profile])


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    debug = False
    try:
        invocation = parse_args(args)
        debug = "debug" in invocation.flags
        if "help" in invocation.flags:
            sys.stdout.write(HELP)
            return 0
        if "version" in invocation.flags:
            sys.stdout.write(f"awsrun {__version__}\n")
            return 0
        if not args:
            raise UsageError("name a profile and a command: awsrun PROFILE -- COMMAND (see --help)")
        return _run(invocation, os.environ, debug)
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


__all__ = ["HELP", "Invocation", "main", "parse_args"]
