"""The pure parts, without a server: argument parsing, durations, profile resolution,
cache keys and files, freshness with an injected clock, the child's environment."""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from awsrun.cli import parse_args
from awsrun.config.chain import Boto3Profile, Chain, CredentialSource, StaticKeys
from awsrun.config.files import ConfigFiles, load_config_files
from awsrun.config.resolve import resolve_chain
from awsrun.credentials.broker import Broker, Options
from awsrun.credentials.cache import Cache, CachedEntry, cache_dir, entry_key
from awsrun.credentials.keys import Credentials, iso_utc, parse_iso
from awsrun.credentials.sts import RoleRequest, Sts
from awsrun.durations import format_duration, format_durations, parse_duration
from awsrun.errors import ConfigError, UsageError
from awsrun.handoff.childenv import child_environment, credential_variables
from awsrun.handoff.formats import credential_process_document
from awsrun.report import Reporter

KEYS = {"aws_access_key_id": "AKIAROOT", "aws_secret_access_key": "s3cr3t"}


def files(profiles: Mapping[str, Mapping[str, str]]) -> ConfigFiles:
    return ConfigFiles("config", "credentials", profiles, {})


# -- command line ---------------------------------------------------------------------


def test_options_then_profile_then_command() -> None:
    parsed = parse_args(["-v", "--min-ttl=50m", "--region", "us-east-2", "prod", "--", "ls", "-l"])

    assert parsed.profile == "prod"
    assert parsed.command == ["ls", "-l"]
    assert parsed.values == {"min_ttl": "50m", "region": "us-east-2"}
    assert parsed.flags == {"verbose"}


def test_everything_after_the_profile_belongs_to_the_command() -> None:
    assert parse_args(["prod", "terraform", "-v", "--", "x"]).command == [
        "terraform",
        "-v",
        "--",
        "x",
    ]
    assert parse_args(["--", "make", "-j4"]).profile is None
    assert parse_args(["--", "make", "-j4"]).command == ["make", "-j4"]


@pytest.mark.parametrize("args", [["--bogus", "p"], ["--duration"], ["--refresh=yes", "p"]])
def test_bad_command_lines(args: list[str]) -> None:
    with pytest.raises(UsageError):
        parse_args(args)


# -- durations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3600", 3600), ("90m", 5400), ("2h", 7200), ("1h30m", 5400), ("45s", 45), ("1d", 86400)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text, what="--duration") == seconds


@pytest.mark.parametrize("text", ["", "soon", "1x", "h", "-5", "1.5h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError, match="--duration"):
        parse_duration(text, what="--duration")


def test_format_duration() -> None:
    assert [format_duration(s) for s in (3900, 720, 40, -5)] == ["1h05m", "12m", "40s", "0s"]


def test_iso_times_are_utc_with_an_offset() -> None:
    assert iso_utc(0) == "1970-01-01T00:00:00Z"
    assert parse_iso("1970-01-01T01:00:00+01:00") == 0
    assert parse_iso("1970-01-01T00:00:10Z") == 10


# -- profiles -------------------------------------------------------------------------


def test_files_merge_like_the_aws_cli(tmp_path: Path) -> None:
    (tmp_path / "config").write_text(
        "[default]\nregion = eu-west-1\n"
        "[profile prod]\nrole_arn = arn:r\nsource_profile = default\n"
        "region = us-east-1\n[sso-session corp]\nsso_start_url = https://x\n[junk]\na = b\n"
    )
    (tmp_path / "credentials").write_text(
        "[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n"
        "[prod]\nregion = us-west-2\n"
    )
    loaded = load_config_files(
        {
            "AWS_CONFIG_FILE": str(tmp_path / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        }
    )

    assert loaded.profiles["default"] == {
        "region": "eu-west-1",
        "aws_access_key_id": "AKIA1",
        "aws_secret_access_key": "s",
    }
    assert loaded.profiles["prod"]["region"] == "us-west-2"  # the credentials file wins
    assert "junk" not in loaded.profiles
    assert loaded.sso_sessions == {"corp": {"sso_start_url": "https://x"}}


def test_duplicate_sections_are_a_config_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "config").write_text("[default]\na = 1\n[default]\nb = 2\n")
    with pytest.raises(ConfigError, match=r"config: section .default. appears twice at line 3"):
        load_config_files(
            {
                "AWS_CONFIG_FILE": str(tmp_path / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            }
        )


def test_chain_of_roles_down_to_static_keys() -> None:
    chain = resolve_chain(
        "c",
        files(
            {
                "c": {"role_arn": "arn:c", "source_profile": "b", "region": "eu-west-1"},
                "b": {"role_arn": "arn:b", "source_profile": "a", "external_id": "x"},
                "a": {**KEYS, "mfa_serial": "arn:mfa"},
            }
        ),
    )

    assert [hop.role_arn for hop in chain.hops] == ["arn:b", "arn:c"]
    assert isinstance(chain.root, StaticKeys)
    assert chain.root.profile == "a"
    assert chain.hops[0].external_id == "x"
    assert chain.mfa_serial == "arn:mfa"
    assert chain.region == "eu-west-1"


def test_named_role_wins_over_its_static_keys_but_a_source_keeps_its_keys() -> None:
    profiles = {
        "top": {"role_arn": "arn:top", "source_profile": "src", **KEYS},
        "src": {"role_arn": "arn:ignored", "source_profile": "top", **KEYS},
    }
    chain = resolve_chain("top", files(profiles))

    assert [hop.role_arn for hop in chain.hops] == ["arn:top"]
    assert isinstance(chain.root, StaticKeys)
    assert chain.root.profile == "src"


def test_a_role_may_source_its_own_keys() -> None:
    chain = resolve_chain(
        "self", files({"self": {"role_arn": "arn:s", "source_profile": "self", **KEYS}})
    )

    assert isinstance(chain.root, StaticKeys)
    assert len(chain.hops) == 1


def test_credential_source_and_boto3_profiles() -> None:
    chain = resolve_chain(
        "ec2", files({"ec2": {"role_arn": "arn:e", "credential_source": "Ec2InstanceMetadata"}})
    )
    sso = resolve_chain("sso", files({"sso": {"sso_session": "corp", "sso_account_id": "1"}}))
    web = resolve_chain(
        "web", files({"web": {"role_arn": "arn:w", "web_identity_token_file": "/t"}})
    )

    assert isinstance(chain.root, CredentialSource)
    assert (chain.root.profile, chain.root.source) == ("ec2", "Ec2InstanceMetadata")
    assert isinstance(sso.root, Boto3Profile)
    assert sso.root.kind == "sso"
    assert isinstance(web.root, Boto3Profile)
    assert web.root.kind == "web-identity"
    assert web.hops == ()


@pytest.mark.parametrize(
    ("profiles", "message"),
    [
        (
            {
                "a": {"role_arn": "arn:a", "source_profile": "b"},
                "b": {"role_arn": "arn:b", "source_profile": "a"},
            },
            "a -> b -> a",
        ),
        ({"a": {"role_arn": "arn:a"}}, "no source_profile or credential_source"),
        ({"a": {"role_arn": "arn:a", "source_profile": "gone"}}, "'gone'"),
        (
            {
                "a": {
                    "role_arn": "arn:a",
                    "source_profile": "b",
                    "credential_source": "Environment",
                },
                "b": KEYS,
            },
            "both",
        ),
        ({"a": {"role_arn": "arn:a", "credential_source": "Moon"}}, "Moon"),
        ({"a": {"region": "eu-west-1"}}, "no credentials"),
        ({"a": {"aws_access_key_id": "AKIA"}}, "aws_secret_access_key"),
        ({"a": {"role_arn": "arn:a", "source_profile": "a"}}, "names itself"),
    ],
)
def test_broken_profiles_are_config_errors(
    profiles: dict[str, dict[str, str]], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as raised:
        resolve_chain("a", files(profiles))
    assert "s3cr3t" not in str(raised.value)


def test_unknown_profile_suggests_close_names() -> None:
    with pytest.raises(ConfigError, match="did you mean prod"):
        resolve_chain("prdo", files({"prod": KEYS, "dev": KEYS}))


# -- cache keys -----------------------------------------------------------------------


def keys_of(profiles: Mapping[str, Mapping[str, str]]) -> list[str]:
    identities = resolve_chain("top", files(profiles)).identities()
    return [entry_key(identity) for identity in identities if identity is not None]


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


# -- cache files ----------------------------------------------------------------------


def entry(expires_at: float, obtained_at: float = 1000.0) -> CachedEntry:
    return CachedEntry(Credentials("ASIA1", "secret", "token", expires_at), obtained_at, "p")


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


# -- freshness, with a clock and a fake STS --------------------------------------------


class CountingSts(Sts):
    def __init__(self, clock: list[float]) -> None:
        super().__init__("top")
        self.clock = clock
        self.calls: list[RoleRequest] = []

    def assume_role(self, signer: Credentials, request: RoleRequest, **_: Any) -> Credentials:
        self.calls.append(request)
        return Credentials(f"ASIA{len(self.calls)}", "s", "t", self.clock[0] + 3600)


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


# -- the child's environment ----------------------------------------------------------


def test_child_environment_replaces_the_callers_credentials() -> None:
    parent = {
        "PATH": "/bin",
        "AWS_PROFILE": "x",
        "AWS_SECURITY_TOKEN": "old",
        "AWS_SESSION_TOKEN": "old",
        "AWS_REGION": "us-east-1",
    }
    static = credential_variables(Credentials("AKIA", "s"), region=None, profile="p")
    child = child_environment(parent, static)

    assert child == {
        "PATH": "/bin",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIA",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWSRUN_PROFILE": "p",
    }
    temporary = credential_variables(
        Credentials("ASIA", "s", "t", 0), region="eu-west-1", profile="p"
    )
    assert (
        child_environment(parent, temporary)["AWS_CREDENTIAL_EXPIRATION"] == "1970-01-01T00:00:00Z"
    )
    assert child_environment(parent, temporary)["AWS_DEFAULT_REGION"] == "eu-west-1"


def test_secrets_stay_out_of_reprs() -> None:
    text = (
        repr(Credentials("AKIA", "s3cr3tvalue", "t0kenvalue", 0))
        + repr(StaticKeys("p", "AKIA", "s3cr3tvalue", "t0kenvalue", None, None))
        + repr(Options(mfa_code="123456"))
    )
    assert "s3cr3tvalue" not in text
    assert "t0kenvalue" not in text
    assert "123456" not in text


# -- what the cache-hit path spells out instead of importing ----------------------------


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


def test_default_session_name_is_the_user_in_the_characters_sts_allows() -> None:
    from awsrun.config.chain import default_session_name

    assert default_session_name({"LOGNAME": "ann", "USER": "bob"}) == "awsrun-ann"
    assert default_session_name({"USER": "josé smith/x"}) == "awsrun-jos--smith-x"
    assert len(default_session_name({"USER": "u" * 100})) == 64


def test_two_durations_that_would_read_alike_keep_their_seconds() -> None:
    assert format_durations(845, 895) == ("14m05s", "14m55s")
    assert format_durations(845, 900) == ("14m", "15m")
    assert format_durations(3605, 3659) == ("1h00m05s", "1h00m59s")


def test_the_credential_process_document_is_json_for_any_value() -> None:
    odd = 'quote " backslash \\ tab \t é ✓'
    document = credential_process_document("AKIA", odd, odd, "2026-11-29T14:05:00Z")

    assert json.loads(document) == {
        "Version": 1,
        "AccessKeyId": "AKIA",
        "SecretAccessKey": odd,
        "SessionToken": odd,
        "Expiration": "2026-11-29T14:05:00Z",
    }


def test_federation_hosts_follow_the_partition_and_destinations_stay_in_it() -> None:
    from awsrun.credentials.federation import (
        console_destination,
        federation_endpoint,
        partition_of_arn,
        partition_of_region,
    )
    from awsrun.errors import StsError, UsageError

    assert [federation_endpoint(name, {}) for name in ("aws", "aws-cn", "aws-us-gov")] == [
        "https://signin.aws.amazon.com/federation",
        "https://signin.amazonaws.cn/federation",
        "https://signin.amazonaws-us-gov.com/federation",
    ]
    with pytest.raises(StsError, match="AWSRUN_FEDERATION_ENDPOINT"):
        federation_endpoint("aws-iso", {})
    with pytest.raises(UsageError, match="give its URL with --destination"):
        console_destination("aws-iso", "us-iso-east-1", None, None)
    elsewhere = "https://console.example.gov/home"
    assert console_destination("aws-iso", None, None, elsewhere) == elsewhere
    with pytest.raises(UsageError, match="https://"):
        federation_endpoint("aws", {"AWSRUN_FEDERATION_ENDPOINT": "file:///etc/passwd"})
    assert partition_of_arn("arn:aws-us-gov:iam::123456789012:role/Ops") == "aws-us-gov"
    assert partition_of_arn("not-an-arn") is None
    assert [partition_of_region(name) for name in ("cn-north-1", "eu-west-1", None)] == [
        "aws-cn",
        "aws",
        "aws",
    ]
    assert (
        console_destination("aws-cn", None, "ec2", None) == "https://console.amazonaws.cn/ec2/home"
    )
    inside = "https://eu-west-1.console.aws.amazon.com/s3/buckets?region=eu-west-1"
    assert console_destination("aws", "eu-west-1", None, inside) == inside
    for outside in (
        "https://console.aws.amazon.com.example.com/",
        "http://console.aws.amazon.com/",
        "https://console.amazonaws.cn/",
    ):
        with pytest.raises(UsageError, match="--destination"):
            console_destination("aws", None, None, outside)
