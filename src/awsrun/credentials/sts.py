"""The calls that reach STS (AssumeRole, GetSessionToken, GetFederationToken), and boto3's
own resolution of profiles awsrun does not resolve itself (SSO, credential_process, web
identity, instance roles).

Imported only when the cache has no answer, or for the console; sso.py and federation.py,
which talk to AWS too, import botocore only inside the functions that need it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.credentials import (
    CredentialProvider,
    ProfileProviderBuilder,
    create_credential_resolver,
)
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ReadTimeoutError,
    UnauthorizedSSOTokenError,
)
from botocore.exceptions import (
    ConnectionError as BotocoreConnectionError,
)

from awsrun.credentials.keys import Credentials
from awsrun.deadline import DeadlinePassed, call_within
from awsrun.errors import StsError
from awsrun.report import Reporter

# Bounded: three tries at most, each with 5 s to connect and 15 s to answer.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 15
MAX_ATTEMPTS = 3
CLIENT_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
    # total_max_attempts counts the first try; plain max_attempts would count retries only.
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
)
# All tries of one call together, what the tries' timeouts add up to: botocore's timeouts
# are per read, and an endpoint that sends a byte now and then would never reach them.
CALL_DEADLINE_SECONDS = MAX_ATTEMPTS * (CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS)
# A call still unanswered after this is worth a line on stderr.
_NOTICE_AFTER_SECONDS = 5.0
# STS answers these when the credentials that sign the call are no good.
_SOURCE_REJECTED = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch"}
)

# GetFederationToken's session policy: without one the federated user may do nothing.
_ALLOW_ALL_POLICY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
)

# What each kind of profile is set up by, for messages that say what to fix.
_SETTINGS_READ = {
    "web-identity": "web_identity_token_file",
    "sso": "sso_* settings",
    "login": "login_session",
    "process": "credential_process",
}
# Profile kinds (awsrun.config.chain) and the botocore provider that resolves each.
_PROVIDER_METHODS = {
    "web-identity": "assume-role-with-web-identity",
    "sso": "sso",
    "login": "login",
    "process": "custom-process",
}


class SourceRejected(StsError):
    """STS refused the credentials that signed the call: a cached source must be dropped.
    `detail` is STS's own code and message, for a line that says where the keys came from."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class WrongMfaCode(StsError):
    """STS refused the MFA code: mistyped, or one that was used already."""


@dataclass(frozen=True)
class RoleRequest:
    role_arn: str
    session_name: str
    duration_seconds: int | None
    external_id: str | None
    serial_number: str | None
    token_code: str | None = None


class Sts:
    """STS clients configured as boto3 would for the named profile (endpoint, region)."""

    def __init__(
        self,
        profile: str,
        *,
        endpoint_configured: bool = False,
        reporter: Reporter | None = None,
        in_files: bool = True,
    ) -> None:
        self._profile = profile
        # A profile of stored keys needs no section: botocore must not look for one.
        self._in_files = in_files
        self._endpoint_configured = endpoint_configured
        self._reporter = reporter or Reporter()
        self._session: botocore.session.Session | None = None

    def _botocore_session(self) -> botocore.session.Session:
        if self._session is None:
            # An explicit profile: AWS_PROFILE or keys in awsrun's own environment must not
            # decide how a named profile resolves (`awsrun a -- awsrun b -- cmd` runs as b).
            if self._in_files:
                session = botocore.session.Session()
                session.set_config_variable("profile", self._profile)
            else:  # keys stored with no section: no profile at all, not even AWS_PROFILE's
                session = botocore.session.Session(
                    session_vars={"profile": (None, None, None, None)}
                )
                for variable in ("config_file", "credentials_file"):
                    session.set_config_variable(variable, os.devnull)
            # The same bounds for the clients botocore's providers make (`sso`, and
            # `sso-oidc` for a token refresh) as for awsrun's STS calls.
            session.set_default_client_config(CLIENT_CONFIG)
            self._session = session
        return self._session

    def _client(self, signer: Credentials, region: str | None) -> Any:
        session = self._botocore_session()
        # With no region anywhere botocore calls the global endpoint, signed for us-east-1,
        # and so does awsrun. botocore cannot sign for a configured endpoint without a
        # region; awsrun signs for us-east-1 there (a difference docs/botocore.md names).
        if region is None and self._endpoint_configured:
            region = "us-east-1"
        try:
            return session.create_client(
                "sts",
                region_name=region,
                aws_access_key_id=signer.access_key_id,
                aws_secret_access_key=signer.secret_access_key,
                aws_session_token=signer.session_token,
                config=CLIENT_CONFIG,
            )
        except BotoCoreError as error:
            raise StsError(
                f"boto3 cannot set up STS for profile {self._profile!r}: {_one_line(error)}"
            ) from None

    def assume_role(
        self, signer: Credentials, request: RoleRequest, *, region: str | None, source: str
    ) -> Credentials:
        arguments: dict[str, Any] = {
            "RoleArn": request.role_arn,
            "RoleSessionName": request.session_name,
        }
        if request.duration_seconds:
            arguments["DurationSeconds"] = request.duration_seconds
        if request.external_id:
            arguments["ExternalId"] = request.external_id
        if request.serial_number and request.token_code:
            arguments["SerialNumber"] = request.serial_number
            arguments["TokenCode"] = request.token_code
        client = self._client(signer, region)
        with _sts_errors(client, f"AssumeRole on {request.role_arn}", source, self._reporter):
            response = call_within(CALL_DEADLINE_SECONDS, lambda: client.assume_role(**arguments))
        return _from_sts(response["Credentials"])

    def get_session_token(
        self,
        signer: Credentials,
        *,
        serial: str | None,
        code: str | None,
        duration_seconds: int,
        region: str | None,
        source: str,
    ) -> Credentials:
        """A session of the long-term keys `signer`: with an MFA device when `serial` is
        given (and its `code`), else a plain one."""
        client = self._client(signer, region)
        action = "GetSessionToken" + (f" with MFA device {serial}" if serial else "")
        mfa = {"SerialNumber": serial, "TokenCode": code} if serial else {}
        with _sts_errors(client, action, source, self._reporter):
            response = call_within(
                CALL_DEADLINE_SECONDS,
                lambda: client.get_session_token(DurationSeconds=duration_seconds, **mfa),
            )
        return _from_sts(response["Credentials"])

    def caller_identity(
        self, signer: Credentials, *, region: str | None, source: str
    ) -> tuple[str, str]:
        """Whose keys `signer` are: their ARN and account, from GetCallerIdentity."""
        client = self._client(signer, region)
        with _sts_errors(client, "GetCallerIdentity", source, self._reporter):
            response = call_within(CALL_DEADLINE_SECONDS, client.get_caller_identity)
        return str(response["Arn"]), str(response["Account"])

    def get_federation_token(
        self,
        signer: Credentials,
        *,
        name: str,
        duration_seconds: int,
        region: str | None,
        source: str,
    ) -> tuple[Credentials, str]:
        """A federated user's session for the console, which refuses long-term keys; and the
        federated user's ARN. The policy allows everything, so the session has exactly the
        IAM user's own permissions (a federated session has the intersection of the two)."""
        client = self._client(signer, region)
        with _sts_errors(client, "GetFederationToken", source, self._reporter):
            response = call_within(
                CALL_DEADLINE_SECONDS,
                lambda: client.get_federation_token(
                    Name=name, DurationSeconds=duration_seconds, Policy=_ALLOW_ALL_POLICY
                ),
            )
        return _from_sts(response["Credentials"]), str(response["FederatedUser"]["Arn"])

    def profile_credentials(self, profile: str, kind: str, region: str | None) -> Credentials:
        """What botocore's own provider of that kind makes of a profile (SSO,
        credential_process, web identity, a login session): that provider alone, as
        botocore's source-profile chain would reach it, never its assume-role step."""
        builder = ProfileProviderBuilder(self._botocore_session(), region_name=region)
        method = _PROVIDER_METHODS[kind]
        provider = next(
            found
            for found in builder.providers(profile_name=profile, disable_env_vars=True)
            if method == found.METHOD
        )
        what = f"{kind} profile {profile!r}"
        try:
            if kind != "sso":  # a credential_process may prompt: it has its own time
                return _resolve(provider, what, _SETTINGS_READ[kind])
            return call_within(
                CALL_DEADLINE_SECONDS,
                lambda: _resolve(provider, what, _SETTINGS_READ[kind], sso=True),
            )
        except _SsoRefused as refused:
            raise StsError(refused.message(profile, self._profile_settings(profile))) from None
        except DeadlinePassed:
            raise StsError(
                f"IAM Identity Center did not answer for {what} within "
                f"{CALL_DEADLINE_SECONDS}s; check the network and the profile's sso_region"
            ) from None

    def _profile_settings(self, profile: str) -> Mapping[str, str]:
        profiles = self._botocore_session().full_config.get("profiles", {})
        settings: Mapping[str, str] = profiles.get(profile, {})
        return settings

    def credential_source(self, source: str, profile: str) -> Credentials:
        """Credentials from the instance or container role (credential_source)."""
        provider = {"Ec2InstanceMetadata": "iam-role", "EcsContainer": "container-role"}[source]
        found = create_credential_resolver(self._botocore_session()).get_provider(provider)
        return _resolve(
            found, f"credential_source {source} of profile {profile!r}", "credential_source"
        )


class _SsoRefused(Exception):
    """Identity Center refused the token or the role: the message names the way out."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    def message(self, profile: str, settings: Mapping[str, str]) -> str:
        if self.code == "ForbiddenException":
            return (
                f"IAM Identity Center does not give you role {settings.get('sso_role_name')!r} "
                f"in account {settings.get('sso_account_id')} (profile {profile!r}): check "
                "that the role is assigned to you, and the profile's sso_account_id and "
                "sso_role_name"
            )
        return (
            f"the IAM Identity Center token of profile {profile!r} was refused (revoked or "
            f"expired): run 'awsrun login {profile}'"
        )


def _resolve(
    provider: CredentialProvider, what: str, setting: str, *, sso: bool = False
) -> Credentials:
    """The provider's credentials, or one line; with `sso`, Identity Center's refusals
    raise _SsoRefused, for a message that names the role or the sign-in."""
    try:
        found = provider.load()
        if found is None:
            raise StsError(f"boto3 found no credentials for {what}")
        frozen = found.get_frozen_credentials()
    except UnauthorizedSSOTokenError:
        raise _SsoRefused("UnauthorizedException") from None
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in (
            "ForbiddenException",
            "UnauthorizedException",
        ):
            raise _SsoRefused(error.response["Error"]["Code"]) from None
        raise StsError(f"{what}: {_client_error_text(error)}") from None
    except BotoCoreError as error:
        raise StsError(f"boto3 could not get credentials for {what}: {_one_line(error)}") from None
    except OSError as error:  # a program or a token file that is not there
        raise StsError(
            f"{what}: {error.strerror or type(error).__name__}"
            + (f": {error.filename}" if error.filename else "")
            + f"; fix the profile's {setting}"
        ) from None
    except ValueError as error:  # output that is not JSON, a command with an unclosed quote
        raise StsError(
            f"{what}: {type(error).__name__} ({_one_line(error)}); fix the profile's {setting}"
        ) from None
    if not frozen.access_key or not frozen.secret_key:
        raise StsError(f"boto3 found incomplete credentials for {what}")
    expiry = getattr(found, "_expiry_time", None)
    return Credentials(
        frozen.access_key,
        frozen.secret_key,
        frozen.token or None,
        expiry.timestamp() if expiry is not None else None,
    )


def _from_sts(answer: Mapping[str, Any]) -> Credentials:
    return Credentials(
        access_key_id=answer["AccessKeyId"],
        secret_access_key=answer["SecretAccessKey"],
        session_token=answer["SessionToken"],
        expires_at=answer["Expiration"].timestamp(),
    )


def _one_line(error: BaseException) -> str:
    """An error's text on one line (botocore's parameter errors give the reason on the
    second)."""
    return " ".join(line.strip() for line in str(error).splitlines() if line.strip()) or (
        type(error).__name__
    )


def _client_error_text(error: ClientError) -> str:
    details = error.response.get("Error", {})
    return f"{details.get('Code', 'Error')}: {details.get('Message', '').strip()}"


@contextmanager
def _sts_errors(client: Any, action: str, source: str, reporter: Reporter) -> Iterator[None]:
    """Turn botocore's failures into one line that names what failed and what to do; say
    once when the call is slow, and with -v each new try."""
    import threading

    endpoint = client.meta.endpoint_url
    tries = 0

    def before_send(**_: object) -> None:
        nonlocal tries
        tries += 1
        if tries > 1:
            reporter.info(f"STS {action}: try {tries} of {MAX_ATTEMPTS} at {endpoint}")

    client.meta.events.register("before-send.sts", before_send)
    per_try = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS
    slow = threading.Timer(
        _NOTICE_AFTER_SECONDS,
        reporter.warn,
        [
            f"waiting for STS at {endpoint} ({action}): up to {MAX_ATTEMPTS} tries of "
            f"{per_try}s each"
        ],
    )
    slow.daemon = True
    slow.start()
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        text = _client_error_text(error)
        if code in _SOURCE_REJECTED:
            raise SourceRejected(
                f"STS refused the credentials of {source} for {action} ({text}); "
                "renew them, or run `awsrun --refresh` if they came from awsrun's cache",
                text,
            ) from None
        if code == "AccessDenied" and "MultiFactorAuthentication" in text:
            raise WrongMfaCode(
                f"STS refused the MFA code for {action}: it was wrong, or already used (a "
                "code works once): wait for the next code"
            ) from None
        if code == "AccessDenied":
            raise StsError(
                f"STS denied {action} to {source} ({text}); check the role's trust policy "
                "and the source's permissions"
            ) from None
        raise StsError(f"STS {action} failed for {source}: {text}") from None
    except DeadlinePassed:
        raise StsError(
            f"STS at {endpoint} did not answer {action} within {CALL_DEADLINE_SECONDS}s; "
            "check the network, AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_STS and the profile's region"
        ) from None
    except (BotocoreConnectionError, ReadTimeoutError) as error:
        raise StsError(
            f"cannot reach STS at {endpoint} ({type(error).__name__}, {MAX_ATTEMPTS} tries); "
            "check the network, AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_STS and the profile's region"
        ) from None
    except BotoCoreError as error:
        raise StsError(f"STS {action} failed for {source}: {_one_line(error)}") from None
    finally:
        slow.cancel()


__all__ = [
    "CALL_DEADLINE_SECONDS",
    "CLIENT_CONFIG",
    "MAX_ATTEMPTS",
    "READ_TIMEOUT_SECONDS",
    "RoleRequest",
    "SourceRejected",
    "Sts",
    "WrongMfaCode",
]
