"""Long-term keys kept out of plaintext: the stores awsrun puts them in (`awsrun add`) and
reads them from when a step must be signed, never on a cache hit.

`AWSRUN_KEYRING` picks the store: `auto` (the platform's own, through the `keyring`
library: the macOS Keychain, the Windows Credential Locker, the Secret Service on Linux),
one of those by name, `pass` (the standard Unix password manager, GnuPG underneath), or
`file` (one file encrypted with a passphrase, in the age format, which the `age` command
opens too). Where `auto` finds no usable store, it says so and names the others; it never
falls back to plaintext. The index of which profile is in which store is
awsrun.config.keyindex; this module keeps it in step with the stores.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Callable, Mapping
from typing import TypeVar

from awsrun.config.keyindex import (
    StoredEntry,
    escaped_name,
    index_path,
    read_index,
    render_index,
)
from awsrun.errors import ConfigError
from awsrun.folders import data_dir
from awsrun.privatefiles import make_private_folders, write_private

TYPE_CHECKING = False  # annotations only
if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

Result = TypeVar("Result")
KEYRING_VARIABLE = "AWSRUN_KEYRING"
BACKENDS = ("auto", "secret-service", "keychain", "windows", "pass", "file")
# The keyring library's backend for each store awsrun names.
_KEYRING_BACKENDS = {
    "secret-service": "keyring.backends.SecretService.Keyring",
    "keychain": "keyring.backends.macOS.Keyring",
    "windows": "keyring.backends.Windows.WinVaultKeyring",
}
_SERVICE = "awsrun"
_FILE_FORMAT_VERSION = 1
# pass entry names are paths: anything else is escaped, so `../x` stays one entry.
_PASS_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_@+=,")


class StoredKeyPair:
    """An access key id and its secret, out of a store; the secret never in repr()."""

    __slots__ = ("access_key_id", "secret_access_key")

    def __init__(self, access_key_id: str, secret_access_key: str) -> None:
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key

    def __repr__(self) -> str:
        return f"StoredKeyPair(access_key_id={self.access_key_id!r})"


class Keystore:
    """One store. `name` is what the index records, and what `awsrun list` shows."""

    name = ""

    def store(self, profile: str, keys: StoredKeyPair) -> None:
        raise NotImplementedError

    def load(self, profile: str) -> StoredKeyPair:
        raise NotImplementedError

    def delete(self, profile: str) -> None:
        raise NotImplementedError


class FileKeystore(Keystore):
    """One age file (scrypt recipient: a passphrase), holding a JSON document:
    {"version": 1, "keys": {PROFILE: {"aws_access_key_id": ..., "aws_secret_access_key": ...}}}.
    `age -d FILE` shows it; nothing of it is ever written in the clear."""

    name = "file"

    def __init__(self, environ: Mapping[str, str]) -> None:
        configured = environ.get("AWSRUN_KEYRING_FILE")
        self.path = (
            os.path.abspath(os.path.expanduser(configured))
            if configured
            else os.path.join(data_dir(environ), "keys.age")
        )
        self._environ = environ
        self._passphrase: str | None = None

    def store(self, profile: str, keys: StoredKeyPair) -> None:
        document = self._read()
        document[profile] = {
            "aws_access_key_id": keys.access_key_id,
            "aws_secret_access_key": keys.secret_access_key,
        }
        self._write(document)

    def load(self, profile: str) -> StoredKeyPair:
        entry = self._read().get(profile)
        if entry is None:
            raise ConfigError(
                f"{self.path} holds no keys for profile {profile!r}: run `awsrun add {profile}`"
            )
        return StoredKeyPair(entry["aws_access_key_id"], entry["aws_secret_access_key"])

    def delete(self, profile: str) -> None:
        document = self._read()
        if document.pop(profile, None) is not None:
            self._write(document)

    def _passphrase_of(self) -> str:
        if self._passphrase is None:
            given = self._environ.get("AWSRUN_FILE_PASSPHRASE")
            self._passphrase = given if given else _ask(f"passphrase of {self.path}: ")
        return self._passphrase

    def _read(self) -> dict[str, dict[str, str]]:
        from pyrage import DecryptError, passphrase

        try:
            with open(self.path, "rb") as handle:
                encrypted = handle.read()
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise ConfigError(f"cannot read {self.path}: {error.strerror}") from None
        try:
            plain = passphrase.decrypt(encrypted, self._passphrase_of())
        except DecryptError:
            raise ConfigError(
                f"the passphrase does not open {self.path} (AWSRUN_FILE_PASSPHRASE or the "
                "one typed): nothing was changed"
            ) from None
        document = json.loads(plain)
        if document.get("version") != _FILE_FORMAT_VERSION:
            raise ConfigError(f"{self.path} is of a newer awsrun: upgrade awsrun to read it")
        keys: dict[str, dict[str, str]] = document["keys"]
        return keys

    def _write(self, keys: Mapping[str, Mapping[str, str]]) -> None:
        from pyrage import passphrase

        plain = json.dumps({"version": _FILE_FORMAT_VERSION, "keys": keys}).encode("utf-8")
        make_private_folders(os.path.dirname(self.path))
        try:
            write_private(self.path, passphrase.encrypt(plain, self._passphrase_of()))
        except OSError as error:
            raise ConfigError(f"cannot write {self.path}: {error.strerror}") from None


class PassKeystore(Keystore):
    """`pass`: one entry per profile under `awsrun/` (AWSRUN_PASS_PREFIX), its first line
    the secret and a line `aws_access_key_id: ...`, as pass's own convention has it. The
    secret goes to pass on stdin, never in its arguments or environment."""

    name = "pass"

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._prefix = environ.get("AWSRUN_PASS_PREFIX", "awsrun").strip("/") or "awsrun"
        self._environ = environ

    def store(self, profile: str, keys: StoredKeyPair) -> None:
        text = f"{keys.secret_access_key}\naws_access_key_id: {keys.access_key_id}\n"
        self._pass(["insert", "--multiline", "--force", self._entry(profile)], text)

    def load(self, profile: str) -> StoredKeyPair:
        lines = self._pass(["show", self._entry(profile)], None).splitlines()
        key_ids = [line.split(":", 1)[1].strip() for line in lines[1:] if ":" in line]
        if not lines or not key_ids:
            raise ConfigError(
                f"pass entry {self._entry(profile)} is not one awsrun wrote: "
                f"run `awsrun add {profile}` again"
            )
        return StoredKeyPair(key_ids[0], lines[0])

    def delete(self, profile: str) -> None:
        self._pass(["rm", "--force", self._entry(profile)], None)

    def _entry(self, profile: str) -> str:
        return f"{self._prefix}/{escaped_name(profile, _PASS_PLAIN)}"

    def _pass(self, args: list[str], stdin: str | None) -> str:
        from awsrun.internal import helper_environment

        environment = {
            name: value
            for name, value in helper_environment().items()
            if not name.startswith(("AWS_", "AMAZON_"))
        }
        for name in ("PASSWORD_STORE_DIR", "GNUPGHOME"):
            if name in self._environ:
                environment[name] = self._environ[name]
        try:
            finished = subprocess.run(
                ["pass", *args],  # noqa: S607 - found on PATH, as the user runs it
                input=stdin,
                env=environment,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except FileNotFoundError:
            raise ConfigError(
                "AWSRUN_KEYRING=pass, but `pass` is not installed: install it (and set up a "
                "store with `pass init`), or choose another store (file, auto)"
            ) from None
        except subprocess.TimeoutExpired:
            raise ConfigError(f"`pass {args[0]}` did not finish within 2 minutes") from None
        if finished.returncode != 0:
            # pass's own message names the entry or the GnuPG problem, never the secret.
            said = (finished.stderr.strip().splitlines() or ["no message"])[-1]
            raise ConfigError(f"`pass {args[0]}` failed: {said}")
        return finished.stdout


class KeyringKeystore(Keystore):
    """The platform's store through the `keyring` library: service `awsrun`, one item per
    profile holding a small JSON document."""

    def __init__(self, name: str, backend: KeyringBackend) -> None:
        self.name = name
        self._backend = backend

    def store(self, profile: str, keys: StoredKeyPair) -> None:
        document = json.dumps(
            {
                "aws_access_key_id": keys.access_key_id,
                "aws_secret_access_key": keys.secret_access_key,
            }
        )
        self._call(lambda: self._backend.set_password(_SERVICE, profile, document))

    def load(self, profile: str) -> StoredKeyPair:
        text = self._call(lambda: self._backend.get_password(_SERVICE, profile))
        if not text:
            raise ConfigError(
                f"the {self.name} store holds no keys for profile {profile!r}: "
                f"run `awsrun add {profile}`"
            )
        document = json.loads(text)
        return StoredKeyPair(document["aws_access_key_id"], document["aws_secret_access_key"])

    def delete(self, profile: str) -> None:
        from keyring.errors import PasswordDeleteError

        with contextlib.suppress(PasswordDeleteError):  # not there: nothing to delete
            self._call(lambda: self._backend.delete_password(_SERVICE, profile))

    def _call(self, work: Callable[[], Result]) -> Result:
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            return work()
        except PasswordDeleteError:
            raise
        except KeyringError as error:
            raise ConfigError(
                f"the {self.name} store refused: {type(error).__name__}; is it unlocked?"
            ) from None


def open_keystore(environ: Mapping[str, str], name: str | None = None) -> Keystore:
    """The store `name` names (an index entry's), else AWSRUN_KEYRING's, else `auto`."""
    chosen = name or environ.get(KEYRING_VARIABLE) or "auto"
    if chosen == "file":
        return FileKeystore(environ)
    if chosen == "pass":
        return PassKeystore(environ)
    if chosen == "auto" or chosen in _KEYRING_BACKENDS:
        return _keyring_store(chosen)
    raise ConfigError(f"{KEYRING_VARIABLE}={chosen!r}: use one of {', '.join(BACKENDS)}")


def _keyring_store(chosen: str) -> Keystore:
    import keyring
    from keyring.backend import get_all_keyring

    viable = {
        f"{type(backend).__module__}.{type(backend).__name__}": backend
        for backend in get_all_keyring()
    }
    wanted = [_KEYRING_BACKENDS[chosen]] if chosen != "auto" else list(_KEYRING_BACKENDS.values())
    if chosen == "auto":
        default = keyring.get_keyring()
        qualified = f"{type(default).__module__}.{type(default).__name__}"
        if qualified in wanted:
            wanted = [qualified]
    for qualified in wanted:
        backend = viable.get(qualified)
        if backend is not None:
            name = next(key for key, value in _KEYRING_BACKENDS.items() if value == qualified)
            return KeyringKeystore(name, backend)
    what = "no platform store" if chosen == "auto" else f"no usable {chosen} store"
    raise ConfigError(
        f"{what} here (no D-Bus session with a Secret Service, or not this platform): "
        f"set {KEYRING_VARIABLE}=pass (GnuPG's password manager) or "
        f"{KEYRING_VARIABLE}=file (an encrypted file)"
    )


def _ask(prompt: str) -> str:
    """A secret typed on the terminal, not echoed; one line where there is no terminal."""
    import getpass

    try:
        with open("/dev/tty", "r+", encoding="utf-8"):
            pass
    except OSError:
        raise ConfigError(
            f"{prompt.rstrip(': ')} is needed and there is no terminal to ask it on: "
            "set AWSRUN_FILE_PASSPHRASE"
        ) from None
    from awsrun.credentials.locks import asking_the_user

    with asking_the_user("passphrase"):
        answer = getpass.getpass(prompt)
    if not answer:
        raise ConfigError("nothing was typed: nothing was changed")
    return answer


def record(environ: Mapping[str, str], profile: str, entry: StoredEntry | None) -> None:
    """Set (or with None, remove) `profile`'s line in the stored-keys index."""
    entries = read_index(environ)
    if entry is None:
        entries.pop(profile, None)
    else:
        entries[profile] = entry
    path = index_path(environ)
    make_private_folders(os.path.dirname(path))
    try:
        write_private(path, render_index(entries).encode("utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot write {path}: {error.strerror}") from None


__all__ = [
    "BACKENDS",
    "KEYRING_VARIABLE",
    "FileKeystore",
    "KeyringKeystore",
    "Keystore",
    "PassKeystore",
    "StoredKeyPair",
    "open_keystore",
    "record",
]
