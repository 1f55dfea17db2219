"""awsrun.credentials.cache and the broker's freshness rule: what decides an entry's key,
entries as files (round trip, INI as configparser reads it, a torn or odd file is a miss),
the folder's privacy, and the margin with an injected clock. No server."""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from awsrun.config.chain import Chain
from awsrun.config.files import ConfigFiles
from awsrun.config.resolve import resolve_chain
from awsrun.credentials.broker import Broker
from awsrun.credentials.cache import Cache, CachedEntry, entry_key
from awsrun.credentials.keys import Credentials, iso_utc
from awsrun.credentials.options import Options
from awsrun.credentials.sts import RoleRequest, Sts
from awsrun.folders import cache_dir
from awsrun.report import Reporter

KEYS = {"aws_access_key_id": "AKIAROOT", "aws_secret_access_key": "s3cr3t"}


def files(profiles: Mapping[str, Mapping[str, str]]) -> ConfigFiles:
    return ConfigFiles("config", "credentials", profiles, {})


def keys_of(profiles: Mapping[str, Mapping[str, str]]) -> list[str]:
    identities = resolve_chain("top", files(profiles)).identities()
    return [entry_key(identity) for identity in identities if identity is not None]


def entry(expires_at: float, obtained_at: float = 1000.0) -> CachedEntry:
    return CachedEntry(Credentials("ASIA1", "secret", "token", expires_at), obtained_at, "p")


WHOLE_ENTRY = f"""[awsrun-entry]
version = 3
key = k
obtained_at = 1000
expires_at = 5000
expiration = {iso_utc(5000)}
aws_access_key_id = ASIA1
aws_secret_access_key = secret
aws_session_token = token
end = k
"""


class CountingSts(Sts):
    def __init__(self, clock: list[float]) -> None:
        super().__init__("top")
        self.clock = clock
        self.calls: list[RoleRequest] = []

    def assume_role(self, signer: Credentials, request: RoleRequest, **_: Any) -> Credentials:
        self.calls.append(request)
        return Credentials(f"ASIA{len(self.calls)}", "s", "t", self.clock[0] + 3600)


def test_cache_key_follows_everything_that_decides_the_credentials() -> None:
    base = {"top": {"role_arn": "arn:r", "source_profile": "src"}, "src": dict(KEYS)}
    same = keys_of(base)

    assert keys_of(base) == same
    assert keys_of({**base, "top": {**base["top"], "region": "eu-west-1"}}) == same
    for changed in (
        {**base, "top": {**base["top"], "role_arn": "arn:other"}},
        {**base, "top": {**base["top"], "external_id": "x"}},
        {**base, "top": {**base["top"], "role_session_name": "me"}},
        {**base, "src": {**KEYS, "aws_access_key_id": "AKIAOTHER"}},
        {**base, "src": {**KEYS, "mfa_serial": "arn:mfa"}},
    ):
        assert keys_of(changed)[-1] != same[-1]
    # The secret never enters a key: rotating it alone keeps the session.
    assert keys_of({**base, "src": {**KEYS, "aws_secret_access_key": "new"}}) == same


def test_cache_round_trip_and_refusals(tmp_path: Path) -> None:
    cache = Cache(str(tmp_path / "c"), Reporter())
    cache.write("k", entry(5000.0))

    assert cache.read("k", now=2000.0) == entry(5000.0)
    # A copy under another entry's name is not that entry.
    (tmp_path / "c" / "other.ini").write_bytes((tmp_path / "c" / "k.ini").read_bytes())
    os.chmod(tmp_path / "c" / "other.ini", 0o600)
    assert cache.read("other", now=2000.0) is None
    # An expiry more than 36 h away is not something STS issues.
    cache.write("far", entry(2000.0 + 37 * 3600))
    assert cache.read("far", now=2000.0) is None


def test_an_entry_is_ini_as_configparser_reads_it(tmp_path: Path) -> None:
    import configparser

    cache = Cache(str(tmp_path / "c"), Reporter())
    cache.write("k", CachedEntry(Credentials("ASIA1", "se/cr+et=", None, 5000.0), 1000.0, "p q"))
    parser = configparser.RawConfigParser()
    parser.read(tmp_path / "c" / "k.ini")

    assert dict(parser.items("awsrun-entry")) == {
        "version": "3",
        "key": "k",
        "profile": "p q",
        "obtained_at": "1000",
        "expires_at": "5000",
        "expiration": iso_utc(5000),
        "aws_access_key_id": "ASIA1",
        "aws_secret_access_key": "se/cr+et=",
        "end": "k",
    }
    assert cache.read("k", now=2000.0) == CachedEntry(
        Credentials("ASIA1", "se/cr+et=", None, 5000), 1000, "p q"
    )


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"[awsrun-entry",
        b"\xff\xfe",
        b"{}",
        WHOLE_ENTRY.replace("version = 3", "version = 2").encode(),
        WHOLE_ENTRY.replace("end = k\n", "").encode(),
        WHOLE_ENTRY.replace("end = k\n", "end = j\n").encode(),
        WHOLE_ENTRY.replace("key = k", "key = j").encode(),
        WHOLE_ENTRY.replace("expires_at = 5000", "expires_at = 5001").encode(),
        WHOLE_ENTRY.replace("expires_at = 5000", "expires_at = 5e3").encode(),
        WHOLE_ENTRY.replace("aws_secret_access_key = secret", "").encode(),
        WHOLE_ENTRY.replace("[awsrun-entry]", "[default]").encode(),
        (WHOLE_ENTRY + "aws_access_key_id = ASIA2\n").encode(),
        WHOLE_ENTRY[: len(WHOLE_ENTRY) // 2].encode(),
    ],
)
def test_unreadable_entries_are_misses(tmp_path: Path, content: bytes) -> None:
    cache = Cache(str(tmp_path), Reporter())
    os.chmod(tmp_path, 0o700)
    path = tmp_path / "k.ini"
    path.write_bytes(content)
    os.chmod(path, 0o600)

    assert cache.read("k", now=0.0) is None


def test_the_whole_entry_those_misses_are_cut_from_is_a_hit(tmp_path: Path) -> None:
    cache = Cache(str(tmp_path), Reporter())
    os.chmod(tmp_path, 0o700)
    (tmp_path / "k.ini").write_text(WHOLE_ENTRY)
    os.chmod(tmp_path / "k.ini", 0o600)

    assert cache.read("k", now=0.0) == CachedEntry(
        Credentials("ASIA1", "secret", "token", 5000), 1000, ""
    )


def test_an_entry_cut_short_at_any_byte_is_a_miss(tmp_path: Path) -> None:
    """A full disk or a crash mid-copy leaves a prefix: none of them may pass as an entry
    (a token cut in the middle would reach the command)."""
    cache = Cache(str(tmp_path), Reporter())
    cache.write("k", entry(5000.0))
    whole = (tmp_path / "k.ini").read_bytes()
    # Every cut but the one that drops only the final line break, which loses nothing.
    for length in range(len(whole) - 1):
        (tmp_path / "k.ini").write_bytes(whole[:length])
        assert cache.read("k", now=2000.0) is None, whole[:length]
    (tmp_path / "k.ini").write_bytes(whole[:-1])
    assert cache.read("k", now=2000.0) == entry(5000.0)


def test_a_folder_open_to_others_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    cache = Cache(str(folder), Reporter())
    cache.write("k", entry(5000.0))

    assert not (folder / "k.ini").exists()
    assert "chmod 700" in capsys.readouterr().err


def test_entries_are_used_until_the_margin_then_refreshed(tmp_path: Path) -> None:
    clock = [1_000_000.0]
    sts = CountingSts(clock)
    chain: Chain = resolve_chain(
        "top", files({"top": {"role_arn": "arn:r", "source_profile": "src"}, "src": KEYS})
    )

    def run(options: Options | None = None) -> Credentials:
        cache = Cache(str(tmp_path / "cache"), Reporter())
        broker = Broker(
            chain,
            options or Options(),
            cache=cache,
            reporter=Reporter(),
            environ={},
            now=lambda: clock[0],
            sts=sts,
        )
        return broker.credentials()

    first = run()
    clock[0] += 3600 - 15 * 60 - 1  # one second more than the 15-minute margin left
    assert run() == first
    clock[0] += 2
    second = run()
    assert second != first
    clock[0] += 60
    assert run(Options(min_ttl=59 * 60 + 1)) != second
    assert len(sts.calls) == 3


@pytest.mark.parametrize("xdg", [None, "", "  ", "/elsewhere/cache"])
def test_cache_dir_is_platformdirs_own(monkeypatch: pytest.MonkeyPatch, xdg: str | None) -> None:
    import platformdirs

    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    environ = {name: value for name, value in os.environ.items() if name != "AWSRUN_CACHE_DIR"}

    assert cache_dir(environ) == platformdirs.user_cache_dir("awsrun", appauthor=False)


def test_cache_dir_setting_wins() -> None:
    assert cache_dir({"AWSRUN_CACHE_DIR": "/somewhere/awsrun"}) == "/somewhere/awsrun"


def test_entry_key_depends_on_the_identitys_values_only() -> None:
    # Equal identities built from different string objects, interned or not, share a key.
    prefix = "arn:"
    identity = (("kind", "role"), ("role_arn", prefix + "r"), ("source", (("kind", "static"),)))
    same = (("kind", "role"), ("role_arn", sys.intern("arn:r")), ("source", (("kind", "static"),)))
    other = (("kind", "role"), ("role_arn", "arn:s"), ("source", (("kind", "static"),)))
    empty = (("kind", "role"), ("role_arn", ""), ("source", (("kind", "static"),)))
    missing = (("kind", "role"), ("role_arn", None), ("source", (("kind", "static"),)))

    assert identity[1][1] is not same[1][1]
    assert entry_key(identity) == entry_key(same)
    assert len({entry_key(each) for each in (identity, other, empty, missing)}) == 4
    # CPython's built-in SHA-256 gives what hashlib's does.
    assert entry_key(identity) == hashlib.sha256(marshal.dumps(identity, 0)).hexdigest()
