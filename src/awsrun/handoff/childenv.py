"""The environment the command gets: the caller's, with awsrun's credentials in place of any
the caller had. Pure."""

from __future__ import annotations

from awsrun.config.endpoints import REGION_MARKER, region_set_by_awsrun
from awsrun.credentials.keys import Credentials

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import Mapping

# Variables that would make an SDK pick other credentials than the ones awsrun hands over:
# a leftover AWS_PROFILE wins over keys in some tools; a caller's AWS_ACCOUNT_ID would be
# paired with the new keys and send requests to another account's endpoints; an outer
# `awsrun --server`'s endpoint would win over the keys in some SDKs.
ALWAYS_REMOVED = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCOUNT_ID", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
)  # fmt: skip
# The other names SDKs read keys under, from their source: botocore's AWS_SECURITY_TOKEN;
# AWS_ACCESS_KEY and AWS_SECRET_KEY (Go v2, Java v1, which reads AWS_SECRET_KEY first,
# Ruby, .NET); AMAZON_* (Ruby); SECRET_ACCESS_KEY (Rust). A caller's would be paired with
# awsrun's keys, or used instead of them: the command gets the standard names only.
OTHER_KEY_NAMES = (
    "AWS_SECURITY_TOKEN", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AMAZON_ACCESS_KEY_ID",
    "AMAZON_SECRET_ACCESS_KEY", "AMAZON_SESSION_TOKEN", "SECRET_ACCESS_KEY",
)  # fmt: skip
# Set when the new credentials have them, removed when they do not.
OPTIONAL_VARIABLES = ("AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION", REGION_MARKER)
# What speaks for whose credentials these are: unset when `awsrun env` fails.
IDENTITY_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", *OPTIONAL_VARIABLES, "AWSRUN_PROFILE",
)  # fmt: skip
_REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


def credential_variables(
    credentials: Credentials, *, region: str | None, profile: str, users_region: bool = False
) -> dict[str, str]:
    """The AWS_* variables awsrun sets, in the order people expect to read them.
    `users_region`: the region is the one the user set in AWS_DEFAULT_REGION, not one
    awsrun chose (which it marks as its own, for an awsrun inside the command)."""
    variables = {
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
    }
    if credentials.session_token:
        variables["AWS_SESSION_TOKEN"] = credentials.session_token
    expiration = credentials.expiration_iso
    if expiration:
        variables["AWS_CREDENTIAL_EXPIRATION"] = expiration
    if region:
        variables["AWS_REGION"] = region
        variables["AWS_DEFAULT_REGION"] = region
        if not users_region:
            variables[REGION_MARKER] = region
    variables["AWSRUN_PROFILE"] = profile
    return variables


def shell_banner(
    profile: str, credentials: Credentials, *, server: bool, session: tuple[str, float] | None
) -> str:
    """The line awsrun says when it starts a shell instead of a command; `session`: the
    session behind the profile that only the user can renew, and when it ends."""
    from awsrun.durations import clock_time

    if server:
        lasting = "(refreshed while it runs)"
    elif credentials.expires_at is None:
        lasting = "(keys that do not expire)"
    else:
        lasting = "until " + clock_time(credentials.expires_at)
    behind = "" if session is None else f", {session[0]} until {clock_time(session[1])}"
    return f"shell as {profile} {lasting}{behind}; exit to leave"


def removed_variables(variables: Mapping[str, str], parent: Mapping[str, str]) -> list[str]:
    """What must be unset so that only `variables` speak for the credentials (and the
    region, where an outer awsrun set one and this profile has none)."""
    removed = [*ALWAYS_REMOVED, *OTHER_KEY_NAMES]
    removed += [name for name in OPTIONAL_VARIABLES if name not in variables]
    if "AWS_DEFAULT_REGION" not in variables and region_set_by_awsrun(parent):
        removed += _REGION_VARIABLES
    return removed


def child_environment(parent: Mapping[str, str], variables: Mapping[str, str]) -> dict[str, str]:
    environment = dict(parent)
    for name in removed_variables(variables, parent):
        environment.pop(name, None)
    environment.update(variables)
    return environment


__all__ = [
    "ALWAYS_REMOVED",
    "IDENTITY_VARIABLES",
    "OPTIONAL_VARIABLES",
    "OTHER_KEY_NAMES",
    "child_environment",
    "credential_variables",
    "removed_variables",
    "shell_banner",
]
