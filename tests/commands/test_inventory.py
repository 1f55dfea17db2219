"""`awsrun list`, `awsrun clear`, `awsrun completion` and each command's help."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Home, awsrun_executable, entry_fields, role_arn, run_awsrun
from localsts import LocalSts

from awsrun.cli import COMMAND_WORDS
from awsrun.credentials.cache import ENTRY_VERSION

EVERY_KIND = f"""
[profile mfa-keys]
aws_access_key_id = AKIAAWSRUNTESTMFA001
aws_secret_access_key = mfaSECRET
mfa_serial = arn:aws:iam::123456789012:mfa/alice

[sso-session corp]
sso_start_url = https://corp.awsapps.example/start
sso_region = eu-west-1

[profile sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Admin

[profile proc]
credential_process = /bin/false

[profile web]
role_arn = {role_arn("Web")}
web_identity_token_file = /nonexistent/token

[profile broken]
role_arn = {role_arn("Broken")}
"""


def listing(home: Home) -> dict[str, dict[str, object]]:
    result = run_awsrun(["list", "--json"], home.env)
    assert result.returncode == 0, result.stderr
    return {row["profile"]: row for row in json.loads(result.stdout)}


def test_list_shows_every_kind_and_what_is_cached(home: Home, sts: LocalSts) -> None:
    home.write_config(home.config.read_text() + EVERY_KIND)
    assert run_awsrun(["second", "--", "true"], home.env).returncode == 0

    rows = listing(home)

    assert {name: row["kind"] for name, row in rows.items()} == {
        "default": "static",
        "prod": "role",
        "dev": "role",
        "second": "role",
        "mfa-keys": "static+mfa",
        "sso": "sso",
        "proc": "process",
        "web": "web-identity",
        "broken": "invalid",
    }
    assert rows["second"]["source"] == "prod"
    assert rows["prod"]["source"] == "default"
    assert rows["prod"]["region"] == "eu-central-1"
    # `second` and its source `prod` were fetched; `dev` never was.
    assert rows["second"]["cached"] is True
    assert rows["prod"]["cached"] is True
    assert rows["dev"]["cached"] is False
    assert 3000 < int(str(rows["second"]["seconds_left"])) <= 3600
    assert "source_profile" in str(rows["broken"]["error"])
    assert len(sts.assumed_roles()) == 2  # list itself called nothing


def test_list_table_and_names(home: Home, sts: LocalSts) -> None:
    run_awsrun(["prod", "--", "true"], home.env)
    table = run_awsrun(["list"], home.env).stdout.splitlines()
    names = run_awsrun(["list", "--names"], home.env).stdout.split()

    assert table[0].split() == ["PROFILE", "KIND", "FROM", "REGION", "CACHED"]
    prod = next(line for line in table if line.startswith("prod "))
    assert prod.split()[:4] == ["prod", "role", "default", "eu-central-1"]
    assert prod.endswith("left")
    assert names == ["default", "dev", "prod", "second"]


def test_list_imports_neither_boto3_nor_json(home: Home, sts: LocalSts) -> None:
    run_awsrun(["prod", "--", "true"], home.env)
    listed = run_awsrun(["list"], {**home.env, "PYTHONPROFILEIMPORTTIME": "1"})

    imported = {line.split("|")[-1].strip() for line in listed.stderr.splitlines() if "|" in line}
    assert "awsrun.commands.inventory" in imported
    assert not {name for name in imported if name.split(".")[0] in {"boto3", "botocore"}}
    # The entry's expiry came from its mtime: reading it would have imported json.
    assert "json" not in imported
    assert any(
        line.startswith("prod ") and line.endswith(" left") for line in listed.stdout.splitlines()
    )


def test_awsruns_write_sets_the_entrys_mtime_to_its_expiry(home: Home, sts: LocalSts) -> None:
    run_awsrun(["prod", "--", "true"], home.env)

    [entry] = home.cache_entries()
    assert entry.stat().st_mtime == int(entry_fields(entry)["expires_at"])
    assert entry.stat().st_ctime < entry.stat().st_mtime


def touch(entry: Path) -> None:
    os.utime(entry)  # mtime and ctime both become now


def far_future_mtime(entry: Path) -> None:
    # Later than any credentials STS issues last.
    os.utime(entry, (time.time(), time.time() + 40 * 3600))


def edit(entry: Path) -> None:
    # New contents, written as an editor writes them: this version is not awsrun's.
    entry.write_text(entry.read_text().replace(f"version = {ENTRY_VERSION}", "version = 9"))


@pytest.mark.parametrize(
    ("change", "cached"), [(touch, True), (far_future_mtime, True), (edit, False)]
)
def test_list_reads_an_entry_changed_after_awsrun_wrote_it(
    home: Home, sts: LocalSts, change: Callable[[Path], object], cached: bool
) -> None:
    run_awsrun(["prod", "--", "true"], home.env)
    [entry] = home.cache_entries()

    change(entry)
    rows = listing(home)

    assert rows["prod"]["cached"] is cached
    if cached:  # the time left is what the entry holds, not what its mtime says
        assert 3000 < int(str(rows["prod"]["seconds_left"])) <= 3600


def test_clear_a_profile_leaves_the_rest(home: Home, sts: LocalSts) -> None:
    run_awsrun(["second", "--", "true"], home.env)
    run_awsrun(["dev", "--", "true"], home.env)
    before = set(home.cache_entries())

    cleared = run_awsrun(["clear", "second"], home.env)
    after = set(home.cache_entries())

    assert cleared.returncode == 0, cleared.stderr
    assert len(before - after) == 1
    assert cleared.stdout == f"removed {next(iter(before - after))} (profile 'second')\n"
    rows = listing(home)
    assert (rows["second"]["cached"], rows["prod"]["cached"], rows["dev"]["cached"]) == (
        False,
        True,
        True,
    )


def test_clear_all_removes_only_awsruns_own_files(home: Home, sts: LocalSts) -> None:
    run_awsrun(["prod", "--", "true"], home.env)
    foreign = home.cache / "notes.ini"
    foreign.write_text("[notes]\n")
    version_1_entry = home.cache / f"{'a' * 64}.json"  # awsrun's own, from before INI entries
    version_1_entry.write_text("{}")
    outside = home.path / f"{'b' * 64}.ini"
    outside.write_text("{}")

    cleared = run_awsrun(["clear", "--all"], home.env)

    assert cleared.returncode == 0, cleared.stderr
    lines = cleared.stdout.splitlines()
    assert any(line.endswith("(profile 'prod')") for line in lines)
    assert not [line for line in lines if ".lock" in line]  # counted, not listed
    assert "removed 1 unused lock file" in lines
    assert home.cache_entries() == [foreign]
    assert not version_1_entry.exists()
    assert not list(home.cache.glob("*.lock"))
    assert outside.exists()
    assert run_awsrun(["clear", "--all"], home.env).stdout.startswith("nothing to remove")


def test_clear_mfa_drops_the_mfa_session(home: Home, sts: LocalSts) -> None:
    from conftest import SERIAL, mfa_config

    mfa_config(home, None)
    run_awsrun(["--mfa-code", "123456", "admin", "--", "true"], home.env)
    assert len(home.cache_entries()) == 2

    assert run_awsrun(["clear", "admin"], home.env).returncode == 0
    assert len(home.cache_entries()) == 1
    with_mfa = run_awsrun(["clear", "--mfa", "admin"], home.env)
    assert with_mfa.returncode == 0
    assert f"(the MFA session of {SERIAL})" in with_mfa.stdout
    assert home.cache_entries() == []
    assert not list(home.cache.glob("*.lock"))  # nobody held them: removed too


def test_clear_needs_profiles_or_all(home: Home) -> None:
    assert run_awsrun(["clear"], home.env).returncode == 125
    assert run_awsrun(["clear", "--all", "prod"], home.env).returncode == 125


BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


def complete(home: Home, words: list[str], *, with_bash_completion: bool = False) -> list[str]:
    """What bash's completion offers for the last of `words`, from the generated script;
    with bash-completion loaded, and a command `fakecmd` that completes alpha and beta."""
    script = run_awsrun(["completion", "bash"], home.env).stdout
    line = " ".join(["awsrun", *words])
    setup = f"source {BASH_COMPLETION}\n" if with_bash_completion else ""
    bash = (
        f"{setup}{script}\ncomplete -W 'alpha beta' fakecmd\n"
        f"COMP_WORDS=(awsrun {' '.join(words)}); COMP_CWORD={len(words)};"
        f"COMP_LINE={line!r}; COMP_POINT={len(line)}; _awsrun; "
        "printf '%s\\n' \"${COMPREPLY[@]}\""
    )
    path = f"{awsrun_executable().rsplit('/', 1)[0]}:{home.env['PATH']}"
    shown = subprocess.run(
        ["bash", "--norc", "--noprofile", "-i", "-c", bash],
        env={**home.env, "PATH": path},
        capture_output=True,
        text=True,
        check=True,
    )
    return shown.stdout.split()


def test_bash_completion_offers_profiles_words_and_options(home: Home) -> None:
    assert complete(home, ["pr"]) == ["prod"]
    assert "credential-process" in complete(home, ["c"])
    assert complete(home, ["env", "d"]) == ["default", "dev"]
    assert "--min-ttl" in complete(home, ["--m"])
    assert "--refresh" in complete(home, ["-v", "--r"])
    assert complete(home, ["completion", "f"]) == ["fish"]
    assert complete(home, ["console", "--print", "se"]) == ["second"]
    assert "--destination" in complete(home, ["console", "--d"])


def test_bash_completion_offers_formats_regions_and_the_commands_own(home: Home) -> None:
    assert complete(home, ["env", "prod", "--format", "p"]) == ["powershell"]
    assert "eu-central-1" in complete(home, ["--region", "eu-c"])
    assert "sh" in complete(home, ["prod", "--", "s"])  # command names after the profile


@pytest.mark.skipif(
    not Path(BASH_COMPLETION).exists(),
    reason="bash-completion is not installed (make test installs it where it can)",
)
def test_bash_completion_hands_the_command_to_its_own_completion(home: Home) -> None:
    cases = [
        (["prod", "--", "fakecmd", "al"], ["alpha"]),
        (["prod", "fakecmd", "be"], ["beta"]),
        (["--", "fakecmd", ""], ["alpha", "beta"]),
    ]
    for words, expected in cases:
        assert complete(home, words, with_bash_completion=True) == expected, words


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_other_completion_scripts_name_the_profiles_source(home: Home, shell: str) -> None:
    script = run_awsrun(["completion", shell], home.env)

    assert script.returncode == 0
    assert "awsrun list --names" in script.stdout
    assert "credential-process" in script.stdout


@pytest.mark.parametrize("word", [*COMMAND_WORDS])
def test_each_command_has_help_that_fits_a_screen(home: Home, word: str) -> None:
    shown = run_awsrun([word, "--help"], home.env)

    assert shown.returncode == 0
    assert shown.stdout.startswith(f"usage: awsrun {word}")
    assert len(shown.stdout.splitlines()) <= 40
    example = shown.stdout.splitlines()[2]
    assert "awsrun" in example or "[profile" in example


def test_main_help_lists_the_environment(home: Home) -> None:
    shown = run_awsrun(["--help"], home.env).stdout

    for name in ("AWS_CONFIG_FILE", "AWSRUN_CACHE_DIR", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        assert name in shown
    assert len(shown.splitlines()) <= 40


def test_the_region_list_offers_only_regions_botocore_knows() -> None:
    # A newer botocore may know more (make regions adds them); it never knows fewer.
    from generate_regions import known_regions

    from awsrun.config.region_names import REGIONS

    assert "eu-central-1" in REGIONS
    assert set(REGIONS) <= set(known_regions())


def _shell_path(home: Home) -> dict[str, str]:
    return {**home.env, "PATH": f"{awsrun_executable().rsplit('/', 1)[0]}:{home.env['PATH']}"}


@pytest.mark.skipif(
    shutil.which("zsh") is None, reason="zsh is not installed (make test installs it where it can)"
)
def test_zsh_completes_values_names_and_the_commands_own_words(home: Home) -> None:
    import pexpect

    zsh = pexpect.spawn("zsh", ["-f", "-i"], env=_shell_path(home), encoding="utf-8", timeout=20)
    zsh.sendline(
        "PS1='% '; autoload -U compinit && compinit -u; source <(awsrun completion zsh); "
        "_fakecmd() { compadd alpha beta }; compdef _fakecmd fakecmd; echo RE''ADY"
    )
    zsh.expect("\nREADY\r\n")  # the output, not the echo of the line typed
    cases = {
        "awsrun prod -- fakecmd al": "awsrun prod -- fakecmd alpha",
        "awsrun prod fakecmd be": "awsrun prod fakecmd beta",
        "awsrun env prod --format powe": "awsrun env prod --format powershell",
        "awsrun --region us-gov-w": "awsrun --region us-gov-west-1",
        "awsrun sec": "awsrun second",
        "awsrun console --print sec": "awsrun console --print second",
    }
    for typed, expected in cases.items():
        # Complete, then put `echo ` before the line and run it: it prints the line.
        zsh.send(typed + "\t")
        zsh.send("\x01echo \r")
        zsh.expect(r"\r\n(awsrun[^\r\n]*)\r\n")
        assert zsh.match.group(1).rstrip() == expected, typed
    zsh.sendline("exit")
    zsh.expect(pexpect.EOF)


@pytest.mark.skipif(
    shutil.which("fish") is None,
    reason="fish is not installed (make test installs it where it can)",
)
def test_fish_completes_values_names_and_the_commands_own_words(home: Home) -> None:
    script = run_awsrun(["completion", "fish"], home.env).stdout
    asked = {
        "awsrun prod -- fakecmd al": ["alpha"],
        "awsrun prod fakecmd be": ["beta"],
        "awsrun env prod --format powe": ["powershell"],
        "awsrun sec": ["second\tprofile"],
        "awsrun completion z": ["zsh"],
        "awsrun console --print sec": ["second\tprofile"],
    }
    commands = "; ".join(f"echo '#'; complete -C {shlex.quote(line)}" for line in asked)
    fish = subprocess.run(
        [
            "fish",
            "--no-config",
            "-c",
            f"{script}\ncomplete -c fakecmd -f -a 'alpha beta'\n{commands}",
        ],
        env=_shell_path(home),
        capture_output=True,
        text=True,
        check=True,
    )
    answers = [block.strip("\n").split("\n") for block in fish.stdout.split("#\n")[1:]]
    assert dict(zip(asked, answers, strict=True)) == asked


@pytest.mark.skipif(
    shutil.which("zsh") is None, reason="zsh is not installed (make test installs it where it can)"
)
def test_the_zsh_script_without_compinit_says_what_to_load(home: Home) -> None:
    shown = subprocess.run(
        ["zsh", "-f", "-c", f"source <({awsrun_executable()} completion zsh)"],
        env=home.env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert "autoload -Uz compinit && compinit" in shown.stderr
    assert "command not found" not in shown.stderr


def test_clear_all_and_clear_mfa_give_an_mfa_session_one_name(home: Home, sts: LocalSts) -> None:
    from conftest import SERIAL, mfa_config

    mfa_config(home, None)
    run_awsrun(["--mfa-code", "123456", "admin", "--", "true"], home.env)
    by_profile = run_awsrun(["clear", "--mfa", "admin"], home.env)
    run_awsrun(["--mfa-code", "123456", "admin", "--", "true"], home.env)
    everything = run_awsrun(["clear", "--all"], home.env)
    alone = run_awsrun(["clear", "--mfa"], home.env)

    for result in (by_profile, everything):
        assert result.returncode == 0, result.stderr
        assert result.stdout.count(f"(the MFA session of {SERIAL})\n") == 1, result.stdout
        assert result.stdout.count("(profile 'admin')\n") == 1, result.stdout
    assert alone.returncode == 125
    assert alone.stderr == (
        "awsrun: name the profiles whose MFA sessions to clear (awsrun clear --mfa "
        "PROFILE...), or --all for everything awsrun has cached\n"
    )
