"""Where a chain's first credentials come from when a step above them must be fetched: keys
stored with `awsrun add` (read from their store only then), keys in a file (refused when
the store holds keys for the same profile), keys in awsrun's environment. Never on a
cache hit: the broker imports this module only to fetch."""

from __future__ import annotations

from awsrun.credentials.keys import Credentials
from awsrun.errors import ConfigError

TYPE_CHECKING = False  # annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping

    from awsrun.config.chain import CredentialSource, StaticKeys, StoredKeys
    from awsrun.config.files import ConfigFiles


def stored_keys(root: StoredKeys, environ: Mapping[str, str]) -> Credentials:
    from awsrun.credentials.keystore import open_keystore

    keys = open_keystore(environ, root.backend).load(root.profile)
    if keys.access_key_id != root.access_key_id:
        raise ConfigError(
            f"the {root.backend} store holds key {keys.access_key_id} for profile "
            f"{root.profile!r}, its index {root.access_key_id}: run `awsrun add "
            f"{root.profile}` again"
        )
    return Credentials(keys.access_key_id, keys.secret_access_key)


def refuse_keys_in_two_places(root: StaticKeys, files: ConfigFiles) -> None:
    """Keys in a file and in the keystore for one profile (`aws configure` wrote them
    again after `awsrun add`): which one is meant is not for awsrun to guess."""
    stored = files.stored_keys().get(root.profile)
    if stored is not None:
        raise ConfigError(
            f"profile {root.profile!r} has keys in {files.describe()} and in "
            f"awsrun's {stored.backend} store: remove one (the file's lines, or "
            f"`awsrun remove {root.profile}`)"
        )


def environment_keys(root: CredentialSource, environ: Mapping[str, str]) -> Credentials:
    access_key_id = environ.get("AWS_ACCESS_KEY_ID")
    secret = environ.get("AWS_SECRET_ACCESS_KEY")
    if not access_key_id or not secret:
        raise ConfigError(
            f"profile {root.profile!r} has credential_source = Environment, but "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set"
        )
    # botocore takes the older AWS_SECURITY_TOKEN first.
    token = environ.get("AWS_SECURITY_TOKEN") or environ.get("AWS_SESSION_TOKEN")
    return Credentials(access_key_id, secret, token or None)


__all__ = ["environment_keys", "refuse_keys_in_two_places", "stored_keys"]
