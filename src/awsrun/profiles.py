"""The AWS CLI's config and credentials files, and how a named profile resolves to a chain.

Pure: reads two files, imports nothing from boto3. The precedence follows botocore's:
the credentials file overrides the config file key by key; the named profile's `role_arn`
wins over static keys in it, while in a source profile static keys win over `role_arn`.
"""

from __future__ import annotations

import os
import stat

from awsrun.errors import ConfigError
from awsrun.ini import IniError, parse_ini

TYPE_CHECKING = False  # as in broker.py: imports for annotations stay off the cache-hit path
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import TypeAlias

    # What decides one step's credentials, as (name, value) pairs in a fixed order; a value
    # is a str, None, the settings' pairs, or the source step's Identity. The cache key is
    # its hash (awsrun.cache.entry_key).
    Identity: TypeAlias = tuple[tuple[str, "IdentityValue"], ...]
    IdentityValue: TypeAlias = str | tuple[tuple[str, str], ...] | Identity | None

# Settings that hold secrets: never part of a cache key, a message or a log line.
SECRET_SETTINGS = frozenset({"aws_secret_access_key", "aws_session_token", "aws_security_token"})
CREDENTIAL_SOURCES = ("Environment", "Ec2InstanceMetadata", "EcsContainer")
# AWS caps a role assumed with another role's credentials at one hour.
ROLE_CHAINING_MAX_SECONDS = 3600
# What STS accepts as DurationSeconds for AssumeRole: 15 minutes to 12 hours.
MIN_DURATION_SECONDS = 900
MAX_DURATION_SECONDS = 12 * 3600


class ConfigFiles:
    """Both files as botocore sees them: `profiles` merged key by key (the credentials file
    over the config file), as every setting but the keys is read; each file's own sections,
    since botocore takes a profile's keys from one file as a unit; and the environment they
    were read in (endpoint variables, the default region)."""

    __slots__ = (
        "_default_session_name", "config_path", "config_sections", "credentials_path",
        "credentials_sections", "environ", "ignored_sections", "profiles", "roots", "services",
        "sso_sessions",
    )  # fmt: skip

    def __init__(
        self,
        config_path: str,
        credentials_path: str,
        profiles: Mapping[str, Mapping[str, str]],
        sso_sessions: Mapping[str, Mapping[str, str]],
        *,
        config_sections: Mapping[str, Mapping[str, str]] | None = None,
        credentials_sections: Mapping[str, Mapping[str, str]] | None = None,
        services: Mapping[str, Mapping[str, str]] | None = None,
        environ: Mapping[str, str] | None = None,
        ignored_sections: tuple[str, ...] = (),
    ) -> None:
        self.config_path = config_path
        self.credentials_path = credentials_path
        self.profiles = profiles
        self.sso_sessions = sso_sessions
        self.config_sections = profiles if config_sections is None else config_sections
        self.credentials_sections = credentials_sections or {}
        self.services = services or {}
        # A plain copy: os.environ encodes every key it is asked for, and `awsrun list`
        # asks a few for each of its profiles.
        self.environ = dict(environ or {})
        self._default_session_name: str | None = None
        self.roots: dict[str, Root] = {}  # resolved once per run, by profile name
        # Config-file sections botocore skips (`[prodaccess]` for `[profile prodaccess]`).
        self.ignored_sections = ignored_sections

    def describe(self) -> str:
        return f"{self.config_path} and {self.credentials_path}"

    @property
    def default_session_name(self) -> str:
        if self._default_session_name is None:
            self._default_session_name = default_session_name(self.environ)
        return self._default_session_name

    def path_of(self, profile: str, setting: str) -> str:
        """The file a profile's merged setting comes from, for messages."""
        if setting in self.credentials_sections.get(profile, {}):
            return self.credentials_path
        return self.config_path


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
        "duration_seconds", "external_id", "mfa_process", "mfa_serial", "profile", "role_arn",
        "role_session_name",
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
    ) -> None:
        self.profile = profile
        self.role_arn = role_arn
        self.role_session_name = role_session_name
        self.external_id = external_id
        self.mfa_serial = mfa_serial
        self.mfa_process = mfa_process
        self.duration_seconds = duration_seconds

    def __repr__(self) -> str:
        return f"RoleHop(profile={self.profile!r}, role_arn={self.role_arn!r})"

    def identity(
        self, source: Identity, session_name: str, duration: int | None, endpoint: str | None
    ) -> Identity:
        # Everything the AssumeRole request carries, as sent: another session name, length
        # or endpoint is another session.
        return (
            ("kind", "role"),
            ("profile", self.profile),
            ("role_arn", self.role_arn),
            ("role_session_name", session_name),
            ("duration_seconds", None if duration is None else str(duration)),
            ("external_id", self.external_id),
            ("mfa_serial", self.mfa_serial),
            ("endpoint", endpoint),
            ("source", source),
        )


class HopRequest:
    """What one AssumeRole asks for, less the signer and an MFA code."""

    __slots__ = ("asked_seconds", "duration_seconds", "session_name")

    def __init__(self, session_name: str, duration_seconds: int | None, asked: int | None) -> None:
        self.session_name = session_name
        self.duration_seconds = duration_seconds
        # The length asked for when AWS's cap on chained roles lowered it, else None.
        self.asked_seconds = asked


class Chain:
    """How the named profile's credentials are made: a root, then role hops, root first."""

    __slots__ = ("endpoint", "files", "hops", "profile", "region", "root")

    def __init__(
        self,
        profile: str,
        root: Root,
        hops: tuple[RoleHop, ...],
        region: str | None,
        files: ConfigFiles,
        endpoint: str | None = None,
    ) -> None:
        self.profile = profile
        self.root = root
        self.hops = hops
        # The named profile's own `region` setting; choose_region() says which one is used.
        self.region = region
        self.files = files
        # The STS endpoint URL configured for the profile, as botocore picks it, or None.
        self.endpoint = endpoint

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

    def is_chained(self, position: int) -> bool:
        """Whether the hop's role is assumed with another role's session (AWS caps those)."""
        if position > 0:
            return True
        root = self.root
        return self.mfa_serial is None and not isinstance(root, StaticKeys) and root.is_role_session

    def hop_request(
        self, position: int, *, session_name: str | None = None, duration: int | None = None
    ) -> HopRequest:
        """The request of hop `position`; `session_name` and `duration` (the command line's)
        apply to the named profile's own role only."""
        hop = self.hops[position]
        is_top = position == len(self.hops) - 1
        name = (
            (session_name if is_top else None)
            or hop.role_session_name
            or self.files.default_session_name
        )
        asked = (duration if is_top else None) or hop.duration_seconds
        if asked and asked > ROLE_CHAINING_MAX_SECONDS and self.is_chained(position):
            return HopRequest(name, ROLE_CHAINING_MAX_SECONDS, asked)
        return HopRequest(name, asked, None)

    def identities(
        self, *, session_name: str | None = None, duration: int | None = None
    ) -> list[Identity | None]:
        """What decides each step's credentials, root first: the root, the MFA session if
        any, then each role. None for a root whose keys are not cached (they are in a file
        or in the environment already)."""
        root = self.root
        source = root.identity()
        if isinstance(root, Boto3Profile):
            source += (("endpoint", self.endpoint),)
            # Role credentials from another portal (an emulator's) are not the real ones.
            portal = (
                service_endpoint(self.files, root.profile, "sso") if root.kind == "sso" else None
            )
            if portal is not None:
                source += (("sso_endpoint", portal),)
        steps: list[Identity | None] = [source if isinstance(root, Boto3Profile) else None]
        if self.mfa_serial is not None:
            source = (
                ("kind", "mfa-session"),
                ("serial", self.mfa_serial),
                ("endpoint", self.endpoint),
                ("source", source),
            )
            steps.append(source)
        for position, hop in enumerate(self.hops):
            request = self.hop_request(position, session_name=session_name, duration=duration)
            source = hop.identity(
                source, request.session_name, request.duration_seconds, self.endpoint
            )
            steps.append(source)
        return steps

    @property
    def mfa_process(self) -> str | None:
        """The command that prints a code for `mfa_serial`, from the profile that is closest."""
        candidates = [hop.mfa_process for hop in reversed(self.hops)]
        if isinstance(self.root, StaticKeys):
            candidates.append(self.root.mfa_process)
        return next((process for process in candidates if process), None)


_SESSION_NAME_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-"
)


def session_name_problem(name: str) -> str | None:
    """Why STS would refuse `name` as a RoleSessionName, or None."""
    if not 2 <= len(name) <= 64:
        return "it must be 2 to 64 characters long"
    if not _SESSION_NAME_CHARACTERS.issuperset(name):
        return "it may hold only ASCII letters, digits and _+=,.@-"
    return None


def default_session_name(environ: Mapping[str, str]) -> str:
    """`awsrun-$USER` in the characters RoleSessionName allows (ASCII letters and digits,
    `_+=,.@-`), at most 64 of them: CloudTrail shows it. The user is found as
    getpass.getuser() finds it, without importing getpass (it loads contextlib)."""
    user = next(
        (environ[name] for name in ("LOGNAME", "USER", "LNAME", "USERNAME") if environ.get(name)),
        None,
    )
    if user is None:
        import pwd

        try:
            user = pwd.getpwuid(os.getuid()).pw_name
        except KeyError:
            return "awsrun"
    name = "".join(c if c in _SESSION_NAME_CHARACTERS else "-" for c in f"awsrun-{user}")
    return name[:64]


_REGION_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


# Set beside AWS_REGION and AWS_DEFAULT_REGION when awsrun chose the region (from a profile or
# --region), so that an awsrun inside the command, or a second `eval "$(awsrun env ...)"`,
# tells the region an outer awsrun set from one the user set.
REGION_MARKER = "AWSRUN_REGION"


def region_set_by_awsrun(environ: Mapping[str, str]) -> bool:
    """AWS_DEFAULT_REGION holds the region an outer awsrun set, not one the user chose."""
    region = environ.get("AWS_DEFAULT_REGION")
    return region is not None and region == environ.get(REGION_MARKER)


def choose_region(
    files: ConfigFiles, profile: str, override: str | None = None
) -> tuple[str | None, str]:
    """The region of botocore's session for the profile, which signs every STS call of the
    chain and is the command's, and where it came from: `--region` (as the AWS CLI's own),
    else AWS_DEFAULT_REGION unless an outer awsrun set it, else the named profile's
    `region`. botocore reads no AWS_REGION."""
    environ = files.environ
    region = environ.get("AWS_DEFAULT_REGION")
    if override:
        region, source = override, "--region"
    elif region is not None and not region_set_by_awsrun(environ):
        source = "AWS_DEFAULT_REGION"
        if not region.strip():  # botocore builds the URL `https://sts..amazonaws.com`
            raise ConfigError("AWS_DEFAULT_REGION is set but empty: unset it, or give it a region")
    else:
        region = files.profiles.get(profile, {}).get("region") or None
        source = f"the region of profile {profile!r}"
        if environ.get("AWS_DEFAULT_REGION") is not None:
            source += " (AWS_DEFAULT_REGION is the one an outer awsrun set)"
    # A region goes into a URL and into the command's environment: letters, digits, dashes.
    if region is not None and not _REGION_CHARACTERS.issuperset(region):
        raise ConfigError(f"{source} is {region!r}, not a region name: write one such as eu-west-1")
    return region, source


def sts_endpoint(files: ConfigFiles, profile: str) -> str | None:
    """The STS endpoint URL configured for the profile (see service_endpoint)."""
    return service_endpoint(files, profile, "sts")


def service_endpoint(files: ConfigFiles, profile: str, service: str) -> str | None:
    """The endpoint URL configured for `service` (`sts`, `sso`) in the profile, in
    botocore's order: the service's variable, the global one, the profile's `services`
    section, its `endpoint_url`; none when configured endpoints are turned off."""
    environ = files.environ
    settings = files.profiles.get(profile, {})
    ignore = environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
    if ignore is None:
        ignore = settings.get("ignore_configured_endpoint_urls", "")
    if ignore.lower() == "true":
        return None
    configured = None
    section_name = settings.get("services")
    if section_name is not None:
        section = files.services.get(section_name)
        if not section:
            raise ConfigError(
                f"profile {profile!r} names services = {section_name!r}, but "
                f"{files.config_path} has no [services {section_name}] section"
            )
        configured = _nested(section.get(service, "")).get("endpoint_url")
    return (
        environ.get(f"AWS_ENDPOINT_URL_{service.upper()}")
        or environ.get("AWS_ENDPOINT_URL")
        or configured
        or settings.get("endpoint_url")
        or None
    )


def _nested(value: str) -> dict[str, str]:
    """An indented block of `key = value` lines, as botocore reads one (its syntax was
    checked when the file was read)."""
    pairs = (line.split("=", 1) for line in value.split("\n") if line.strip())
    return {key.strip(): rest.strip() for key, rest in pairs}


def config_paths(environ: Mapping[str, str]) -> tuple[str, str]:
    # Set but empty means no file, as in botocore (os.path.isfile("") is false).
    config = environ.get("AWS_CONFIG_FILE", "~/.aws/config")
    credentials = environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
    # awsrun --server hides the credentials file from the command's SDKs (keys there would
    # win over its endpoint), not from an awsrun inside the command.
    real_credentials = environ.get("AWSRUN_SHARED_CREDENTIALS_FILE")
    if real_credentials is not None and credentials == os.devnull:
        credentials = real_credentials
    return (
        os.path.expanduser(os.path.expandvars(config)),
        os.path.expanduser(os.path.expandvars(credentials)),
    )


def _read_ini(path: str, variable: str) -> dict[str, dict[str, str]]:
    if not path:
        return {}
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"{path} is a folder, not a file: point {variable} at the file")
    if not stat.S_ISREG(st.st_mode):
        return {}  # botocore reads only regular files: /dev/null, a pipe are no file
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read {path}: it is not UTF-8 text") from None
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    try:
        sections = parse_ini(text, botocore_blocks=True)
    except IniError as error:
        # The message names the line by number only: a line of a credentials file can
        # hold a secret.
        raise ConfigError(f"cannot parse {path}: {error}; fix the file's INI syntax") from None
    return sections


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
    """Both files as botocore reads them: in the config file `[default]` and
    `[profile NAME]` (any section starting with "profile" whose name is two words), a later
    section replacing an earlier one of the same name; then the credentials file's sections,
    by their plain names, overriding the config key by key."""
    config_path, credentials_path = config_paths(environ)
    config: dict[str, dict[str, str]] = {}
    sso_sessions: dict[str, dict[str, str]] = {}
    services: dict[str, dict[str, str]] = {}
    ignored: list[str] = []
    for section, values in _read_ini(config_path, "AWS_CONFIG_FILE").items():
        if section == "default":
            config["default"] = values
        elif (
            section.startswith(("profile", "sso-session", "services"))
            and len(words := section_words(section)) == 2
        ):
            if section.startswith("profile"):
                config[words[1]] = values
            elif section.startswith("sso-session"):
                sso_sessions[words[1]] = values
            else:
                services[words[1]] = values
        else:
            ignored.append(section)
    credentials = _read_ini(credentials_path, "AWS_SHARED_CREDENTIALS_FILE")
    profiles = dict(config)
    for section, values in credentials.items():
        profiles[section] = {**config[section], **values} if section in config else values
    return ConfigFiles(
        config_path,
        credentials_path,
        profiles,
        sso_sessions,
        config_sections=config,
        credentials_sections=credentials,
        services=services,
        environ=environ,
        ignored_sections=tuple(ignored),
    )


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
    raise ConfigError(
        f"profile {name!r}{via} has no credentials in {files.describe()}: add "
        "aws_access_key_id/aws_secret_access_key (both in one file), role_arn, sso_session "
        "or credential_process"
    )


def _has_static_keys(settings: Mapping[str, str]) -> bool:
    return "aws_access_key_id" in settings or "aws_secret_access_key" in settings


def resolve_chain(name: str, files: ConfigFiles, origin: str = "") -> Chain:
    """Follow `source_profile` from the named profile down to where credentials come from,
    as botocore's AssumeRoleProvider does: the named profile's `role_arn` wins over its own
    keys; a source profile with keys (in either file) is a root, even with a `role_arn`.
    `origin` says where the name came from (`AWS_PROFILE`), for the error if it is unknown."""
    profiles = files.profiles
    if name not in profiles:
        raise _unknown_profile(name, files, origin)
    visited = [name]
    try:
        root, hops = _follow(name, files, visited)
        visited.append(name)  # the region is the named profile's
        region = _get(profiles[name], "region")
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


def _follow(name: str, files: ConfigFiles, visited: list[str]) -> tuple[Root, tuple[RoleHop, ...]]:
    """The root and the hops (root first); `visited` ends with the profile being read."""
    profiles = files.profiles
    hops: list[RoleHop] = []
    current = name
    while True:
        settings = profiles[current]
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
        if source_profile not in profiles:
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


__all__ = [
    "CREDENTIAL_SOURCES",
    "MAX_DURATION_SECONDS",
    "MIN_DURATION_SECONDS",
    "REGION_MARKER",
    "ROLE_CHAINING_MAX_SECONDS",
    "SECRET_SETTINGS",
    "Boto3Profile",
    "Chain",
    "ConfigFiles",
    "CredentialSource",
    "HopRequest",
    "RoleHop",
    "Root",
    "StaticKeys",
    "choose_region",
    "config_paths",
    "default_session_name",
    "load_config_files",
    "region_set_by_awsrun",
    "resolve_chain",
    "section_words",
    "service_endpoint",
    "session_name_problem",
    "sts_endpoint",
]
