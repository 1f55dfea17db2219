"""`awsrun env` and `awsrun credential-process`: the same cache, handed to a shell, a
docker env-file, an SDK or the AWS CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Home, awsrun_executable, child_command, run_awsrun
from localsts import LocalSts

from awsrun.handoff.formats import FORMATS

TRICKY = 'it\'s a "quoted" value with $HOME, `backticks`, \\ and\ttabs'


def aws_variables(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {name: value for name, value in pairs if name.startswith(("AWS", "AWSRUN_"))}


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_eval_of_env_leaves_the_shell_as_the_child_would_be(
    home: Home, sts: LocalSts, shell: str
) -> None:
    caller = {**home.env, "AWS_PROFILE": "dev", "AWS_SECURITY_TOKEN": "stale"}
    script = f'eval "$({awsrun_executable()} env prod)" && env'
    evaluated = subprocess.run(
        [shell, "-c", script], env=caller, capture_output=True, text=True, check=True
    )
    exec_child = run_awsrun(["prod", "--", "env"], caller)

    assert aws_variables(evaluated.stdout) == aws_variables(exec_child.stdout)
    assert "AWS_PROFILE" not in aws_variables(evaluated.stdout)
    assert "AWS_SECURITY_TOKEN" not in aws_variables(evaluated.stdout)
    assert len(sts.assumed_roles()) == 1


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_sh_quoting_round_trips_any_value(shell: str) -> None:
    rendered = FORMATS["sh"].render({"AWSRUN_PROFILE": TRICKY}, ["AWS_PROFILE"])
    shown = subprocess.run(
        [shell, "-c", f'{rendered}\nprintf %s "$AWSRUN_PROFILE"'],
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout == TRICKY


def test_other_formats_text() -> None:
    variables = {"AWS_ACCESS_KEY_ID": "ASIA1", "AWSRUN_PROFILE": "it's"}
    removed = ["AWS_PROFILE"]

    assert FORMATS["fish"].render(variables, removed) == (
        "set -e AWS_PROFILE\nset -gx AWS_ACCESS_KEY_ID 'ASIA1'\nset -gx AWSRUN_PROFILE 'it\\'s'\n"
    )
    assert FORMATS["powershell"].render(variables, removed) == (
        "Remove-Item Env:AWS_PROFILE -ErrorAction SilentlyContinue\n"
        "$Env:AWS_ACCESS_KEY_ID = 'ASIA1'\n$Env:AWSRUN_PROFILE = 'it''s'\n"
    )
    assert FORMATS["cmd"].render(variables, removed) == (
        'set "AWS_PROFILE="\r\nset "AWS_ACCESS_KEY_ID=ASIA1"\r\nset "AWSRUN_PROFILE=it\'s"\r\n'
    )
    assert FORMATS["dotenv"].render(variables, removed) == (
        "AWS_ACCESS_KEY_ID=ASIA1\nAWSRUN_PROFILE=it's\n"
    )
    assert json.loads(FORMATS["json"].render(variables, removed)) == variables


def test_env_json_and_dotenv_share_the_cache(home: Home, sts: LocalSts) -> None:
    as_json = run_awsrun(["env", "prod", "--format", "json"], home.env)
    as_dotenv = run_awsrun(["env", "--format=dotenv", "prod"], home.env)

    assert as_json.returncode == as_dotenv.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert aws_variables(as_dotenv.stdout) == document
    assert len(sts.assumed_roles()) == 1


def test_env_rejects_an_unknown_format_and_a_command(home: Home) -> None:
    assert run_awsrun(["env", "prod", "--format", "csh"], home.env).returncode == 125
    assert run_awsrun(["env", "prod", "--", "ls"], home.env).returncode == 125


def cached_profile(home: Home, source: str = "prod") -> None:
    home.write_config(
        home.config.read_text()
        + f"\n[profile prod-cached]\ncredential_process = {awsrun_executable()} "
        f"credential-process {source}\nregion = eu-west-1\n"
    )


def test_credential_process_prints_exactly_the_contract(home: Home, sts: LocalSts) -> None:
    result = run_awsrun(["credential-process", "prod"], home.env)

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {
        "Version",
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    }
    assert document["Version"] == 1
    assert document["Expiration"].endswith("Z")
    assert result.stderr == ""


def test_boto3_reads_the_cache_through_credential_process(home: Home, sts: LocalSts) -> None:
    cached_profile(home)
    code = (
        "import boto3, json; s = boto3.session.Session(profile_name='prod-cached');"
        "print(json.dumps(s.client('sts').get_caller_identity()['Arn']))"
    )
    first = subprocess.run(
        [sys.executable, "-c", code], env=home.env, capture_output=True, text=True, check=False
    )
    second = subprocess.run(
        [sys.executable, "-c", code], env=home.env, capture_output=True, text=True, check=False
    )

    assert first.returncode == 0, first.stderr
    assert "assumed-role/Prod/" in json.loads(first.stdout)
    assert second.stdout == first.stdout
    assert len(sts.assumed_roles()) == 1


def test_the_aws_cli_reads_the_cache_through_credential_process(home: Home, sts: LocalSts) -> None:
    cached_profile(home)
    aws = str(Path(sys.executable).parent / "aws")
    result = subprocess.run(
        [aws, "sts", "get-caller-identity", "--profile", "prod-cached", "--output", "json"],
        env=home.env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "assumed-role/Prod/" in json.loads(result.stdout)["Arn"]


def test_a_credential_process_that_calls_itself_is_a_loop_error(home: Home) -> None:
    cached_profile(home, source="prod-cached")
    result = run_awsrun(["credential-process", "prod-cached"], home.env, timeout=60)

    assert result.returncode == 125
    assert "loop" in result.stderr
    assert "prod-cached -> prod-cached" in result.stderr
    assert result.stdout == ""


def test_exec_word_runs_a_profile_named_like_a_command(home: Home, sts: LocalSts) -> None:
    home.write_config(home.config.read_text().replace("[profile dev]", "[profile env]"))
    result = run_awsrun(["exec", "env", "--", *child_command()], home.env)

    assert result.returncode == 0, result.stderr
    assert "assumed-role/Dev/" in json.loads(result.stdout)["arn"]
