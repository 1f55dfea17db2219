"""The AWS CLI's config and credentials files, and how a named profile resolves to a chain.

Pure: reads two files, imports nothing from boto3. The precedence follows botocore's:
the credentials file overrides the config file key by key; the named profile's `role_arn`
wins over static keys in it, while in a source profile static keys win over `role_arn`.
"""

from __future__ import annotations

import os

from awsrun.errors import ConfigError
from awsrun.ini import IniError, parse_ini

TYPE_CHECKING = False  # as in broker.py: imports for annotations stay off the cache-hit path
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TypeAlias

    # What decides one step's credentials, as (name, value) pairs in a fixed order; a value
    # is a str, None, the settings' pairs, or the source step's Identity. The cache key is
    # its hash (awsrun.cache.entry_key).
    Identity: TypeAlias = tuple[tuple[str, "IdentityValue"], ...]
    IdentityValue: TypeAlias = str | tuple[tuple[str, str], ...] | Identity | None

# Settings that hold secrets: never part of a cache key, a message or a log line.
SECRET_SETTINGS = frozenset({"aws_secret_access_key", "aws_session_token", "aws_security_token"})
CREDENTIAL_SOURCES = ("Environment", "Ec2InstanceMetadata", "EcsContainer")
# Profile settings that mean "boto3 knows how to get credentials for this".
_BOTO3_SETTINGS = {
    "sso_session": "sso",
    "sso_start_url": "sso",
    "credential_process": "process",
    "web_identity_token_file": "web-identity",
    "login_session": "login",
}


class ConfigFiles:
    """The merged profiles of both files, and which files were read (for messages)."""

    __slots__ = ("config_path", "credentials_path", "profiles", "sso_sessions")

    def __init__(
        self,
        config_path: str,
        credentials_path: str,
        profiles: Mapping[str, Mapping[str, str]],
        sso_sessions: Mapping[str, Mapping[str, str]],
    ) -> None:
        self.config_path = config_path
        self.credentials_path = credentials_path
        self.profiles = profiles
        self.sso_sessions = sso_sessions

    def describe(self) -> str:
        return f"{self.config_path} and {self.credentials_path}"


# The chain's parts are plain classes, not dataclasses: they are built on every cache hit,
# where importing `dataclasses` would cost as much as the rest of the run.


class StaticKeys:
    """Keys written in a profile: long-term, or temporary when a session token comes along."""

    __slots__ = (
        "access_key_id", "mfa_process", "mfa_serial", "profile", "secret_access_key",
        "session_token",
    )  # fmt: skip

    def __init__(
        self,
        profile: str,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None,
        mfa_serial: str | None,
        mfa_process: str | None,
    ) -> None:
        self.profile = profile
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token
        self.mfa_serial = mfa_serial
        self.mfa_process = mfa_process

    def __repr__(self) -> str:  # the secret parts never show
        return f"StaticKeys(profile={self.profile!r}, access_key_id={self.access_key_id!r})"

    def identity(self) -> Identity:
        # The key id decides whose keys these are; the secret never enters a cache key.
        return (
            ("kind", "static"),
            ("profile", self.profile),
            ("access_key_id", self.access_key_id),
        )


class CredentialSource:
    """`credential_source = Environment | Ec2InstanceMetadata | EcsContainer` on a role profile."""

    __slots__ = ("profile", "source")

    def __init__(self, profile: str, source: str) -> None:
        self.profile = profile
        self.source = source

    def __repr__(self) -> str:
        return f"CredentialSource(profile={self.profile!r}, source={self.source!r})"

    def identity(self) -> Identity:
        identity: Identity = (("kind", "credential_source"), ("source", self.source))
        if self.source == "Environment":
            identity += (("access_key_id", os.environ.get("AWS_ACCESS_KEY_ID", "")),)
        return identity

    @property
    def is_role_session(self) -> bool:
        return self.source != "Environment"


class Boto3Profile:
    """A profile only boto3 resolves: SSO, `credential_process`, web identity."""

    __slots__ = ("kind", "profile", "settings")

    def __init__(self, profile: str, kind: str, settings: tuple[tuple[str, str], ...]) -> None:
        self.profile = profile
        self.kind = kind
        self.settings = settings

    def __repr__(self) -> str:
        return f"Boto3Profile(profile={self.profile!r}, kind={self.kind!r})"

    def identity(self) -> Identity:
        return (("kind", self.kind), ("profile", self.profile), ("settings", self.settings))

    @property
    def is_role_session(self) -> bool:
        # SSO and web identity hand out role sessions: a role assumed from them is a chain.
        return self.kind in ("sso", "web-identity")


Root = StaticKeys | CredentialSource | Boto3Profile


class RoleHop:
    """One AssumeRole: the role profile's own settings."""

    __slots__ = (
        "duration_seconds", "external_id", "mfa_process", "mfa_serial", "profile", "region",
        "role_arn", "role_session_name",
    )  # fmt: skip

    def __init__(
        self,
        profile: str,
        role_arn: str,
        *,
        role_session_name: str | None = None,
        external_id: str | None = None,
        mfa_serial: str | None = None,
        mfa_process: str | None = None,
        duration_seconds: int | None = None,
        region: str | None = None,
    ) -> None:
        self.profile = profile
        self.role_arn = role_arn
        self.role_session_name = role_session_name
        self.external_id = external_id
        self.mfa_serial = mfa_serial
        self.mfa_process = mfa_process
        self.duration_seconds = duration_seconds
        self.region = region

    def __repr__(self) -> str:
        return f"RoleHop(profile={self.profile!r}, role_arn={self.role_arn!r})"

    def identity(self, source: Identity) -> Identity:
        return (
            ("kind", "role"),
            ("profile", self.profile),
            ("role_arn", self.role_arn),
            ("role_session_name", self.role_session_name),
            ("external_id", self.external_id),
            ("mfa_serial", self.mfa_serial),
            ("source", source),
        )


class Chain:
    """How the named profile's credentials are made: a root, then role hops, root first."""

    __slots__ = ("files", "hops", "profile", "region", "root")

    def __init__(
        self,
        profile: str,
        root: Root,
        hops: tuple[RoleHop, ...],
        region: str | None,
        files: ConfigFiles,
    ) -> None:
        self.profile = profile
        self.root = root
        self.hops = hops
        self.region = region
        self.files = files

    @property
    def mfa_serial(self) -> str | None:
        """The device whose code opens a GetSessionToken session for the whole chain.

        Only long-term keys can call GetSessionToken; the serial may sit on the source
        profile itself or on the first role that needs it (as the AWS CLI writes it).
        """
        root = self.root
        if not isinstance(root, StaticKeys) or root.session_token:
            return None
        if root.mfa_serial:
            return root.mfa_serial
        return next((hop.mfa_serial for hop in self.hops if hop.mfa_serial), None)

    def identities(self) -> list[Identity | None]:
        """What decides each step's credentials, root first: the root, the MFA session if
        any, then each role. None for a root whose keys are not cached (they are in a file
        or in the environment already)."""
        root = self.root
        source = root.identity()
        steps: list[Identity | None] = [source if isinstance(root, Boto3Profile) else None]
        if self.mfa_serial is not None:
            source = (("kind", "mfa-session"), ("serial", self.mfa_serial), ("source", source))
            steps.append(source)
        for hop in self.hops:
            source = hop.identity(source)
            steps.append(source)
        return steps

    @property
    def mfa_process(self) -> str | None:
        """The command that prints a code for `mfa_serial`, from the profile that is closest."""
        candidates = [hop.mfa_process for hop in reversed(self.hops)]
        if isinstance(self.root, StaticKeys):
            candidates.append(self.root.mfa_process)
        return next((process for process in candidates if process), None)


def config_paths(environ: Mapping[str, str]) -> tuple[str, str]:
    config = environ.get("AWS_CONFIG_FILE") or "~/.aws/config"
    credentials = environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
    return (
        os.path.expanduser(os.path.expandvars(config)),
        os.path.expanduser(os.path.expandvars(credentials)),
    )


def _read_ini(path: str) -> dict[str, dict[str, str]]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read {path}: it is not UTF-8 text") from None
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    try:
        return parse_ini(text)
    except IniError as error:
        # The message names the line by number only: a line of a credentials file can
        # hold a secret.
        raise ConfigError(f"cannot parse {path}: {error}; fix the file's INI syntax") from None


def section_words(section: str) -> list[str]:
    """The words of a section name, as botocore splits them: with shlex, so that
    `[profile "my team"]` names the profile `my team`."""
    if "'" in section or '"' in section or "\\" in section:
        import shlex

        try:
            return shlex.split(section)
        except ValueError:  # an unclosed quote: botocore skips the section
            return []
    # Without quotes or backslashes shlex only splits at these four characters.
    if "\t" in section or "\r" in section or "\n" in section:
        section = section.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    return [word for word in section.split(" ") if word]


def load_config_files(environ: Mapping[str, str]) -> ConfigFiles:
    """Both files merged as botocore merges them: in the config file `[default]` and
    `[profile NAME]` (any section starting with "profile" whose name is two words), a later
    section replacing an earlier one of the same name; then the credentials file's sections,
    by their plain names, overriding the config key by key."""
    config_path, credentials_path = config_paths(environ)
    profiles: dict[str, dict[str, str]] = {}
    sso_sessions: dict[str, dict[str, str]] = {}
    for section, values in _read_ini(config_path).items():
        if section == "default":
            profiles["default"] = values
        elif section.startswith(("profile", "sso-session")):
            words = section_words(section)
            if len(words) == 2:
                into = profiles if section.startswith("profile") else sso_sessions
                into[words[1]] = values
    for section, values in _read_ini(credentials_path).items():
        profiles.setdefault(section, {}).update(values)
    return ConfigFiles(config_path, credentials_path, profiles, sso_sessions)


def _unknown_profile(name: str, files: ConfigFiles) -> ConfigError:
    import difflib  # error path only

    close = difflib.get_close_matches(name, list(files.profiles), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    if not files.profiles:
        hint = "; no profiles found there (set AWS_CONFIG_FILE or run `aws configure`)"
    return ConfigError(f"profile {name!r} is not in {files.describe()}{hint}")


def _static_keys(name: str, settings: Mapping[str, str], files: ConfigFiles) -> StaticKeys:
    access_key_id = settings.get("aws_access_key_id", "").strip()
    secret = settings.get("aws_secret_access_key", "").strip()
    if not access_key_id or not secret:
        missing = "aws_access_key_id" if not access_key_id else "aws_secret_access_key"
        raise ConfigError(f"profile {name!r} has no {missing} in {files.describe()}")
    return StaticKeys(
        profile=name,
        access_key_id=access_key_id,
        secret_access_key=secret,
        session_token=settings.get("aws_session_token") or None,
        mfa_serial=settings.get("mfa_serial") or None,
        mfa_process=settings.get("mfa_process") or None,
    )


def _duration(name: str, settings: Mapping[str, str], files: ConfigFiles) -> int | None:
    value = settings.get("duration_seconds")
    if value is None:
        return None
    if not value.strip().isdigit():
        raise ConfigError(
            f"profile {name!r} has duration_seconds = {value!r} in {files.describe()}: "
            "write a whole number of seconds"
        )
    return int(value)


def _role_hop(name: str, settings: Mapping[str, str], files: ConfigFiles) -> RoleHop:
    return RoleHop(
        profile=name,
        role_arn=settings["role_arn"].strip(),
        role_session_name=settings.get("role_session_name") or None,
        external_id=settings.get("external_id") or None,
        mfa_serial=settings.get("mfa_serial") or None,
        mfa_process=settings.get("mfa_process") or None,
        duration_seconds=_duration(name, settings, files),
        region=settings.get("region") or None,
    )


def _boto3_profile(name: str, settings: Mapping[str, str], files: ConfigFiles) -> Boto3Profile:
    kind = next(kind for key, kind in _BOTO3_SETTINGS.items() if key in settings)
    non_secret = dict(settings)
    for secret in SECRET_SETTINGS:
        non_secret.pop(secret, None)
    sso_session = settings.get("sso_session")
    if sso_session is not None:
        # The session's start URL and region decide whose credentials these are too.
        for key, value in files.sso_sessions.get(sso_session, {}).items():
            non_secret[f"sso-session.{key}"] = value
    return Boto3Profile(profile=name, kind=kind, settings=tuple(sorted(non_secret.items())))


def resolve_chain(name: str, files: ConfigFiles) -> Chain:
    """Follow `source_profile` from the named profile down to where credentials come from."""
    profiles = files.profiles
    if name not in profiles:
        raise _unknown_profile(name, files)
    hops: list[RoleHop] = []
    visited = [name]
    current = name
    while True:
        settings = profiles[current]
        is_named = current == name
        has_static = "aws_access_key_id" in settings or "aws_secret_access_key" in settings
        web_identity = "web_identity_token_file" in settings
        if "role_arn" in settings and (is_named or not has_static) and not web_identity:
            hops.append(_role_hop(current, settings, files))
            source_profile = settings.get("source_profile")
            credential_source = settings.get("credential_source")
            if source_profile and credential_source:
                raise ConfigError(
                    f"profile {current!r} has both source_profile and credential_source "
                    f"in {files.describe()}: keep one"
                )
            if credential_source:
                if credential_source not in CREDENTIAL_SOURCES:
                    raise ConfigError(
                        f"profile {current!r} has credential_source = {credential_source!r}: "
                        f"use one of {', '.join(CREDENTIAL_SOURCES)}"
                    )
                root: Root = CredentialSource(current, credential_source)
                break
            if not source_profile:
                raise ConfigError(
                    f"role profile {current!r} has no source_profile or credential_source "
                    f"in {files.describe()}: add one to say where its credentials come from"
                )
            if source_profile == current:
                # A profile may hold the keys that assume its own role.
                if not has_static:
                    raise ConfigError(
                        f"profile {current!r} names itself as source_profile but has no "
                        f"aws_access_key_id/aws_secret_access_key in {files.describe()}"
                    )
                root = _static_keys(current, settings, files)
                break
            if source_profile not in profiles:
                raise ConfigError(
                    f"profile {current!r} names source_profile {source_profile!r}, "
                    f"which is not in {files.describe()}"
                )
            if source_profile in visited:
                loop = " -> ".join([*visited, source_profile])
                raise ConfigError(
                    f"source_profile loop: {loop} in {files.describe()}: break the cycle"
                )
            visited.append(source_profile)
            current = source_profile
            continue
        if has_static:
            root = _static_keys(current, settings, files)
        elif any(key in settings for key in _BOTO3_SETTINGS):
            root = _boto3_profile(current, settings, files)
        else:
            via = "" if is_named else f" (the source of {' -> '.join(visited[:-1])})"
            raise ConfigError(
                f"profile {current!r}{via} has no credentials in {files.describe()}: add "
                "aws_access_key_id/aws_secret_access_key, role_arn, sso_session "
                "or credential_process"
            )
        break
    hops.reverse()
    region = profiles[name].get("region") or None
    return Chain(profile=name, root=root, hops=tuple(hops), region=region, files=files)


__all__ = [
    "CREDENTIAL_SOURCES",
    "SECRET_SETTINGS",
    "Boto3Profile",
    "Chain",
    "ConfigFiles",
    "CredentialSource",
    "RoleHop",
    "Root",
    "StaticKeys",
    "config_paths",
    "load_config_files",
    "resolve_chain",
    "section_words",
]
