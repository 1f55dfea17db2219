"""`awsrun add` and `awsrun remove`: long-term keys into awsrun's keystore and out of it.

`add` takes the keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY with --env, else asks
on the terminal (the secret not echoed); it checks them with GetCallerIdentity unless
--no-check, stores them, reads them back, and only then records the profile in the
index. `remove` deletes them and every cached credential made with them.
"""

from __future__ import annotations

import sys

from awsrun.errors import ConfigError, UsageError

TYPE_CHECKING = False  # annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping

    from awsrun.commands.invocation import Invocation
    from awsrun.config.files import ConfigFiles
    from awsrun.credentials.cache import Cache
    from awsrun.credentials.keystore import StoredKeyPair
    from awsrun.report import Reporter


def run_add(invocation: Invocation, environ: Mapping[str, str], reporter: Reporter) -> int:
    from awsrun.config.files import load_config_files
    from awsrun.config.keyindex import StoredEntry
    from awsrun.credentials.keystore import open_keystore, record

    profile = _one_profile(invocation, "add")
    files = load_config_files(environ)
    _refuse_other_credentials(profile, files)
    keys = _keys_given(invocation, environ, profile)
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
    removed = _forget_cached(profile, files, Cache(cache_dir(environ), reporter))
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


def _refuse_other_credentials(profile: str, files: ConfigFiles) -> None:
    """Stored keys serve a profile whose files give it no credentials: elsewhere they would
    never be used, or would compete with keys in a file."""
    for path, sections in (
        (files.credentials_path, files.credentials_sections),
        (files.config_path, files.config_sections),
    ):
        if "aws_access_key_id" in sections.get(profile, {}):
            raise ConfigError(
                f"profile {profile!r} has keys in {path}: remove those lines first, or keep "
                "them there (awsrun uses them as they are)"
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
    from awsrun.config.endpoints import choose_region, sts_endpoint
    from awsrun.credentials.keys import Credentials
    from awsrun.credentials.sts import Sts

    region, _ = choose_region(files, profile)
    endpoint = sts_endpoint(files, profile)
    sts = Sts(
        profile,
        endpoint_configured=endpoint is not None,
        reporter=reporter,
        in_files=profile in files.profiles,
    )
    signer = Credentials(keys.access_key_id, keys.secret_access_key)
    return sts.caller_identity(signer, region=region, source=f"the keys for {profile!r}")


def _forget_cached(profile: str, files: ConfigFiles, cache: Cache) -> int:
    """Delete every cached entry made with `profile`'s stored keys: its own session, and
    the roles of every profile whose chain starts at them."""
    from awsrun.config.chain import StoredKeys
    from awsrun.config.resolve import resolve_chain
    from awsrun.credentials.cache import entry_key

    removed = 0
    for name in sorted({profile, *files.profiles}):
        try:
            chain = resolve_chain(name, files)
        except ConfigError:
            continue
        if not isinstance(chain.root, StoredKeys) or chain.root.profile != profile:
            continue
        for identity in chain.identities():
            if identity is not None and cache.delete(entry_key(identity)):
                removed += 1
    return removed


__all__ = ["run_add", "run_remove"]
