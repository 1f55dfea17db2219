"""Which profiles have long-term keys in the keystore, in which backend, and under which
access key id: a small file with no secret in it, written by `awsrun add`, `remove` and
`rotate`, so that resolving a profile and `awsrun list` never open a store (or ask for its
passphrase) to find out.

The file is INI, read by awsrun's own reader: one section per profile, its name escaped so
that any profile name round-trips (`[`, `]`, `%`, spaces at either end, control characters
as `%XX`).
"""

from __future__ import annotations

import os

from awsrun.config.ini import IniError, parse_ini
from awsrun.errors import ConfigError
from awsrun.folders import data_dir

TYPE_CHECKING = False  # annotations only
if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

INDEX_NAME = "stored-keys.ini"
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@+=,/")


class StoredEntry:
    """A profile's stored keys, as the index knows them: never the secret."""

    __slots__ = ("access_key_id", "backend")

    def __init__(self, backend: str, access_key_id: str) -> None:
        self.backend = backend
        self.access_key_id = access_key_id

    def __repr__(self) -> str:
        return f"StoredEntry(backend={self.backend!r}, access_key_id={self.access_key_id!r})"


def index_path(environ: Mapping[str, str]) -> str:
    return os.path.join(data_dir(environ), INDEX_NAME)


def read_index(environ: Mapping[str, str]) -> dict[str, StoredEntry]:
    """Profile name to its stored keys' entry; empty when nothing was ever stored."""
    path = index_path(environ)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "it is not UTF-8 text"
        raise ConfigError(f"cannot read the stored-keys index {path}: {reason}") from None
    try:
        sections = parse_ini(text)
    except IniError as error:
        raise ConfigError(
            f"cannot parse the stored-keys index {path}: {error}; `awsrun add` rewrites it"
        ) from None
    entries = {}
    for section, values in sections.items():
        backend, key_id = values.get("backend"), values.get("access_key_id")
        if backend and key_id:
            try:
                entries[_unescaped(section)] = StoredEntry(backend, key_id)
            except ValueError:  # a section awsrun did not write: not a stored profile
                continue
    return entries


def render_index(entries: Mapping[str, StoredEntry]) -> str:
    """The index file's text for `entries`."""
    return "".join(
        f"[{escaped_name(name)}]\nbackend = {entry.backend}\n"
        f"access_key_id = {entry.access_key_id}\n\n"
        for name, entry in sorted(entries.items())
    )


def escaped_name(name: str, plain: Collection[str] = _PLAIN) -> str:
    """`name` with every character outside `plain` as `%` and six hex digits: a fixed width,
    so that no two names share an escaped form."""
    return "".join(char if char in plain else f"%{ord(char):06X}" for char in name)


def _unescaped(section: str) -> str:
    parts = section.split("%")
    return parts[0] + "".join(chr(int(part[:6], 16)) + part[6:] for part in parts[1:])


__all__ = [
    "INDEX_NAME",
    "StoredEntry",
    "escaped_name",
    "index_path",
    "read_index",
    "render_index",
]
