"""What the command inherits from awsrun besides its credentials, on every path that starts
it: signal dispositions, how a script without `#!` runs, and variables of the caller's that
would pair another account with the new keys."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import Home, awsrun_executable, run_awsrun

# Plain exec, and --server, which runs the command as a child.
PATHS = [pytest.param([], id="exec"), pytest.param(["--server"], id="server")]


def ignored_signals(status: str) -> str:
    return next(line for line in status.splitlines() if line.startswith("SigIgn:"))


@pytest.mark.parametrize("mode", PATHS)
def test_the_command_ignores_no_signal_its_caller_did_not(home: Home, mode: list[str]) -> None:
    direct = subprocess.run(
        ["cat", "/proc/self/status"], capture_output=True, text=True, check=True
    )
    through = run_awsrun([*mode, "prod", "--", "cat", "/proc/self/status"], home.env)

    assert through.returncode == 0, through.stderr
    assert ignored_signals(through.stdout) == ignored_signals(direct.stdout)


def test_a_closed_pipe_ends_the_writer_quietly(home: Home) -> None:
    result = run_awsrun(["prod", "--", "sh", "-c", "yes | head -1"], home.env)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "y\n"
    assert "Broken pipe" not in result.stderr


@pytest.mark.parametrize("mode", PATHS)
def test_a_script_without_a_shebang_runs_through_sh(
    home: Home, tmp_path: Path, mode: list[str]
) -> None:
    script = tmp_path / "bin" / "plain-script"
    script.parent.mkdir()
    script.write_text('echo "ran with $1"\nexit 7\n')
    script.chmod(0o755)
    env = {**home.env, "PATH": f"{script.parent}:{home.env['PATH']}"}

    by_name = run_awsrun([*mode, "prod", "--", "plain-script", "arg"], env)
    by_path = run_awsrun([*mode, "prod", "--", str(script), "arg"], env)

    assert (by_name.returncode, by_name.stdout) == (7, "ran with arg\n"), by_name.stderr
    assert (by_path.returncode, by_path.stdout) == (7, "ran with arg\n"), by_path.stderr


@pytest.mark.parametrize("mode", PATHS)
def test_a_callers_account_id_does_not_reach_the_command(home: Home, mode: list[str]) -> None:
    env = {**home.env, "AWS_ACCOUNT_ID": "111111111111"}
    result = run_awsrun([*mode, "prod", "--", "sh", "-c", "echo ${AWS_ACCOUNT_ID-unset}"], env)

    assert result.stdout == "unset\n", result.stderr


def test_awsrun_env_unsets_a_callers_account_id(home: Home) -> None:
    env = {**home.env, "AWS_ACCOUNT_ID": "111111111111"}
    printed = run_awsrun(["env", "prod", "--format", "json"], env)
    shell = run_awsrun(["env", "prod"], env)

    assert "AWS_ACCOUNT_ID" not in json.loads(printed.stdout)
    unset = shell.stdout.splitlines()[0].split()
    assert unset[0] == "unset"
    assert "AWS_ACCOUNT_ID" in unset


# -- what `awsrun env` writes -------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["sh", "fish", "powershell", "cmd", "dotenv", "json"])
def test_no_format_writes_a_value_with_a_line_break(home: Home, output_format: str) -> None:
    injected = "eu-west-1\nLD_PRELOAD=/tmp/evil.so"
    result = run_awsrun(["env", "--region", injected, "prod", "--format", output_format], home.env)

    assert result.returncode == 125
    assert "LD_PRELOAD" not in result.stdout
    assert result.stderr.count("\n") == 1
    assert "awsrun: --region is 'eu-west-1\\nLD_PRELOAD=/tmp/evil.so', not a region name" in (
        result.stderr
    )


def test_a_value_from_a_credential_process_with_a_line_break_is_not_written() -> None:
    from awsrun.errors import ConfigError
    from awsrun.handoff.formats import FORMATS

    for output_format in FORMATS.values():
        with pytest.raises(ConfigError, match="AWS_ACCESS_KEY_ID would hold a line break"):
            output_format.text({"AWS_ACCESS_KEY_ID": "AKIA\nLD_PRELOAD=/tmp/evil.so"}, [])


def test_cmd_quotes_what_cmd_exe_would_run_and_refuses_what_it_cannot_quote() -> None:
    from awsrun.errors import ConfigError
    from awsrun.handoff.formats import FORMATS

    rendered = FORMATS["cmd"].text({"AWSRUN_PROFILE": "a&b|c<d>e^f%PATH%"}, [])
    assert rendered == 'set "AWSRUN_PROFILE=a&b|c<d>e^f%%PATH%%"\r\n'
    for unquotable in ('a"&calc', "a!b"):
        with pytest.raises(ConfigError, match="--format cmd cannot write safely"):
            FORMATS["cmd"].text({"AWSRUN_PROFILE": unquotable}, [])


def test_powershell_doubles_every_single_quote_it_knows() -> None:
    from awsrun.handoff.formats import FORMATS

    rendered = FORMATS["powershell"].text({"AWSRUN_PROFILE": "a\u2019; calc; \u2018'"}, [])
    assert rendered == "$Env:AWSRUN_PROFILE = 'a\u2019\u2019; calc; \u2018\u2018'''\n"


def test_a_failed_eval_fails_and_leaves_no_credentials_from_before(home: Home) -> None:
    script = (
        "export AWS_ACCESS_KEY_ID=AKIAOLDKEYS AWSRUN_PROFILE=old\n"
        'eval "$(awsrun env no-such-profile)" && echo ran-anyway\n'
        'echo "status=$? key=${AWS_ACCESS_KEY_ID-unset} profile=${AWSRUN_PROFILE-unset}"\n'
    )
    bin_dir = str(Path(awsrun_executable()).parent)
    env = {**home.env, "PATH": f"{bin_dir}:{home.env['PATH']}"}
    result = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert "ran-anyway" not in result.stdout
    assert result.stdout == "status=1 key=unset profile=unset\n", result.stderr
    assert "awsrun: profile 'no-such-profile' is not in" in result.stderr


@pytest.mark.parametrize("output_format", ["fish", "powershell", "cmd"])
def test_every_shell_format_fails_and_unsets_on_failure(home: Home, output_format: str) -> None:
    result = run_awsrun(["env", "no-such-profile", "--format", output_format], home.env)

    assert result.returncode == 125
    assert "AWS_SECRET_ACCESS_KEY" in result.stdout  # unset, never set
    assert result.stdout.rstrip().splitlines()[-1] in (
        "false",
        "throw 'awsrun env failed: see its message above'",
        "exit /b 1",
    )
    assert "exit\n" not in result.stdout  # never closes an interactive shell


# -- what files and folders can do ----------------------------------------------------------


def test_completion_treats_profile_names_as_data(home: Home, tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    home.write_config(
        home.config.read_text() + f"[profile $(touch${{IFS}}{pwned})]\nregion = eu-west-1\n"
    )
    bin_dir = str(Path(awsrun_executable()).parent)
    env = {**home.env, "PATH": f"{bin_dir}:{home.env['PATH']}"}
    script = (
        "source <(awsrun completion bash)\n"
        'COMP_WORDS=(awsrun ""); COMP_CWORD=1; _awsrun; printf "%s\\n" "${COMPREPLY[@]}"\n'
        'COMP_WORDS=(awsrun "pr"); _awsrun; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True
    )

    assert not pwned.exists()
    offered = result.stdout.splitlines()
    assert f"\\$\\(touch\\$\\{{IFS\\}}{pwned}\\)" in offered  # offered, quoted, never run
    assert offered[-1] == "prod"
    assert "exec" in offered


def with_xdg_cache_home(
    home: Home, xdg_cache_home: str, argv: list[str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run `argv` where the cache folder comes from XDG_CACHE_HOME, not AWSRUN_CACHE_DIR."""
    env = {name: value for name, value in home.env.items() if name != "AWSRUN_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = xdg_cache_home
    return subprocess.run(
        argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_folders_awsrun_makes_are_private_whatever_the_umask(home: Home, tmp_path: Path) -> None:
    argv = ["sh", "-c", 'umask 000; exec "$0" prod -- true', awsrun_executable()]
    result = with_xdg_cache_home(home, str(tmp_path / "made" / "by-awsrun"), argv, tmp_path)

    assert result.returncode == 0, result.stderr
    for folder in ("made", "made/by-awsrun", "made/by-awsrun/awsrun"):
        assert (tmp_path / folder).stat().st_mode & 0o777 == 0o700, folder


def test_a_relative_xdg_cache_home_is_ignored(home: Home, tmp_path: Path) -> None:
    argv = [awsrun_executable(), "prod", "--", "true"]
    result = with_xdg_cache_home(home, "relative/cache", argv, tmp_path)

    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "relative").exists()
    assert list((home.path / ".cache" / "awsrun").glob("*.ini"))


def test_no_home_folder_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import pwd

    from awsrun.errors import ConfigError
    from awsrun.folders import cache_dir

    def no_entry(uid: int) -> pwd.struct_passwd:
        raise KeyError(uid)

    monkeypatch.delenv("HOME")
    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    with pytest.raises(ConfigError, match="set HOME, XDG_CACHE_HOME or AWSRUN_CACHE_DIR"):
        cache_dir({})
    assert cache_dir({"AWSRUN_CACHE_DIR": "/somewhere"}) == "/somewhere"


# -- everyday mistakes are one line, never "unexpected" -----------------------------------

MISTAKES = {
    "missing-program": (
        "credential_process = /nonexistent/program --flag",
        "No such file or directory: /nonexistent/program; fix the profile's credential_process",
    ),
    "not-json": (
        "credential_process = echo hello",
        "JSONDecodeError (Expecting value: line 1 column 1 (char 0)); fix the profile's "
        "credential_process",
    ),
    "unclosed-quote": (
        'credential_process = echo "abc',
        "ValueError (No closing quotation); fix the profile's credential_process",
    ),
    "no-token-file": (
        "role_arn = arn:aws:iam::123456789012:role/W\nweb_identity_token_file = /nonexistent/token",
        "No such file or directory: /nonexistent/token; fix the profile's web_identity_token_file",
    ),
    "short-external-id": (
        "role_arn = arn:aws:iam::123456789012:role/X\nsource_profile = default\nexternal_id = x",
        "Invalid length for parameter ExternalId, value: 1, valid min length: 2",
    ),
    "spaced-session-name": (
        "role_arn = arn:aws:iam::123456789012:role/X\nsource_profile = default\n"
        "role_session_name = my session",
        "role_session_name = 'my session'",
    ),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_a_broken_profile_is_one_line_that_names_the_fix(home: Home, mistake: str) -> None:
    settings, message = MISTAKES[mistake]
    home.write_config(home.config.read_text() + f"[profile {mistake}]\n{settings}\n")
    result = run_awsrun([mistake, "--", "true"], home.env)

    assert result.returncode == 125
    assert result.stderr.count("\n") == 1, result.stderr
    assert "unexpected" not in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--session-name", "\udcff\udcfe"], "it may hold only ASCII letters, digits and _+=,.@-"),
        (["--session-name", "x"], "it must be 2 to 64 characters long"),
        (["--duration", "5m"], "--duration takes 15m to 12h"),
        (["--duration", "13h"], "--duration takes 15m to 12h"),
    ],
)
def test_an_option_sts_would_refuse_is_one_line(
    home: Home, option: list[str], message: str
) -> None:
    result = run_awsrun([*option, "prod", "--", "true"], home.env)

    assert result.returncode == 125
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


@pytest.mark.parametrize("mode", PATHS)
def test_an_empty_command_word_is_not_found(home: Home, mode: list[str]) -> None:
    result = run_awsrun([*mode, "prod", "--", ""], home.env)

    assert result.returncode == 127
    assert result.stderr == "awsrun: '': command not found (the command is an empty word)\n"


def test_an_empty_profile_name_is_one_line(home: Home) -> None:
    result = run_awsrun(["", "--", "true"], home.env)

    assert result.returncode == 125
    assert result.stderr == "awsrun: the profile name is empty: name a profile, or leave it out\n"
