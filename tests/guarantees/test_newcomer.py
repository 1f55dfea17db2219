"""A newcomer's wrong turns, each answered with the right next step: the profile a run
is for and why, options in the wrong place, loops and waits that say what they are, the
shell awsrun starts, and errors that name the fix."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

import pexpect
import pytest
from conftest import (
    CHILD,
    SERIAL,
    Home,
    at_mfa_prompt,
    awsrun_executable,
    child_command,
    mfa_config,
    role_arn,
    run_awsrun,
)
from localsts import LocalSts

from awsrun.cli import COMMAND_WORDS


def test_a_bare_awsrun_inside_an_awsrun_session_runs_as_that_session_and_says_why(
    home: Home, sts: LocalSts
) -> None:
    inner = [awsrun_executable(), "-v", "--", sys.executable, CHILD]
    result = run_awsrun(["prod", "--", *inner], home.env)

    assert result.returncode == 0, result.stderr
    assert "assumed-role/Prod/" in json.loads(result.stdout)["arn"]
    assert "profile 'prod' (from AWSRUN_PROFILE: the awsrun session this runs in)" in (
        result.stderr
    )


def test_v_names_the_profile_its_origin_and_the_kind_of_credentials(
    home: Home, sts: LocalSts
) -> None:
    keys = run_awsrun(["-v", "--", "true"], home.env)
    from_variable = run_awsrun(["-v", "--", "true"], {**home.env, "AWS_PROFILE": "prod"})

    assert keys.returncode == 0, keys.stderr
    assert "profile 'default' (no profile named" in keys.stderr
    assert "long-term keys in the profile, used as they are" in keys.stderr
    assert "profile 'prod' (from AWS_PROFILE)" in from_variable.stderr
    assert "STS AssumeRole" in from_variable.stderr


def test_an_awsrun_option_after_the_profile_is_pointed_back_before_it(home: Home) -> None:
    flag = run_awsrun(["prod", "-v", "--", "true"], home.env)
    value = run_awsrun(["prod", "--region", "eu-west-1", "--", "true"], home.env)

    assert (flag.returncode, value.returncode) == (125, 125)
    assert "-v is an awsrun option: put it before the profile (awsrun -v prod -- ...)" in (
        flag.stderr
    )
    assert "(awsrun --region eu-west-1 prod -- ...)" in value.stderr


def test_a_credential_process_loop_is_caught_at_once_on_every_path(home: Home) -> None:
    home.write_config(
        home.config.read_text()
        + f"\n[profile loop]\ncredential_process = {awsrun_executable()} credential-process loop\n"
    )
    # The lock wait would be 120 s: a run that hung on it fails this test's 60 s bound.
    for args in (["loop", "--", "true"], ["env", "loop"], ["credential-process", "loop"]):
        result = run_awsrun(args, home.env)

        assert result.returncode == 125, args
        assert "credential_process loop: loop -> loop" in result.stderr
    verbose = run_awsrun(["-v", "loop", "--", "true"], home.env)
    assert "process profile 'loop': asking botocore's process provider" in verbose.stderr


def test_a_nested_run_of_the_same_profile_is_no_loop(home: Home, sts: LocalSts) -> None:
    result = run_awsrun(
        ["prod", "--", awsrun_executable(), "prod", "--", *child_command()], home.env
    )

    assert result.returncode == 0, result.stderr


def test_a_shell_says_whose_it_is_and_until_when(home: Home, sts: LocalSts) -> None:
    session = pexpect.spawn(
        awsrun_executable(),
        ["prod"],
        env={**home.env, "SHELL": "/bin/sh", "PS1": "$ "},
        encoding="utf-8",
        timeout=30,
    )
    session.expect(r"awsrun: shell as prod until \d\d:\d\d; exit to leave")
    session.sendline('echo "profile=$AWSRUN_PROFILE"; exit')
    session.expect("profile=prod")
    session.expect(pexpect.EOF)
    session.close()

    assert session.exitstatus == 0


def test_without_a_named_profile_no_form_starts_a_shell(home: Home) -> None:
    for args in (["-v"], ["--"], ["exec"], []):
        result = run_awsrun(args, home.env)

        assert result.returncode == 125, args
        assert result.stderr.startswith("awsrun: name ")


def test_a_profile_typo_suggests_the_names_it_begins_and_similar_ones(home: Home) -> None:
    home.write_config(
        home.config.read_text()
        + f"\n[profile prodaccess]\nrole_arn = {role_arn('P')}\nsource_profile = defualt\n"
    )
    prefix = run_awsrun(["pro", "--", "true"], home.env)
    source = run_awsrun(["prodaccess", "--", "true"], home.env)

    assert "did you mean prod, prodaccess?" in prefix.stderr
    assert "source_profile 'defualt'" in source.stderr
    assert "did you mean default?" in source.stderr


def test_a_config_section_without_profile_is_explained(home: Home) -> None:
    home.write_config(home.config.read_text() + "\n[ops]\nregion = eu-west-1\n")

    result = run_awsrun(["ops", "--", "true"], home.env)

    assert result.returncode == 125
    assert "has [ops], but a profile in the config file is written [profile ops]" in (result.stderr)


def test_a_name_from_the_environment_and_a_missing_config_file_are_said(home: Home) -> None:
    from_variable = run_awsrun(["--", "true"], {**home.env, "AWS_PROFILE": "nosuch"})
    missing = str(home.path / "no-such-config")
    no_file = run_awsrun(["prod", "--", "true"], {**home.env, "AWS_CONFIG_FILE": missing})

    assert "profile 'nosuch' (from AWS_PROFILE) is not in" in from_variable.stderr
    assert f"AWS_CONFIG_FILE names {missing}, which does not exist" in no_file.stderr


def test_a_command_where_the_profile_goes_is_pointed_at_dashes(home: Home) -> None:
    result = run_awsrun(["sh", "-c", "true"], home.env)

    assert result.returncode == 125
    assert "to run sh as the default profile: awsrun -- sh ..." in result.stderr


def test_help_and_version_words_do_what_they_say(home: Home) -> None:
    help_text = run_awsrun(["help"], home.env)
    env_help = run_awsrun(["help", "env"], home.env)
    version = run_awsrun(["version"], home.env)

    assert help_text.returncode == 0
    assert help_text.stdout.startswith("usage: awsrun [OPTIONS]")
    assert env_help.stdout.startswith("usage: awsrun env")
    assert version.stdout.startswith("awsrun ")


def test_a_profile_named_like_a_command_word_is_pointed_at_exec(home: Home) -> None:
    result = run_awsrun(["env", "--", "make"], home.env)

    assert result.returncode == 125
    assert "for a profile named env: awsrun exec env -- ..." in result.stderr


def test_list_shows_why_a_profile_is_invalid_and_where_it_looked(home: Home) -> None:
    home.write_config(
        home.config.read_text()
        + f"\n[profile typo]\nrole_arn = {role_arn('T')}\nsource_profile = defualt\n"
    )
    table = run_awsrun(["list"], home.env)
    nothing = run_awsrun(
        ["list"],
        {
            **home.env,
            "AWS_CONFIG_FILE": str(home.path / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home.path / "none2"),
        },
    )

    row = next(line for line in table.stdout.splitlines() if line.startswith("typo "))
    assert "did you mean default?" in row
    assert nothing.returncode == 0
    assert f"no profiles in {home.path / 'none'}" in nothing.stdout


def test_a_min_ttl_longer_than_the_session_names_the_fix(home: Home, sts: LocalSts) -> None:
    result = run_awsrun(["--min-ttl", "2h", "prod", "--", "true"], home.env)

    assert result.returncode == 0, result.stderr
    assert "ask for a longer session with --duration" in result.stderr


def test_a_duration_of_zero_is_an_error(home: Home) -> None:
    result = run_awsrun(["--duration", "0", "prod", "--", "true"], home.env)

    assert result.returncode == 125
    assert "--duration takes 15m to 12h" in result.stderr


def test_the_mfa_prompt_takes_spaces_asks_again_and_leaves_a_fresh_line(
    home: Home, sts: LocalSts
) -> None:
    mfa_config(home, None)
    session = pexpect.spawn(
        awsrun_executable(), ["admin", "--", "true"], env=home.env, encoding="utf-8", timeout=30
    )
    session.expect("MFA code for " + SERIAL)
    session.sendline("12345")
    session.expect("not 6 digits; try again")
    session.expect("MFA code for " + SERIAL)
    session.sendline("123 456")
    session.expect(pexpect.EOF)
    session.close()
    assert session.exitstatus == 0
    assert sts.session_tokens() == 1

    other_serial = SERIAL.replace("alice", "bob")
    home.write_config(
        home.config.read_text()
        + f"\n[profile other-key]\naws_access_key_id = AKIAOTHERKEY00000001\n"
        f"aws_secret_access_key = otherSECRET\n[profile audit-fresh]\n"
        f"role_arn = {role_arn('Audit')}\nsource_profile = other-key\nmfa_serial = {other_serial}\n"
    )
    interrupted = at_mfa_prompt(home.env, "audit-fresh", other_serial)
    interrupted.sendintr()
    interrupted.expect(pexpect.EOF)
    # The terminal echoed ^C; awsrun ended the line, so the shell's prompt has its own.
    assert interrupted.before.endswith("^C\r\n")


def test_help_lists_each_word_and_each_command_only_its_own_options(home: Home) -> None:
    top = run_awsrun(["--help"], home.env).stdout
    env_help = run_awsrun(["env", "--help"], home.env).stdout
    list_help = run_awsrun(["list", "--help"], home.env).stdout
    exec_help = run_awsrun(["exec", "--help"], home.env).stdout

    # The first column names the words, alone or as `login, logout`.
    listed = {
        name.strip()
        for line in top.splitlines()
        if line.startswith("  ") and not line.startswith("   ")
        for name in line[:22].split(",")
    }
    assert set(COMMAND_WORDS) <= listed
    assert "--server" not in env_help  # awsrun env refuses it
    assert "--server" in exec_help
    assert "--names" in list_help


def test_other_tools_profile_option_and_a_doubled_v_get_the_right_form(home: Home) -> None:
    profile_option = run_awsrun(["--profile", "prod", "--", "true"], home.env)
    joined = run_awsrun(["--profile=prod", "--", "true"], home.env)
    doubled = run_awsrun(["-vv", "prod", "--", "true"], home.env)

    assert (profile_option.returncode, joined.returncode, doubled.returncode) == (125, 125, 125)
    assert "awsrun prod -- COMMAND" in profile_option.stderr
    assert "awsrun prod -- COMMAND" in joined.stderr
    assert "give -v once" in doubled.stderr


def test_help_of_a_word_that_is_none_says_so_and_lists_them(home: Home) -> None:
    shown = run_awsrun(["help", "nosuch"], home.env)

    assert shown.returncode == 125
    assert shown.stdout == ""
    assert "'nosuch' is not a command word" in shown.stderr
    assert "credential-process" in shown.stderr


def test_an_empty_file_variable_is_said_to_mean_no_file(home: Home) -> None:
    env = {**home.env, "AWS_CONFIG_FILE": ""}

    missing = run_awsrun(["prod", "--", "true"], env)

    assert missing.returncode == 125
    assert "AWS_CONFIG_FILE is set but empty, which means no such file" in missing.stderr
    assert " in  and " not in missing.stderr  # no empty file name


def test_an_unclosed_section_header_is_named_with_its_line(home: Home) -> None:
    home.write_config("[default]\nregion = eu-west-1\n[profile prod\nregion = eu-west-1\n")

    refused = run_awsrun(["prod", "--", "true"], home.env)

    assert refused.returncode == 125
    assert "a section header without its closing `]` at line 3" in refused.stderr


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["aws sts get-caller-identity"], "a whole command line in one word: drop the quotes"),
        (["cd", "/tmp"], "cd: a shell builtin, not a program: run it in a shell"),
        (["/no/such/program"], "/no/such/program: no such file"),
        (["no-such-program-anywhere"], "command not found (check PATH)"),
    ],
    ids=["one-word", "builtin", "missing-file", "not-on-path"],
)
def test_a_command_that_cannot_start_is_named_with_the_likely_slip(
    home: Home, sts: LocalSts, command: list[str], said: str
) -> None:
    # `aws` must be found for the one-word case: a shim named aws on PATH.
    shim = home.path / "bin"
    shim.mkdir(exist_ok=True)
    (shim / "aws").write_text("#!/bin/sh\nexit 0\n")
    (shim / "aws").chmod(0o755)
    env = {**home.env, "PATH": f"{shim}:{home.env['PATH']}"}

    failed = run_awsrun(["prod", "--", *command], env)

    assert failed.returncode == 127
    assert said in failed.stderr
    assert failed.stderr.count("\n") == 1


def test_a_profile_written_where_the_command_goes_is_pointed_back(
    home: Home, sts: LocalSts
) -> None:
    failed = run_awsrun(["--", "prod", "aws", "s3", "ls"], {**home.env, "AWS_PROFILE": "prod"})

    assert failed.returncode == 127
    assert "prod is a profile, not a command: awsrun prod -- aws s3 ls" in failed.stderr


def test_a_min_ttl_over_a_chained_roles_hour_gives_advice_that_can_work(
    home: Home, sts: LocalSts
) -> None:
    result = run_awsrun(["--min-ttl", "2h", "second", "--", "true"], home.env)

    assert result.returncode == 0, result.stderr
    assert "lasts 1h at most: ask for less with --min-ttl" in result.stderr
    assert "--duration" not in result.stderr


def test_a_profile_section_in_the_credentials_file_is_explained(home: Home) -> None:
    home.write_credentials(
        "[profile default]\naws_access_key_id = AKIAEXAMPLEEXAMPLE01\n"
        "aws_secret_access_key = exampleSECRET\n"
    )

    refused = run_awsrun(["prod", "--", "true"], home.env)

    assert refused.returncode == 125
    assert "has [profile default], but the credentials file writes [default]" in refused.stderr


def test_the_console_of_a_local_sts_says_so_before_any_call(home: Home, sts: LocalSts) -> None:
    refused = run_awsrun(["console", "--print", "prod"], home.env)

    assert refused.returncode == 125
    assert f"this profile's STS is {sts.endpoint}, not AWS's" in refused.stderr
    assert "AWSRUN_FEDERATION_ENDPOINT" in refused.stderr
    assert sts.assumed_roles() == []


def test_ctrl_d_at_the_mfa_prompt_ends_the_prompts_line_first(home: Home, sts: LocalSts) -> None:
    mfa_config(home, None)
    prompt = at_mfa_prompt(home.env, "admin", SERIAL)
    prompt.sendeof()
    prompt.expect(pexpect.EOF)
    prompt.close()

    assert prompt.exitstatus == 125
    assert "\nawsrun: no MFA code was typed" in prompt.before.replace("\r\n", "\n")


def test_make_try_prints_lines_after_which_a_role_run_works(tmp_path: Path) -> None:
    import signal
    import subprocess

    tools = Path(__file__).resolve().parents[2] / "tools"
    server = subprocess.Popen(
        [sys.executable, str(tools / "localsts.py")],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert server.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("# then"):
            lines.append(server.stdout.readline())
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
        for line in lines:
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                env[name] = shlex.split(value)[0].replace("$PATH", os.environ["PATH"])
        first = run_awsrun(["-v", "prodaccess", "--", "true"], env)
        second = run_awsrun(["-v", "prodaccess", "--", "true"], env)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()

    assert first.returncode == 0, first.stderr
    assert "STS AssumeRole" in first.stderr
    assert "from the cache" in second.stderr
    assert server.returncode == 0
