"""awsrun console: the AWS web console, signed in as a profile with the credentials every
other command uses (the same cache, MFA session and lock), through the federation endpoint."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Mapping, MutableMapping

from awsrun.commands.invocation import Invocation, credential_options, profile_choice
from awsrun.config.chain import Boto3Profile, Chain
from awsrun.credentials.broker import Broker
from awsrun.credentials.browser import browser_opener, browser_problem
from awsrun.credentials.cache import Cache
from awsrun.credentials.federation import (
    ENDPOINT_VARIABLE,
    console_destination,
    federation_endpoint,
    partition_of_arn,
    partition_of_region,
    sign_in_url,
)
from awsrun.credentials.keys import Credentials
from awsrun.credentials.options import Options
from awsrun.durations import clock_time, format_duration
from awsrun.errors import AwsrunError, ConfigError, UsageError
from awsrun.internal import enter_resolving
from awsrun.report import Reporter

# A federation token lasts this long unless --duration says otherwise, as a role session does.
DEFAULT_FEDERATION_SECONDS = 3600


class ConsoleRequest:
    """What the command line asks of the console: its page, its length, print or open."""

    __slots__ = ("destination", "print_only", "service", "session_seconds", "url_in_argv")

    def __init__(
        self,
        *,
        service: str | None = None,
        destination: str | None = None,
        session_seconds: int | None = None,
        print_only: bool = False,
        url_in_argv: bool = False,
    ) -> None:
        self.service = service
        self.destination = destination
        # --duration: the console session's length, not the role session's.
        self.session_seconds = session_seconds
        self.print_only = print_only
        # The browser is handed the sign-in URL itself, not a private page that forwards.
        self.url_in_argv = url_in_argv


def run(invocation: Invocation, environ: MutableMapping[str, str], reporter: Reporter) -> int:
    """awsrun console PROFILE: the AWS console as the profile, in the browser or printed."""
    from awsrun.config.files import load_config_files
    from awsrun.config.resolve import resolve_choice
    from awsrun.folders import cache_dir

    values = invocation.values
    if "service" in values and "destination" in values:
        raise UsageError("awsrun console takes --service or --destination, not both")
    if "server" in invocation.flags:
        raise UsageError("--server runs a command: it does not go with awsrun console")
    options = credential_options(invocation, environ)
    # --duration is the console session's length: the role session stays as cached.
    request = ConsoleRequest(
        service=values.get("service"),
        destination=values.get("destination"),
        session_seconds=options.duration,
        print_only="print" in invocation.flags,
        url_in_argv="url_in_argv" in invocation.flags,
    )
    options.duration = None
    choice = profile_choice(invocation, environ)
    reporter.info(choice.describe())
    enter_resolving(choice.name, environ)  # a credential_process loop stops at once
    chain = resolve_choice(choice, load_config_files(environ))
    _refuse_an_emulators_credentials(chain.endpoint, environ)
    cache = Cache(cache_dir(environ), reporter)
    return open_console(chain, options, request, cache=cache, reporter=reporter, environ=environ)


# The hosts of AWS's own STS endpoints, in every partition.
_AWS_HOSTS = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


def _refuse_an_emulators_credentials(endpoint: str | None, environ: Mapping[str, str]) -> None:
    """Credentials from a local or other non-AWS STS mean nothing to AWS's sign-in
    endpoint: say so before any call, and send them nowhere."""
    import urllib.parse

    if endpoint is None or ENDPOINT_VARIABLE in environ:
        return
    host = (urllib.parse.urlsplit(endpoint).hostname or "").lower()
    if not host.endswith(_AWS_HOSTS):
        raise ConfigError(
            f"this profile's STS is {endpoint}, not AWS's: the AWS console would refuse its "
            f"credentials; set {ENDPOINT_VARIABLE} to a federation endpoint that takes them"
        )


def open_console(
    chain: Chain,
    options: Options,
    request: ConsoleRequest,
    *,
    cache: Cache,
    reporter: Reporter,
    environ: Mapping[str, str],
) -> int:
    _refuse_mfa_session(chain)
    # Before any STS call or MFA prompt: nowhere to open the URL is known at once.
    opener = None if request.print_only else browser_opener()
    problem = None if request.print_only else browser_problem()
    if problem is not None:
        raise AwsrunError(
            f"{problem}: fix it, or run 'awsrun console --print {chain.profile}' and open "
            "the URL it prints"
        )
    if not request.print_only and opener is None:
        raise AwsrunError(
            "no browser to open the console in (no DISPLAY, WAYLAND_DISPLAY or BROWSER): "
            f"run 'awsrun console --print {chain.profile}' and open the URL it prints"
        )
    if environ.get(ENDPOINT_VARIABLE):
        reporter.warn(
            f"{ENDPOINT_VARIABLE} is set: the credentials go to the federation endpoint it "
            "names, not AWS's"
        )
    broker = Broker(chain, options, cache=cache, reporter=reporter, environ=environ)
    # Where the console is, from the config alone: a wrong --destination fails before any call.
    partition = partition_of_arn(_role_arn(chain)) or partition_of_region(broker.region)
    destination, endpoint = _where(partition, broker.region, request, environ)
    credentials = broker.credentials()
    session_seconds = request.session_seconds
    federated = not credentials.session_token
    if federated:
        credentials, user_arn = _federation_token(chain, broker, credentials, request, reporter)
        session_seconds = None  # the endpoint refuses SessionDuration for these
        user_partition = partition_of_arn(user_arn)
        if user_partition is not None and user_partition != partition:
            destination, endpoint = _where(user_partition, broker.region, request, environ)
    url = sign_in_url(
        endpoint, credentials, destination, session_seconds=session_seconds, reporter=reporter
    )
    lasts = _lasts(chain.profile, credentials, session_seconds, federated=federated)
    if request.print_only:
        reporter.info(lasts)
        sys.stdout.write(url + "\n")
        return 0
    assert opener is not None
    if not request.url_in_argv:
        from awsrun.handoff.consolepage import page_folder, write_page

        page = write_page(page_folder(environ, cache.directory), url)
        url = "file://" + page
    if not opener(url):
        raise AwsrunError(
            "the browser did not start (check BROWSER): run "
            f"'awsrun console --print {chain.profile}' and open the URL it prints"
        )
    reporter.warn(f"opened your browser: {lasts}")
    return 0


def _where(
    partition: str, region: str | None, request: ConsoleRequest, environ: Mapping[str, str]
) -> tuple[str, str]:
    """The console page to land on, and the federation endpoint that signs in to it."""
    destination = console_destination(partition, region, request.service, request.destination)
    return destination, federation_endpoint(partition, environ)


def _refuse_mfa_session(chain: Chain) -> None:
    if chain.mfa_serial is not None and not chain.hops:
        raise ConfigError(
            f"profile {chain.profile!r} gives an MFA session (GetSessionToken), which the AWS "
            "console does not take: open the console from a role profile (role_arn, with "
            "mfa_serial there), or from a profile with these keys and no mfa_serial (through "
            "GetFederationToken, without MFA)"
        )


def _role_arn(chain: Chain) -> str | None:
    """The ARN of the role the credentials are a session of, where the config names it."""
    if chain.hops:
        return chain.hops[-1].role_arn
    root = chain.root
    if isinstance(root, Boto3Profile):
        return dict(root.settings).get("role_arn")
    return None


def _federation_token(
    chain: Chain,
    broker: Broker,
    keys: Credentials,
    request: ConsoleRequest,
    reporter: Reporter,
) -> tuple[Credentials, str]:
    """The console refuses long-term keys: a federated user's session of the same IAM user."""
    from awsrun.credentials.sts import Sts

    name = _federated_name(chain.profile)
    seconds = request.session_seconds or DEFAULT_FEDERATION_SECONDS
    reporter.info(
        f"profile {chain.profile!r} has long-term keys, which the console does not take: STS "
        f"GetFederationToken as {name!r} for {format_duration(seconds)} (your IAM user's own "
        "permissions stay the limit)"
    )
    sts = Sts(chain.profile, endpoint_configured=chain.endpoint is not None, reporter=reporter)
    return sts.get_federation_token(
        keys,
        name=name,
        duration_seconds=seconds,
        region=broker.region,
        source=f"profile {chain.profile!r}",
    )


def _federated_name(profile: str) -> str:
    """A federated user's name from the profile's: 2 to 32 of the characters STS takes."""
    name = re.sub(r"[^\w+=,.@-]", "-", profile, flags=re.ASCII)[:32]
    return name if len(name) >= 2 else "awsrun"


def _lasts(
    profile: str, credentials: Credentials, session_seconds: int | None, *, federated: bool
) -> str:
    ends = credentials.expires_at
    if federated:
        why = "the federation token's length; --duration sets another"
    elif session_seconds is not None:
        ends = time.time() + session_seconds
        why = f"--duration {format_duration(session_seconds)}"
    else:
        why = "as long as the credentials last; --duration sets another length"
    until = "" if ends is None else " until " + clock_time(ends)
    return f"console session as profile {profile!r}{until} ({why})"


__all__ = ["DEFAULT_FEDERATION_SECONDS", "ConsoleRequest", "open_console", "run"]
