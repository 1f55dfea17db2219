"""Where credentials come from besides static keys, and how the lock and the endpoint
settings behave: credential_process through boto3, the lock's bound, a killed holder,
AWS_ENDPOINT_URL_STS, and the cache-hit path's imports."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import (
    HIT_PATH,
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


def process_profile(home: Home, tmp_path: Path, expires_in: timedelta | None) -> Path:
    """A `credential_process` that counts its runs and prints temporary keys."""
    counter = tmp_path / "process-runs"
    document: dict[str, object] = {
        "Version": 1,
        "AccessKeyId": "ASIAPROCESSPROCESS01",
        "SecretAccessKey": "processSECRETprocessSECRET",
        "SessionToken": "processTOKEN",
    }
    if expires_in is not None:
        document["Expiration"] = (datetime.now(timezone.utc) + expires_in).isoformat()
    script = tmp_path / "process.py"
    script.write_text(
        f"with open({str(counter)!r}, 'a') as f:\n    f.write('run\\n')\n"
        f"print({json.dumps(json.dumps(document))})\n"
    )
    home.write_config(
        home.config.read_text()
        + f"\n[profile proc]\ncredential_process = {sys.executable} {script}\n"
        + f"[profile proc-role]\nrole_arn = {role_arn('FromProcess')}\nsource_profile = proc\n"
    )
    return counter


def runs(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def test_credential_process_result_is_cached_while_it_lasts(home: Home, tmp_path: Path) -> None:
    counter = process_profile(home, tmp_path, timedelta(hours=1))

    first = run_awsrun(["proc", "--", "sh", "-c", "echo $AWS_ACCESS_KEY_ID"], home.env)
    second = run_awsrun(["proc", "--", "sh", "-c", "echo $AWS_ACCESS_KEY_ID"], home.env)

    assert first.stdout == second.stdout == "ASIAPROCESSPROCESS01\n", first.stderr
    assert runs(counter) == 1


def test_credential_process_without_expiry_is_not_cached(home: Home, tmp_path: Path) -> None:
    counter = process_profile(home, tmp_path, None)

    for _ in range(2):
        assert run_awsrun(["proc", "--", "true"], home.env).returncode == 0

    assert runs(counter) == 2
    assert home.cache_entries() == []


def test_a_role_sourced_from_credential_process(home: Home, tmp_path: Path, sts: LocalSts) -> None:
    process_profile(home, tmp_path, timedelta(hours=1))
    result = run_awsrun(["proc-role", "--", *child_command()], home.env)

    assert result.returncode == 0, result.stderr
    assert "assumed-role/FromProcess/" in json.loads(result.stdout)["arn"]
    assert sts.assumed_roles()[0]["access_key_id"] != "ASIAPROCESSPROCESS01"


def test_sts_endpoint_variable_wins_over_the_general_one(home: Home, sts: LocalSts) -> None:
    env = {
        **home.env,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ENDPOINT_URL_STS": sts.endpoint,
    }
    result = run_awsrun(["prod", "--", "true"], env)

    assert result.returncode == 0, result.stderr
    assert len(sts.assumed_roles()) == 1


def test_lock_wait_is_bounded_names_the_lock_and_says_who_holds_it(
    home: Home, sts: LocalSts
) -> None:
    mfa_config(home, None)
    holder = at_mfa_prompt(home.env, "admin", SERIAL)
    try:
        waiter = run_awsrun(
            ["--mfa-code", "123456", "admin", "--", "true"],
            {**home.env, "AWSRUN_LOCK_TIMEOUT": "2"},
        )
    finally:
        holder.terminate(force=True)

    assert waiter.returncode == 125
    assert ".lock" in waiter.stderr
    assert "AWSRUN_LOCK_TIMEOUT" in waiter.stderr
    # The last line names the holder again, and what it is likely doing; no `fuser` hunt.
    last = waiter.stderr.splitlines()[-1]
    assert f"another awsrun (pid {holder.pid})" in last
    assert "it is asking for an MFA code in another terminal" in last
    assert "fuser" not in last
    # Said once, a second into the wait: who holds the lock, and what it is doing (it
    # said so in the lock file).
    assert f"waiting for another awsrun (pid {holder.pid}) fetching" in waiter.stderr
    assert "it is asking for an MFA code in another terminal" in waiter.stderr
    assert sts.session_tokens() == 0


def test_a_killed_lock_holder_does_not_block_the_next_run(home: Home, sts: LocalSts) -> None:
    mfa_config(home, None)
    holder = at_mfa_prompt(home.env, "admin", SERIAL)
    holder.kill(9)
    holder.close(force=True)

    result = run_awsrun(
        ["--mfa-code", "123456", "admin", "--", "true"], {**home.env, "AWSRUN_LOCK_TIMEOUT": "10"}
    )

    assert result.returncode == 0, result.stderr
    assert sts.session_tokens() == 1


@pytest.mark.parametrize(
    ("args", "handoff"),
    [
        (["prod", "--", "true"], "awsrun.handoff.execute"),
        (["env", "prod"], "awsrun.handoff.formats"),
        (["credential-process", "prod"], "awsrun.handoff.formats"),
    ],
    ids=["exec", "env", "credential-process"],
)
def test_cache_hit_imports_no_boto3_filelock_json_or_signal(
    home: Home, sts: LocalSts, args: list[str], handoff: str
) -> None:
    assert run_awsrun(args, home.env).returncode == 0
    hit = run_awsrun(args, {**home.env, "PYTHONPROFILEIMPORTTIME": "1"})

    imported = {line.split("|")[-1].strip() for line in hit.stderr.splitlines() if "|" in line}
    # json (with re, enum and collections) would cost a hit more than half of Python's start.
    # Not re itself: the entry-point script of older pips imports it before awsrun starts.
    # Nor `signal`, which loads enum: restoring dispositions before exec uses `_signal`.
    banned = {"boto3", "botocore", "filelock", "json", "signal", "collections"}
    assert not {name for name in imported if name.split(".")[0] in banned}
    assert {name for name in imported if name.split(".")[0] == "awsrun"} == HIT_PATH | {handoff}
    assert len(sts.assumed_roles()) == 1


def add_credential_source_role(home: Home, profile: str, role: str, source: str) -> None:
    home.write_config(
        home.config.read_text()
        + f"\n[profile {profile}]\nrole_arn = {role_arn(role)}\ncredential_source = {source}\n"
    )


def test_credential_source_environment(home: Home, sts: LocalSts) -> None:
    add_credential_source_role(home, "from-env", "FromEnv", "Environment")
    env = {
        **home.env,
        "AWS_ACCESS_KEY_ID": "AKIAFROMTHEENVIRON01",
        "AWS_SECRET_ACCESS_KEY": "envSECRETenvSECRET",
    }
    result = run_awsrun(["from-env", "--", *child_command()], env)
    missing = run_awsrun(["from-env", "--", "true"], home.env)

    assert result.returncode == 0, result.stderr
    assert "assumed-role/FromEnv/" in json.loads(result.stdout)["arn"]
    assert sts.assumed_roles()[0]["access_key_id"] != "AKIAFROMTHEENVIRON01"
    assert missing.returncode == 125
    assert "AWS_ACCESS_KEY_ID" in missing.stderr


def test_credential_source_ecs_container_from_awsruns_own_server(home: Home, sts: LocalSts) -> None:
    # The outer awsrun serves the container endpoint; the inner one's role takes its
    # source credentials from there, as it would inside ECS.
    add_credential_source_role(home, "from-ecs", "FromEcs", "EcsContainer")
    result = run_awsrun(
        ["--server", "prod", "--", awsrun_executable(), "from-ecs", "--", *child_command()],
        home.env,
    )

    assert result.returncode == 0, result.stderr
    assert "assumed-role/FromEcs/" in json.loads(result.stdout)["arn"]
    assert [call["role_arn"] for call in sts.assumed_roles()] == [
        role_arn("Prod"),
        role_arn("FromEcs"),
    ]


def test_credential_source_ec2_instance_metadata(home: Home, sts: LocalSts) -> None:
    # moto's server also plays the instance metadata service (IMDSv2).
    add_credential_source_role(home, "from-ec2", "FromEc2", "Ec2InstanceMetadata")
    env = {
        **home.env,
        "AWS_EC2_METADATA_DISABLED": "false",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": sts.endpoint,
    }
    result = run_awsrun(["from-ec2", "--", *child_command()], env)

    assert result.returncode == 0, result.stderr
    assert "assumed-role/FromEc2/" in json.loads(result.stdout)["arn"]
