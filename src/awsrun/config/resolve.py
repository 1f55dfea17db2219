"""How a named profile resolves to a chain, as botocore's credential providers resolve it,
and what to say when it does not.

The named profile's `role_arn` wins over static keys in it, while in a source profile static
keys win over `role_arn`. Pure: imports nothing from boto3.
"""

from __future__ import annotations

import os

from awsrun.config.chain import (
    CREDENTIAL_SOURCES,
    MAX_DURATION_SECONDS,
    MIN_DURATION_SECONDS,
    SECRET_SETTINGS,
    Boto3Profile,
    Chain,
    CredentialSource,
    RoleHop,
    StaticKeys,
    StoredKeys,
    session_name_problem,
)
from awsrun.config.endpoints import sts_endpoint
from awsrun.errors import ConfigError

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from awsrun.config.chain import Root
    from awsrun.config.choice import Choice
    from awsrun.config.files import ConfigFiles


def close_names(name: str, names: Iterable[str]) -> list[str]:
    """Names a typo of `name` may have meant: those it begins, then similar ones."""
    import difflib  # error path only

    names = sorted(names)
    starting = [candidate for candidate in names if candidate.startswith(name) and name]
    similar = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    return list(dict.fromkeys([*starting, *similar]))[:3]


def _missing_profile_hint(name: str, files: ConfigFiles) -> str:
    """What to do about a profile that is not in the files."""
    for variable, path in (
        ("AWS_CONFIG_FILE", files.config_path),
        ("AWS_SHARED_CREDENTIALS_FILE", files.credentials_path),
    ):
        if files.environ.get(variable) and not os.path.exists(path):
            return f"; {variable} names {path}, which does not exist"
        if files.environ.get(variable) == "":
            return (
                f"; {variable} is set but empty, which means no such file: unset it, or "
                "name the file"
            )
    if f"profile {name}" in files.credentials_sections:
        return (
            f"; {files.credentials_path} has [profile {name}], but the credentials file "
            f"writes [{name}], without `profile`"
        )
    if name in files.ignored_sections:
        return (
            f"; {files.config_path} has [{name}], but a profile in the config file is "
            f"written [profile {name}]"
        )
    close = close_names(name, files.profiles)
    if close:
        return f"; did you mean {', '.join(close)}?"
    if files.profiles:
        return ""
    paths = (files.config_path, files.credentials_path)
    missing = [path for path in paths if path and not os.path.exists(path)]
    found = "neither file exists" if len(missing) == 2 else "no profiles found there"
    return f"; {found} (set AWS_CONFIG_FILE, or run `aws configure`)"


def _unknown_profile(name: str, files: ConfigFiles, origin: str = "") -> ConfigError:
    named = f"profile {name!r}" + (f" ({origin})" if origin else "")
    hint = _missing_profile_hint(name, files)
    return ConfigError(f"{named} is not in {files.describe()}{hint}")


class _BadValue(Exception):
    """A setting botocore would send as it is but AWS cannot take: empty, or on several
    lines. resolve_chain() says which profile and file it is in."""

    def __init__(self, name: str, *, empty: bool) -> None:
        super().__init__(name)  # never the value: it may be a secret
        self.name = name
        self.empty = empty
        self.path: str | None = None

    def config_error(self, profile: str, files: ConfigFiles) -> ConfigError:
        where = f"profile {profile!r} in {self.path or files.path_of(profile, self.name)}"
        if self.empty:
            return ConfigError(
                f"{self.name} of {where} is empty: give it a value or remove the line"
            )
        return ConfigError(
            f"{self.name} of {where} goes on over several lines: write the value on the line "
            "of its key"
        )


def _get(settings: Mapping[str, str], name: str) -> str | None:
    """A profile's setting as botocore would use it, or None where it is not set."""
    value = settings.get(name)
    if value is None or (value and "\n" not in value):
        return value
    raise _BadValue(name, empty=not value)


def _static_keys(
    name: str, section: Mapping[str, str], path: str, settings: Mapping[str, str]
) -> StaticKeys:
    """The keys of one file's section (`path`): botocore never mixes the two files' keys."""
    if "aws_secret_access_key" not in section:
        raise ConfigError(
            f"profile {name!r} has aws_access_key_id but no aws_secret_access_key in {path}: "
            "keep both keys (and any session token) in the same file"
        )
    try:
        access_key_id = _get(section, "aws_access_key_id")
        secret = _get(section, "aws_secret_access_key")
        # botocore takes aws_security_token, the older name, over aws_session_token.
        token_name = (
            "aws_security_token" if "aws_security_token" in section else "aws_session_token"
        )
        # Set but empty is no token, in botocore too.
        token = _get(section, token_name) if section.get(token_name) else None
    except _BadValue as bad:
        bad.path = path
        raise
    assert access_key_id is not None  # both are in the section: present and not empty
    assert secret is not None
    return StaticKeys(
        profile=name,
        access_key_id=access_key_id,
        secret_access_key=secret,
        session_token=token,
        mfa_serial=_get(settings, "mfa_serial"),
        mfa_process=_get(settings, "mfa_process"),
    )


def _duration(name: str, settings: Mapping[str, str], files: ConfigFiles) -> int | None:
    value = _get(settings, "duration_seconds")
    if value is None:
        return None
    # botocore's int() would take `+3600`, `3_600` or ` 3600`, and silently drop what it
    # cannot read (`1h`): plain ASCII digits in STS's range, or a clear refusal.
    if value.isascii() and value.isdigit():
        seconds = int(value)
        if MIN_DURATION_SECONDS <= seconds <= MAX_DURATION_SECONDS:
            return seconds
    raise ConfigError(
        f"profile {name!r} has duration_seconds = {value!r} in "
        f"{files.path_of(name, 'duration_seconds')}: write a whole number of seconds from "
        f"{MIN_DURATION_SECONDS} to {MAX_DURATION_SECONDS}"
    )


def _role_hop(name: str, settings: Mapping[str, str], files: ConfigFiles) -> RoleHop:
    role_arn = _get(settings, "role_arn")
    assert role_arn is not None
    session_name = _get(settings, "role_session_name")
    problem = None if session_name is None else session_name_problem(session_name)
    if problem:
        raise ConfigError(
            f"profile {name!r} has role_session_name = {session_name!r} in "
            f"{files.path_of(name, 'role_session_name')}, which STS refuses: {problem}"
        )
    return RoleHop(
        profile=name,
        role_arn=role_arn,
        role_session_name=session_name,
        external_id=_get(settings, "external_id"),
        mfa_serial=_get(settings, "mfa_serial"),
        mfa_process=_get(settings, "mfa_process"),
        duration_seconds=_duration(name, settings, files),
    )


def _boto3_profile(
    name: str, kind: str, settings: Mapping[str, str], files: ConfigFiles
) -> Boto3Profile:
    non_secret = dict(settings)
    for secret in SECRET_SETTINGS:
        non_secret.pop(secret, None)
    sso_session = settings.get("sso_session")
    if sso_session is not None:
        # The session's start URL and region decide whose credentials these are too.
        for key, value in files.sso_sessions.get(sso_session, {}).items():
            non_secret[f"sso-session.{key}"] = value
    return Boto3Profile(profile=name, kind=kind, settings=tuple(sorted(non_secret.items())))


def _root(name: str, settings: Mapping[str, str], files: ConfigFiles, via: str) -> Root:
    # Many roles share one source: `awsrun list` finds each root once.
    root = files.roots.get(name)
    if root is None:
        root = files.roots[name] = _find_root(name, settings, files, via)
    return root


def _find_root(name: str, settings: Mapping[str, str], files: ConfigFiles, via: str) -> Root:
    """Where a profile's own credentials come from, in the order of botocore's profile
    providers: web identity, SSO, the credentials file's keys, a login session,
    credential_process, the config file's keys."""
    if settings.get("web_identity_token_file"):
        return _boto3_profile(name, "web-identity", settings, files)
    if "sso_role_name" in settings or "sso_account_id" in settings:
        return _boto3_profile(name, "sso", settings, files)
    section = files.credentials_sections.get(name)
    if section is not None and "aws_access_key_id" in section:
        return _static_keys(name, section, files.credentials_path, settings)
    if "login_session" in settings:
        return _boto3_profile(name, "login", settings, files)
    if _get(settings, "credential_process") is not None:
        return _boto3_profile(name, "process", settings, files)
    section = files.config_sections.get(name)
    if section is not None and "aws_access_key_id" in section:
        return _static_keys(name, section, files.config_path, settings)
    stored = files.stored_keys().get(name)
    if stored is not None:
        return StoredKeys(
            name,
            stored.access_key_id,
            stored.backend,
            _get(settings, "mfa_serial"),
            _get(settings, "mfa_process"),
        )
    if f"profile {name}" in files.credentials_sections:
        raise ConfigError(
            f"profile {name!r}{via} has no credentials: {files.credentials_path} has "
            f"[profile {name}], but the credentials file writes [{name}], without `profile`"
        )
    raise ConfigError(
        f"profile {name!r}{via} has no credentials in {files.describe()}: add "
        "aws_access_key_id/aws_secret_access_key (both in one file), role_arn, sso_session "
        "or credential_process, or store keys for it with `awsrun add`"
    )


def _has_static_keys(settings: Mapping[str, str]) -> bool:
    return "aws_access_key_id" in settings or "aws_secret_access_key" in settings


def resolve_chain(name: str, files: ConfigFiles, origin: str = "") -> Chain:
    """Follow `source_profile` from the named profile down to where credentials come from,
    as botocore's AssumeRoleProvider does: the named profile's `role_arn` wins over its own
    keys; a source profile with keys (in either file) is a root, even with a `role_arn`.
    `origin` says where the name came from (`AWS_PROFILE`), for the error if it is unknown."""
    if not _known(name, files):
        raise _unknown_profile(name, files, origin)
    visited = [name]
    try:
        root, hops = _follow(name, files, visited)
        visited.append(name)  # the region is the named profile's
        region = _get(files.profiles.get(name, {}), "region")
    except _BadValue as bad:
        raise bad.config_error(visited[-1], files) from None
    return Chain(
        profile=name,
        root=root,
        hops=hops,
        region=region,
        files=files,
        endpoint=sts_endpoint(files, name),
    )


def resolve_choice(choice: Choice, files: ConfigFiles) -> Chain:
    """resolve_chain for the profile a run chose; when the name is a program rather than a
    profile (`awsrun aws s3 ls`), the error says how to run it as the default profile."""
    try:
        return resolve_chain(choice.name, files, choice.origin)
    except ConfigError as error:
        import shutil  # error path only

        name = choice.name
        if choice.origin or name in files.profiles or not shutil.which(name):
            raise
        raise ConfigError(
            f"{error}; to run {name} as the default profile: awsrun -- {name} ..."
        ) from None


def _known(name: str, files: ConfigFiles) -> bool:
    """A profile of the files, or one with keys stored by `awsrun add` and no section."""
    return name in files.profiles or name in files.stored_keys()


def _follow(name: str, files: ConfigFiles, visited: list[str]) -> tuple[Root, tuple[RoleHop, ...]]:
    """The root and the hops (root first); `visited` ends with the profile being read."""
    hops: list[RoleHop] = []
    current = name
    while True:
        settings = files.profiles.get(current, {})  # none: keys stored by `awsrun add` only
        assumes_role = "role_arn" in settings and "web_identity_token_file" not in settings
        if not assumes_role or (current != name and _has_static_keys(settings)):
            via = "" if current == name else f" (the source of {' -> '.join(visited[:-1])})"
            root = _root(current, settings, files, via)
            break
        hops.append(_role_hop(current, settings, files))
        source_profile = _get(settings, "source_profile")
        credential_source = _get(settings, "credential_source")
        if source_profile is not None and credential_source is not None:
            raise ConfigError(
                f"profile {current!r} has both source_profile and credential_source "
                f"in {files.describe()}: keep one"
            )
        if credential_source is not None:
            if credential_source not in CREDENTIAL_SOURCES:
                raise ConfigError(
                    f"profile {current!r} has credential_source = {credential_source!r}: "
                    f"use one of {', '.join(CREDENTIAL_SOURCES)}"
                )
            root = CredentialSource(current, credential_source)
            break
        if source_profile is None:
            raise ConfigError(
                f"role profile {current!r} has no source_profile or credential_source "
                f"in {files.describe()}: add one to say where its credentials come from"
            )
        if not _known(source_profile, files):
            raise ConfigError(
                f"profile {current!r} names source_profile {source_profile!r}, "
                f"which is not in {files.describe()}{_missing_profile_hint(source_profile, files)}"
            )
        if source_profile == current:
            # A profile may hold the keys that assume its own role.
            if not _has_static_keys(settings):
                raise ConfigError(
                    f"profile {current!r} names itself as source_profile but has no "
                    f"aws_access_key_id/aws_secret_access_key in {files.describe()}"
                )
            root = _root(current, settings, files, "")
            break
        if source_profile in visited:
            loop = " -> ".join([*visited, source_profile])
            raise ConfigError(f"source_profile loop: {loop} in {files.describe()}: break the cycle")
        visited.append(source_profile)
        current = source_profile
    hops.reverse()
    return root, tuple(hops)


__all__ = ["close_names", "resolve_chain", "resolve_choice"]
