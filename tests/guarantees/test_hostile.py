"""Hostile or odd files: a cache folder or entry that is a symlink, someone else's, or open
to others (refused, as ssh's StrictModes does); config files that are malformed, binary,
huge or deep; profile names with spaces, dots, slashes and unicode."""

from __future__ import annotations

import json
import os
import pwd
import stat
from pathlib import Path

import pytest
from conftest import Home, child_command, role_arn, run_awsrun
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from localsts import LocalSts

from awsrun.config.files import ConfigFiles, load_config_files
from awsrun.config.resolve import resolve_chain
from awsrun.errors import ConfigError

ASSUMED_PROD = "arn:aws:sts::123456789012:assumed-role/Prod/"


def nobody() -> tuple[int, int]:
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def runs_without_cache(home: Home, env: dict[str, str], sts: LocalSts) -> str:
    """Two runs: both work, both call STS (nothing was cached), each warns."""
    first = run_awsrun(["prod", "--", *child_command()], env)
    second = run_awsrun(["prod", "--", *child_command()], env)
    for result in (first, second):
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["arn"].startswith(ASSUMED_PROD)
        assert result.stderr.count("awsrun:") == 1
    assert len(sts.assumed_roles()) == 2
    return first.stderr


def test_a_symlinked_cache_folder_is_refused(home: Home, sts: LocalSts, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    link = home.path / "linked-cache"
    link.symlink_to(target)

    said = runs_without_cache(home, {**home.env, "AWSRUN_CACHE_DIR": str(link)}, sts)

    assert f"{link} is a symlink" in said
    assert list(target.iterdir()) == []


def test_a_cache_folder_of_another_user_is_refused(home: Home, sts: LocalSts) -> None:
    home.cache.mkdir(mode=0o700)
    os.chown(home.cache, *nobody())

    said = runs_without_cache(home, home.env, sts)

    assert "owned by another user" in said
    assert list(home.cache.iterdir()) == []


def test_a_cache_folder_open_to_others_is_refused(home: Home, sts: LocalSts) -> None:
    home.cache.mkdir()
    os.chmod(home.cache, 0o770)

    said = runs_without_cache(home, home.env, sts)

    assert "chmod 700" in said


def test_a_symlinked_entry_is_not_read_through(home: Home, sts: LocalSts, tmp_path: Path) -> None:
    run_awsrun(["prod", "--", "true"], home.env)
    (entry,) = home.cache_entries()
    planted = tmp_path / "planted.ini"
    planted.write_bytes(entry.read_bytes())
    os.chmod(planted, 0o600)
    entry.unlink()
    entry.symlink_to(planted)

    result = run_awsrun(["prod", "--", "true"], home.env)

    assert result.returncode == 0
    assert "ignoring cache entry" in result.stderr
    assert len(sts.assumed_roles()) == 2
    assert not entry.is_symlink()  # replaced by a real, private file
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600


@pytest.mark.parametrize("change", ["mode", "owner"])
def test_an_entry_open_to_others_or_foreign_is_ignored_and_replaced(
    home: Home, sts: LocalSts, change: str
) -> None:
    run_awsrun(["prod", "--", "true"], home.env)
    (entry,) = home.cache_entries()
    if change == "mode":
        os.chmod(entry, 0o644)
    else:
        os.chown(entry, *nobody())

    result = run_awsrun(["prod", "--", "true"], home.env)

    assert result.returncode == 0
    assert "ignoring cache entry" in result.stderr
    assert len(sts.assumed_roles()) == 2
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert entry.stat().st_uid == os.geteuid()


def test_odd_profile_names_work(home: Home, sts: LocalSts) -> None:
    name = "my team/prod.eu ünïcødé"
    home.write_config(
        home.config.read_text()
        + f'\n[profile "{name}"]\nrole_arn = {role_arn("Prod")}\nsource_profile = default\n'
    )
    first = run_awsrun([name, "--", *child_command()], home.env)
    second = run_awsrun(["-v", name, "--", *child_command()], home.env)

    assert json.loads(first.stdout)["arn"].startswith(ASSUMED_PROD), first.stderr
    assert "from the cache" in second.stderr
    assert all("/" not in path.name[:-5] for path in home.cache_entries())


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe[default]\x00\x01",
        "[default]\nregion = caf\u00e9\n".encode("latin-1"),
        b"[default]\nregion = a\n[default]\nregion = b\n",
        b"region = eu-west-1\n",
        b"[profile prod]\nrole_arn = " + b"x" * 1_000_000 + b"\nsource_profile = prod\n",
    ],
)
def test_malformed_config_files_are_one_line_errors(home: Home, content: bytes) -> None:
    home.config.write_bytes(content)
    result = run_awsrun(["prod", "--", "true"], home.env)

    assert result.returncode == 125
    assert result.stderr.startswith("awsrun: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_very_long_chains_and_loops(home: Home, sts: LocalSts) -> None:
    depth = 300
    chain = "".join(
        f"[profile p{n}]\nrole_arn = {role_arn(f'P{n}')}\nsource_profile = "
        f"{'default' if n == 0 else f'p{n - 1}'}\n"
        for n in range(depth)
    )
    loop = "".join(
        f"[profile q{n}]\nrole_arn = {role_arn('Q')}\nsource_profile = q{(n + 1) % depth}\n"
        for n in range(depth)
    )
    home.write_config(f"[default]\nregion = eu-west-1\n{chain}{loop}")

    looped = run_awsrun(["q0", "--", "true"], home.env)
    listed = run_awsrun(["list", "--json"], home.env)

    assert looped.returncode == 125
    assert "source_profile loop" in looped.stderr
    assert listed.returncode == 0
    assert len(json.loads(listed.stdout)) == 2 * depth + 1


_INI_PIECES = st.sampled_from(
    [
        "[default]",
        "[profile a]",
        "[profile b]",
        "[profile a b]",
        "[sso-session s]",
        "[DEFAULT]",
        "role_arn = arn:aws:iam::1:role/R",
        "source_profile = a",
        "source_profile = b",
        "source_profile = default",
        "credential_source = Environment",
        "credential_source = Moon",
        "aws_access_key_id = AKIA",
        "aws_secret_access_key = s",
        "mfa_serial = arn:m",
        "sso_session = s",
        "credential_process = true",
        "duration_seconds = 9x",
        "duration_seconds = 900",
        "web_identity_token_file = /t",
        "  continued",
        "=",
        "[",
        "\x00",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.one_of(_INI_PIECES, st.text(max_size=30)), max_size=25),
    name=st.sampled_from(["default", "a", "b", "a b", "missing"]),
)
def test_any_config_resolves_or_is_a_config_error(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[str], name: str
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "config").write_text("\n".join(pieces), encoding="utf-8", errors="surrogatepass")
    environ = {
        "AWS_CONFIG_FILE": str(folder / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "none"),
    }
    try:
        files: ConfigFiles = load_config_files(environ)
        chain = resolve_chain(name, files)
    except ConfigError as error:
        message = str(error)
    else:
        assert chain.profile == name
        assert chain.identities()  # every resolved chain can name its cache entries
        return
    assert "\n" not in message
