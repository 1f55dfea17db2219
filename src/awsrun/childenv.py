"""The environment the command gets: the caller's, with awsrun's credentials in place of any
the caller had. Pure."""

from __future__ import annotations

from awsrun.credentials import Credentials

TYPE_CHECKING = False  # as in broker.py: imports for annotations stay off the cache-hit path
if TYPE_CHECKING:
    from collections.abc import Mapping

# Variables that would make an SDK pick other credentials than the ones awsrun hands over:
# a leftover AWS_PROFILE wins over keys in some tools, and boto3 still reads the old
# AWS_SECURITY_TOKEN name. A caller's AWS_ACCOUNT_ID would be paired with the new keys and
# send requests to another account's endpoints.
ALWAYS_REMOVED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN", "AWS_ACCOUNT_ID")
# Set when the new credentials have them, removed when they do not.
OPTIONAL_VARIABLES = ("AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION")
# What speaks for whose credentials these are: unset when `awsrun env` fails.
IDENTITY_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", *OPTIONAL_VARIABLES, "AWSRUN_PROFILE",
)  # fmt: skip


def credential_variables(
    credentials: Credentials, *, region: str | None, profile: str
) -> dict[str, str]:
    """The AWS_* variables awsrun sets, in the order people expect to read them."""
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
    variables["AWSRUN_PROFILE"] = profile
    return variables


def shell_banner(profile: str, credentials: Credentials, *, server: bool) -> str:
    """The line awsrun says when it starts a shell instead of a command."""
    import time

    if server:
        lasting = "(refreshed while it runs)"
    elif credentials.expires_at is None:
        lasting = "(keys that do not expire)"
    else:
        lasting = "until " + time.strftime("%H:%M", time.localtime(credentials.expires_at))
    return f"shell as {profile} {lasting}; exit to leave"


def removed_variables(variables: Mapping[str, str]) -> list[str]:
    """What must be unset so that only `variables` speak for the credentials."""
    return [*ALWAYS_REMOVED, *(name for name in OPTIONAL_VARIABLES if name not in variables)]


def child_environment(parent: Mapping[str, str], variables: Mapping[str, str]) -> dict[str, str]:
    environment = dict(parent)
    for name in removed_variables(variables):
        environment.pop(name, None)
    environment.update(variables)
    return environment


__all__ = [
    "ALWAYS_REMOVED",
    "IDENTITY_VARIABLES",
    "OPTIONAL_VARIABLES",
    "child_environment",
    "credential_variables",
    "removed_variables",
    "shell_banner",
]
