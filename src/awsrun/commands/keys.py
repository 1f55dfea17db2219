"""`awsrun add`, `remove` and `rotate`: long-term keys into awsrun's keystore, out of it,
and renewed through IAM.

`add` takes the keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY with --env, from the
profile's lines in a config file with --move, else asks on the terminal (the secret not
echoed); it checks them with GetCallerIdentity unless --no-check, stores them, reads them
back, and only then records the profile in the index (and removes the moved lines).
`remove` deletes them and every cached credential made with them. `rotate` replaces a
key, stored or in a file, so that awsrun holds one working key at every step.
"""

from __future__ import annotations

import sys

from awsrun.config.chain import StaticKeys
from awsrun.errors import AwsrunError, ConfigError, UsageError

TYPE_CHECKING = False  # annotations only
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from awsrun.commands.invocation import Invocation
    from awsrun.config.files import ConfigFiles
    from awsrun.credentials.cache import Cache
    from awsrun.credentials.iam import Iam
    from awsrun.credentials.keys import Credentials
    from awsrun.credentials.keystore import StoredKeyPair
    from awsrun.credentials.sts import Sts
    from awsrun.report import Reporter


def run_add(invocation: Invocation, environ: Mapping[str, str], reporter: Reporter) -> int:
    from awsrun.config.files import load_config_files
    from awsrun.config.keyindex import StoredEntry
    from awsrun.credentials.keystore import open_keystore, record

    profile = _one_profile(invocation, "add")
    if {"move", "from_env"} <= invocation.flags:
        raise UsageError("awsrun add takes --move or --env, not both")
    files = load_config_files(environ)
    moving = _keys_in_a_file(profile, files) if "move" in invocation.flags else None
    _refuse_other_credentials(profile, files, moving=moving is not None)
    keys = moving.keys if moving else _keys_given(invocation, environ, profile)
    if "no_check" not in invocation.flags:
        arn, account = _whose(keys, profile, files, reporter)
        reporter.warn(f"keys {keys.access_key_id} are {arn} (account {account})")
    store = open_keystore(environ)
    store.store(profile, keys)
    if store.load(profile).secret_access_key != keys.secret_access_key:
        raise ConfigError(f"the {store.name} store did not keep the keys: nothing was recorded")
    record(environ, profile, StoredEntry(store.name, keys.access_key_id))
    sys.stdout.write(
        f"stored keys {keys.access_key_id} for profile {profile!r} in the {store.name} store\n"
    )
    if moving is not None:  # only now that the store holds them
        try:
            moving.remove_from_file()
        except ConfigError as error:
            raise ConfigError(f"the keys are stored, but {error}: remove their lines") from None
        sys.stdout.write(f"removed them from {moving.path}\n")
    return 0


def run_remove(invocation: Invocation, environ: Mapping[str, str], reporter: Reporter) -> int:
    from awsrun.config.files import load_config_files
    from awsrun.credentials.cache import Cache
    from awsrun.credentials.keystore import open_keystore, record
    from awsrun.folders import cache_dir

    profile = _one_profile(invocation, "remove")
    files = load_config_files(environ)
    entry = files.stored_keys().get(profile)
    if entry is None:
        raise ConfigError(f"no keys are stored for profile {profile!r} (see awsrun list)")
    # The cached credentials first: their keys are found through the index entry.
    cache = Cache(cache_dir(environ), reporter)
    removed = sum(cache.delete(key) for key in _cached_entries_of(profile, files))
    open_keystore(environ, entry.backend).delete(profile)
    record(environ, profile, None)
    sys.stdout.write(
        f"removed keys {entry.access_key_id} of profile {profile!r} from the "
        f"{entry.backend} store"
        + (f", and {removed} cached credentials made with them\n" if removed else "\n")
    )
    return 0


def _one_profile(invocation: Invocation, word: str) -> str:
    if len(invocation.words) != 1:
        raise UsageError(f"awsrun {word} takes one profile: awsrun {word} PROFILE")
    return invocation.words[0]


class _KeysInAFile:
    """A profile's keys in one of the two files, to be moved into the keystore."""

    def __init__(self, profile: str, path: str, keys: StoredKeyPair, *, config: bool) -> None:
        self.profile = profile
        self.path = path
        self.keys = keys
        self._config = config

    def _is_section(self, section: str) -> bool:
        if not self._config:
            return section == self.profile
        if self.profile == "default" and section == "default":
            return True
        from awsrun.config.files import section_words

        words = section_words(section) if section.startswith("profile") else []
        return words == ["profile", self.profile]

    def replace_in_file(self, keys: StoredKeyPair) -> None:
        """The file's key lines given `keys`' values, every other byte as it was."""
        from awsrun.config.writer import with_values

        values = {
            "aws_access_key_id": keys.access_key_id,
            "aws_secret_access_key": keys.secret_access_key,
        }
        self._rewrite(lambda text: with_values(text, self._is_section, values), values)

    def remove_from_file(self) -> None:
        """The key lines out of the file, every other byte as it was."""
        from awsrun.config.writer import KEY_SETTINGS, without_settings

        self._rewrite(lambda text: without_settings(text, self._is_section, KEY_SETTINGS), {})

    def _rewrite(self, edit: Callable[[str], tuple[str, int]], values: dict[str, str]) -> None:
        """The file edited, checked to read as before but for the keys (gone, or `values`),
        its mode kept; written beside it and renamed over it (through a symlink, to its
        target), so that no copy with the old key is left."""
        import os

        from awsrun.config.ini import parse_ini
        from awsrun.config.writer import KEY_SETTINGS
        from awsrun.privatefiles import write_private

        target = os.path.realpath(self.path)
        with open(target, encoding="utf-8", newline="") as handle:
            text = handle.read()
        new_text, changed = edit(text)
        expected = {}
        for name, settings in parse_ini(text).items():
            if self._is_section(name):
                settings = {k: v for k, v in settings.items() if k not in KEY_SETTINGS}
                settings.update(values)
            expected[name] = settings
        if changed < 2 or parse_ini(new_text) != expected:
            raise ConfigError(
                f"awsrun could not tell the key lines of {self.profile!r} in {self.path} "
                "apart: edit them yourself"
            )
        try:
            write_private(target, new_text.encode("utf-8"), mode=os.stat(target).st_mode & 0o7777)
        except OSError as error:
            raise ConfigError(f"{self.path} could not be rewritten ({error.strerror})") from None


def _keys_in_a_file(profile: str, files: ConfigFiles) -> _KeysInAFile:
    from awsrun.credentials.keystore import StoredKeyPair

    found = [
        (path, sections[profile], config)
        for path, sections, config in (
            (files.credentials_path, files.credentials_sections, False),
            (files.config_path, files.config_sections, True),
        )
        if "aws_access_key_id" in sections.get(profile, {})
    ]
    if not found:
        raise ConfigError(f"profile {profile!r} has no keys in {files.describe()} to move")
    if len(found) > 1:
        raise ConfigError(
            f"profile {profile!r} has keys in both {files.describe()}: remove one pair first"
        )
    path, section, config = found[0]
    if section.get("aws_session_token") or section.get("aws_security_token"):
        raise ConfigError(
            f"profile {profile!r} has temporary keys (a session token) in {path}: only "
            "long-term keys are worth keeping"
        )
    key_id = section.get("aws_access_key_id", "").strip()
    secret = section.get("aws_secret_access_key", "").strip()
    if not key_id or not secret or "\n" in key_id + secret:
        raise ConfigError(f"profile {profile!r} has no complete pair of keys in {path}")
    return _KeysInAFile(profile, path, StoredKeyPair(key_id, secret), config=config)


def _refuse_other_credentials(profile: str, files: ConfigFiles, *, moving: bool) -> None:
    """Stored keys serve a profile whose files give it no credentials: elsewhere they would
    never be used, or would compete with keys in a file."""
    for path, sections in (
        (files.credentials_path, files.credentials_sections),
        (files.config_path, files.config_sections),
    ):
        if "aws_access_key_id" in sections.get(profile, {}) and not moving:
            raise ConfigError(
                f"profile {profile!r} has keys in {path}: `awsrun add --move {profile}` "
                "moves them into the keystore"
            )
    settings = files.profiles.get(profile, {})
    own = [name for name in _OTHER_CREDENTIALS if name in settings]
    if own:
        raise ConfigError(
            f"profile {profile!r} gets its credentials from its {own[0]}: stored keys would "
            "never be used; store them under the name of its source profile instead"
        )
    if profile in files.stored_keys():
        raise ConfigError(
            f"keys are stored for profile {profile!r} already: `awsrun remove {profile}` first"
        )


_OTHER_CREDENTIALS = (
    "role_arn", "sso_session", "sso_account_id", "credential_process",
    "web_identity_token_file", "credential_source", "login_session",
)  # fmt: skip


def _keys_given(invocation: Invocation, environ: Mapping[str, str], profile: str) -> StoredKeyPair:
    from awsrun.credentials.keystore import StoredKeyPair

    if "from_env" in invocation.flags:
        key_id = environ.get("AWS_ACCESS_KEY_ID", "").strip()
        secret = environ.get("AWS_SECRET_ACCESS_KEY", "").strip()
        if not key_id or not secret:
            raise ConfigError(
                "--env takes the keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "which are not both set"
            )
        return StoredKeyPair(key_id, secret)
    try:
        terminal = open("/dev/tty", "r+", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError:
        raise ConfigError(
            f"no terminal to ask for the keys of {profile!r} on: set AWS_ACCESS_KEY_ID and "
            f"AWS_SECRET_ACCESS_KEY and run `awsrun add --env {profile}`"
        ) from None
    import getpass

    with terminal:
        terminal.write(f"access key id for {profile!r}: ")
        terminal.flush()
        key_id = terminal.readline().strip()
    secret = getpass.getpass("secret access key (not shown): ").strip()
    if not key_id or not secret:
        raise ConfigError("an access key id and a secret are both needed: nothing was stored")
    return StoredKeyPair(key_id, secret)


def _whose(
    keys: StoredKeyPair, profile: str, files: ConfigFiles, reporter: Reporter
) -> tuple[str, str]:
    from awsrun.config.endpoints import choose_region
    from awsrun.credentials.keys import Credentials

    region, _ = choose_region(files, profile)
    signer = Credentials(keys.access_key_id, keys.secret_access_key)
    sts = _sts_for(profile, files, reporter)
    return sts.caller_identity(signer, region=region, source=f"the keys for {profile!r}")


def run_rotate(invocation: Invocation, environ: Mapping[str, str], reporter: Reporter) -> int:
    """A new access key for the profile's IAM user, stored where the old one was, then the
    old key deleted. At every step awsrun holds one working key and says which."""
    from awsrun.config.endpoints import choose_region, service_endpoint
    from awsrun.config.files import load_config_files
    from awsrun.config.keyindex import StoredEntry
    from awsrun.credentials.iam import Iam, user_of
    from awsrun.credentials.keys import Credentials
    from awsrun.credentials.keystore import StoredKeyPair, open_keystore, record

    profile = _one_profile(invocation, "rotate")
    files = load_config_files(environ)
    entry = files.stored_keys().get(profile)
    # The key is where rotate will put the new one: in the store, or in a config file.
    store = None if entry is None else open_keystore(environ, entry.backend)
    in_file: _KeysInAFile | None = None
    if store is not None:
        old, where = store.load(profile), f"the {store.name} store"
    else:
        in_file = _keys_in_a_file(profile, files)
        old, where = in_file.keys, in_file.path
    old_keys = Credentials(old.access_key_id, old.secret_access_key)
    stale = _cached_entries_of(profile, files)  # made with the old key: gone at the end
    region, _ = choose_region(files, profile, invocation.values.get("region"))
    sts = _sts_for(profile, files, reporter)
    arn, _ = sts.caller_identity(old_keys, region=region, source=f"the keys of {profile!r}")
    user = user_of(arn)
    if user is None:
        raise ConfigError(
            f"the keys of {profile!r} are {arn}'s, not an IAM user's: rotate them in the "
            "IAM console"
        )
    signer = _iam_signer(old_keys, profile, files, invocation, sts, region)
    iam_endpoint = service_endpoint(files, profile, "iam")
    new = Iam(signer, endpoint=iam_endpoint).create_access_key(user)
    reporter.warn(f"created key {new.access_key_id} for IAM user {user}; checking that it works")
    try:
        _wait_until_usable(sts, new, region, profile)
        if in_file is not None:
            in_file.replace_in_file(StoredKeyPair(new.access_key_id, new.secret_access_key))
        else:
            assert store is not None
            store.store(profile, StoredKeyPair(new.access_key_id, new.secret_access_key))
            if store.load(profile).access_key_id != new.access_key_id:
                raise ConfigError(f"the {store.name} store did not keep the new key")
            record(environ, profile, StoredEntry(store.name, new.access_key_id))
    except AwsrunError as error:
        _delete_quietly(Iam(signer, endpoint=iam_endpoint), user, new.access_key_id)
        raise ConfigError(
            f"{error}; the new key was deleted again, and awsrun still holds key "
            f"{old.access_key_id} for {profile!r}, which still works"
        ) from None
    cache = _cache(environ, reporter)
    for key in stale:
        cache.delete(key)
    # Signed with the new key (or the MFA session): the old one is about to go.
    new_signer = signer if signer.session_token else new
    try:
        Iam(new_signer, endpoint=iam_endpoint).delete_access_key(user, old.access_key_id)
    except AwsrunError as error:
        raise ConfigError(
            f"the old key {old.access_key_id} could not be deleted ({error}): delete it in "
            f"IAM; awsrun now holds key {new.access_key_id} for {profile!r}"
        ) from None
    sys.stdout.write(
        f"rotated the key of {profile!r} (IAM user {user}) in {where}: "
        f"{old.access_key_id} deleted, awsrun now holds {new.access_key_id}\n"
    )
    return 0


def _sts_for(profile: str, files: ConfigFiles, reporter: Reporter) -> Sts:
    from awsrun.config.endpoints import sts_endpoint
    from awsrun.credentials.sts import Sts

    return Sts(
        profile,
        endpoint_configured=sts_endpoint(files, profile) is not None,
        reporter=reporter,
        in_files=profile in files.profiles,
    )


def _iam_signer(
    keys: Credentials,
    profile: str,
    files: ConfigFiles,
    invocation: Invocation,
    sts: Sts,
    region: str | None,
) -> Credentials:
    """The long-term keys, or with `mfa_serial` an MFA session of them: IAM refuses a
    session token made without MFA."""
    settings = files.profiles.get(profile, {})
    serial = settings.get("mfa_serial")
    if not serial:
        return keys
    from awsrun.credentials.mfa import mfa_code

    code = mfa_code(
        serial,
        profile=profile,
        given=invocation.values.get("mfa_code"),
        process=settings.get("mfa_process"),
    )
    return sts.get_session_token(
        keys,
        serial=serial,
        code=code,
        duration_seconds=900,
        region=region,
        source=f"the keys of {profile!r}",
    )


def _wait_until_usable(sts: Sts, keys: Credentials, region: str | None, profile: str) -> None:
    """IAM takes a few seconds to make a new key valid everywhere: try it, up to 2 minutes."""
    import time

    from awsrun.errors import StsError

    deadline = time.monotonic() + _NEW_KEY_WAIT_SECONDS
    while True:
        try:
            sts.caller_identity(keys, region=region, source=f"the new key of {profile!r}")
            return
        except StsError:
            if time.monotonic() >= deadline:
                raise ConfigError(
                    f"the new key did not work within {_NEW_KEY_WAIT_SECONDS // 60} minutes"
                ) from None
            time.sleep(2)


_NEW_KEY_WAIT_SECONDS = 120


def _delete_quietly(iam: Iam, user: str, access_key_id: str) -> None:
    import contextlib

    with contextlib.suppress(AwsrunError):
        iam.delete_access_key(user, access_key_id)


def _cache(environ: Mapping[str, str], reporter: Reporter) -> Cache:
    from awsrun.credentials.cache import Cache
    from awsrun.folders import cache_dir

    return Cache(cache_dir(environ), reporter)


def _cached_entries_of(profile: str, files: ConfigFiles) -> list[str]:
    """The cache keys of every step made with `profile`'s keys (stored or in a file): its
    own session, and the roles of every profile whose chain starts at them."""
    from awsrun.config.resolve import resolve_chain
    from awsrun.credentials.cache import entry_key

    found = []
    for name in sorted({profile, *files.profiles}):
        try:
            chain = resolve_chain(name, files)
        except ConfigError:
            continue
        root = chain.root
        if isinstance(root, StaticKeys) and root.profile == profile:
            found += [entry_key(i) for i in chain.identities() if i is not None]
    return found


__all__ = ["run_add", "run_remove", "run_rotate"]
