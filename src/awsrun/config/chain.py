"""What a profile resolves to: a chain of steps, root first (where the first credentials
come from), then one AssumeRole per role profile; and the session names STS takes.

Each step knows its identity, the (name, value) pairs that decide its credentials, whose
hash is its cache key (awsrun.credentials.cache.entry_key). Pure.
"""

from __future__ import annotations

import os

from awsrun.config.endpoints import service_endpoint

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TypeAlias

    from awsrun.config.files import ConfigFiles

    # What decides one step's credentials, as (name, value) pairs in a fixed order; a value
    # is a str, None, the settings' pairs, or the source step's Identity.
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
# The session that stored long-term keys give a command unless --duration says otherwise.
STORED_KEYS_SESSION_SECONDS = 3600


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


class StoredKeys(StaticKeys):
    """Long-term keys in awsrun's keystore (`awsrun add`). The secret is not here: it is read
    from the store only when a step above must be signed, never on a cache hit."""

    __slots__ = ("backend",)

    def __init__(
        self,
        profile: str,
        access_key_id: str,
        backend: str,
        mfa_serial: str | None,
        mfa_process: str | None,
    ) -> None:
        super().__init__(profile, access_key_id, "", None, mfa_serial, mfa_process)
        self.backend = backend

    def __repr__(self) -> str:
        return (
            f"StoredKeys(profile={self.profile!r}, access_key_id={self.access_key_id!r}, "
            f"backend={self.backend!r})"
        )

    def identity(self) -> Identity:
        return (
            ("kind", "stored"),
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

    @property
    def mfa_session_name(self) -> str | None:
        """What awsrun calls the chain's MFA session wherever it names it (one per device,
        shared by every profile that uses the device)."""
        serial = self.mfa_serial
        return None if serial is None else f"the MFA session of {serial}"

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

    def session_for_stored_keys(self, *, no_session: bool = False) -> bool:
        """Whether stored keys reach the command as a GetSessionToken session: when they
        would reach it at all (no role above them, no MFA session), unless --no-session."""
        return (
            isinstance(self.root, StoredKeys)
            and not self.hops
            and self.mfa_serial is None
            and not no_session
        )

    def identities(
        self,
        *,
        session_name: str | None = None,
        duration: int | None = None,
        no_session: bool = False,
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
        elif self.session_for_stored_keys(no_session=no_session):
            source = (
                ("kind", "session"),
                ("duration", str(duration or STORED_KEYS_SESSION_SECONDS)),
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


__all__ = [
    "CREDENTIAL_SOURCES",
    "MAX_DURATION_SECONDS",
    "MIN_DURATION_SECONDS",
    "ROLE_CHAINING_MAX_SECONDS",
    "SECRET_SETTINGS",
    "STORED_KEYS_SESSION_SECONDS",
    "Boto3Profile",
    "Chain",
    "CredentialSource",
    "HopRequest",
    "RoleHop",
    "Root",
    "StaticKeys",
    "StoredKeys",
    "default_session_name",
    "session_name_problem",
]
