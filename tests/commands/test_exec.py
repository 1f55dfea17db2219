"""awsrun as users run it: the installed entry point, a local STS, real children."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from conftest import (
    ROOT_KEY_ID,
    ROOT_SECRET,
    Home,
    awsrun_executable,
    child_command,
    entry_fields,
    role_arn,
    run_awsrun,
    term_reaches_the_command,
)
from localsts import LocalSts

from awsrun.credentials.cache import ENTRY_VERSION

ASSUMED_PROD = "arn:aws:sts::123456789012:assumed-role/Prod/"


def identity_of(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def child_env(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    env = identity_of(result)["env"]
    assert isinstance(env, dict)
    return env


def seconds_left(env: dict[str, str]) -> float:
    expiration = datetime.fromisoformat(env["AWS_CREDENTIAL_EXPIRATION"])
    return (expiration - datetime.now(timezone.utc)).total_seconds()


def test_role_profile_gives_the_child_working_role_credentials(home: Home, sts: LocalSts) -> None:
    result = run_awsrun(["prod", "--", *child_command()], home.env)

    assert str(identity_of(result)["arn"]).startswith(ASSUMED_PROD)
    env = child_env(result)
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert env["AWS_SESSION_TOKEN"]
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-central-1"
    assert env["AWSRUN_PROFILE"] == "prod"
    assert datetime.fromisoformat(env["AWS_CREDENTIAL_EXPIRATION"]).utcoffset() is not None
    assert [call["role_arn"] for call in sts.assumed_roles()] == [role_arn("Prod")]


def test_second_run_is_served_from_the_cache(home: Home, sts: LocalSts) -> None:
    first = child_env(run_awsrun(["prod", "--", *child_command()], home.env))
    second = run_awsrun(["-v", "prod", "--", *child_command()], home.env)

    assert child_env(second)["AWS_ACCESS_KEY_ID"] == first["AWS_ACCESS_KEY_ID"]
    # -v says where the credentials came from, the entry's age and what is left
    assert re.search(r"from the cache \(obtained \d+s ago, \d+m left\)", second.stderr)
    assert len(sts.assumed_roles()) == 1


def test_cache_files_are_private(home: Home, sts: LocalSts) -> None:
    run_awsrun(["prod", "--", "true"], home.env)

    assert stat.S_IMODE(home.cache.stat().st_mode) == 0o700
    entries = list(home.cache.iterdir())
    assert entries
    for entry in entries:
        assert stat.S_IMODE(entry.stat().st_mode) == 0o600, entry
        assert ROOT_KEY_ID not in entry.name


def test_min_ttl_longer_than_what_is_left_fetches_again(home: Home, sts: LocalSts) -> None:
    run_awsrun(["prod", "--", "true"], home.env)
    # moto's sessions last 1 hour: 61 minutes can never be left.
    refreshed = run_awsrun(["--min-ttl", "61m", "prod", "--", "true"], home.env)
    from_env = run_awsrun(["prod", "--", "true"], {**home.env, "AWSRUN_MIN_TTL": "3700"})
    within_margin = run_awsrun(["--min-ttl", "50m", "prod", "--", "true"], home.env)

    assert refreshed.returncode == from_env.returncode == within_margin.returncode == 0
    assert "less than" in refreshed.stderr  # says the new session cannot meet the margin
    assert len(sts.assumed_roles()) == 3


def test_refresh_fetches_whatever_the_cache_holds(home: Home, sts: LocalSts) -> None:
    first = child_env(run_awsrun(["prod", "--", *child_command()], home.env))
    second = child_env(run_awsrun(["--refresh", "prod", "--", *child_command()], home.env))

    assert second["AWS_ACCESS_KEY_ID"] != first["AWS_ACCESS_KEY_ID"]
    assert len(sts.assumed_roles()) == 2


def test_duration_sets_the_session_length(home: Home, sts: LocalSts) -> None:
    env = child_env(run_awsrun(["--duration", "2h", "prod", "--", *child_command()], home.env))

    assert 7000 < seconds_left(env) <= 7200


def test_profile_duration_seconds_is_used(home: Home, sts: LocalSts) -> None:
    home.write_config(
        home.config.read_text() + f"\n[profile long]\nrole_arn = {role_arn('Long')}\n"
        "source_profile = default\nduration_seconds = 5400\n"
    )
    env = child_env(run_awsrun(["long", "--", *child_command()], home.env))

    assert 5300 < seconds_left(env) <= 5400


def test_role_chain_is_capped_at_one_hour_and_says_so(home: Home, sts: LocalSts) -> None:
    result = run_awsrun(["--duration", "3h", "second", "--", *child_command()], home.env)

    assert "arn:aws:sts::123456789012:assumed-role/Second/" in str(identity_of(result)["arn"])
    assert seconds_left(child_env(result)) <= 3600
    assert result.stderr.count("1h") >= 1
    assert [call["role_arn"] for call in sts.assumed_roles()] == [
        role_arn("Prod"),
        role_arn("Second"),
    ]


def test_intermediate_roles_are_cached_and_shared(home: Home, sts: LocalSts) -> None:
    run_awsrun(["second", "--", "true"], home.env)
    run_awsrun(["prod", "--", "true"], home.env)

    # `prod` was cached as the source of `second`: asking for it needs no new call.
    assert [call["role_arn"] for call in sts.assumed_roles()] == [
        role_arn("Prod"),
        role_arn("Second"),
    ]


def test_corrupt_cache_entry_is_a_miss(home: Home, sts: LocalSts) -> None:
    run_awsrun(["prod", "--", "true"], home.env)
    for entry in home.cache_entries():
        entry.write_text(f"[awsrun-entry]\nversion = {ENTRY_VERSION}\naws_access_key_id = trunc")

    result = run_awsrun(["prod", "--", *child_command()], home.env)

    assert str(identity_of(result)["arn"]).startswith(ASSUMED_PROD)
    assert len(sts.assumed_roles()) == 2
    assert all(
        entry_fields(entry)["version"] == str(ENTRY_VERSION) for entry in home.cache_entries()
    )


def test_editing_the_role_or_swapping_keys_never_reuses_old_credentials(
    home: Home, sts: LocalSts
) -> None:
    run_awsrun(["prod", "--", "true"], home.env)
    home.write_config(home.config.read_text().replace("role/Prod", "role/Prod2"))
    moved = run_awsrun(["prod", "--", *child_command()], home.env)
    home.write_credentials(
        home.credentials.read_text().replace(ROOT_KEY_ID, "AKIAAWSRUNTESTROOT02")
    )
    swapped = run_awsrun(["prod", "--", "true"], home.env)

    assert "assumed-role/Prod2/" in str(identity_of(moved)["arn"])
    assert swapped.returncode == 0
    assert len(sts.assumed_roles()) == 3


def test_sixteen_concurrent_cold_runs_make_one_sts_call(home: Home, sts: LocalSts) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(lambda _: run_awsrun(["prod", "--", *child_command()], home.env), range(16))
        )

    keys = {child_env(result)["AWS_ACCESS_KEY_ID"] for result in results}
    assert len(keys) == 1
    assert len(sts.assumed_roles()) == 1


def test_static_profile_is_passed_through_without_sts(home: Home, sts: LocalSts) -> None:
    env = child_env(run_awsrun(["default", "--", *child_command()], home.env))

    assert env["AWS_ACCESS_KEY_ID"] == ROOT_KEY_ID
    assert env["AWS_SECRET_ACCESS_KEY"] == ROOT_SECRET
    assert "AWS_SESSION_TOKEN" not in env
    assert "AWS_CREDENTIAL_EXPIRATION" not in env
    assert sts.assumed_roles() == []


def test_stale_variables_of_the_caller_are_removed(home: Home, sts: LocalSts) -> None:
    caller = {
        **home.env,
        "AWS_PROFILE": "prod",
        "AWS_DEFAULT_PROFILE": "prod",
        "AWS_SECURITY_TOKEN": "stale-token",
        "AWS_SESSION_TOKEN": "stale-token",
        "AWS_CREDENTIAL_EXPIRATION": "2000-01-01T00:00:00+00:00",
    }
    env = child_env(run_awsrun(["default", "--", *child_command()], caller))

    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SECURITY_TOKEN",
        "AWS_SESSION_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
    ):
        assert name not in env, name


def test_no_profile_uses_aws_profile_then_default(home: Home, sts: LocalSts) -> None:
    from_profile = run_awsrun(["--", *child_command()], {**home.env, "AWS_PROFILE": "prod"})
    from_default = child_env(run_awsrun(["--", *child_command()], home.env))

    assert str(identity_of(from_profile)["arn"]).startswith(ASSUMED_PROD)
    assert from_default["AWS_ACCESS_KEY_ID"] == ROOT_KEY_ID


def test_nested_runs_run_the_command_as_the_inner_profile(home: Home, sts: LocalSts) -> None:
    result = run_awsrun(
        ["dev", "--", awsrun_executable(), "prod", "--", *child_command()], home.env
    )

    assert str(identity_of(result)["arn"]).startswith(ASSUMED_PROD)
    assert [call["role_arn"] for call in sts.assumed_roles()] == [role_arn("Dev"), role_arn("Prod")]


def test_command_without_double_dash(home: Home, sts: LocalSts) -> None:
    result = run_awsrun(["prod", *child_command()], home.env)

    assert str(identity_of(result)["arn"]).startswith(ASSUMED_PROD)


def test_exit_status_is_the_commands_own(home: Home, sts: LocalSts) -> None:
    assert run_awsrun(["default", "--", "sh", "-c", "exit 3"], home.env).returncode == 3
    assert run_awsrun(["default", "--", "sh", "-c", "exit 125"], home.env).returncode == 125


def test_command_not_found_is_127_and_not_executable_is_126(home: Home, tmp_path: Path) -> None:
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\n")

    missing = run_awsrun(["default", "--", "no-such-command-awsrun"], home.env)
    denied = run_awsrun(["default", "--", str(script)], home.env)

    assert missing.returncode == 127
    assert missing.stderr.startswith("awsrun: no-such-command-awsrun")
    assert denied.returncode == 126
    assert "Traceback" not in missing.stderr + denied.stderr


def test_the_command_keeps_awsruns_pid(home: Home, sts: LocalSts) -> None:
    process = subprocess.Popen(
        [awsrun_executable(), "prod", "--", *child_command()],
        env=home.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 0, stderr
    assert json.loads(stdout)["pid"] == process.pid


def test_signals_reach_the_command_directly(home: Home, tmp_path: Path) -> None:
    said = term_reaches_the_command(["default"], home.env, tmp_path / "ready")

    assert "got-term" in said


def test_unknown_profile_names_the_files_and_close_names(home: Home) -> None:
    result = run_awsrun(["prdo", "--", "true"], home.env)

    assert result.returncode == 125
    assert "'prdo'" in result.stderr
    assert "prod" in result.stderr
    assert str(home.config) in result.stderr
    assert result.stderr.count("\n") == 1


def test_source_profile_loop_names_the_profiles(home: Home) -> None:
    home.write_config(
        f"[profile a]\nrole_arn = {role_arn('A')}\nsource_profile = b\n"
        f"[profile b]\nrole_arn = {role_arn('B')}\nsource_profile = a\n"
    )
    result = run_awsrun(["a", "--", "true"], home.env)

    assert result.returncode == 125
    assert "a -> b -> a" in result.stderr


def test_role_without_source_is_a_clear_error(home: Home) -> None:
    home.write_config(f"[profile lonely]\nrole_arn = {role_arn('Lonely')}\n")
    result = run_awsrun(["lonely", "--", "true"], home.env)

    assert result.returncode == 125
    assert "source_profile" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_sts_names_the_endpoint(home: Home) -> None:
    env = {**home.env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    result = run_awsrun(["prod", "--", "true"], env)

    assert result.returncode == 125
    assert "http://127.0.0.1:9" in result.stderr
    assert result.stderr.count("\n") == 1


def test_usage_errors_exit_125(home: Home) -> None:
    assert run_awsrun(["--no-such-option", "prod"], home.env).returncode == 125
    assert run_awsrun(["--duration", "soon", "prod", "--", "true"], home.env).returncode == 125
    assert run_awsrun([], home.env).returncode == 125


def test_a_bad_min_ttl_in_the_environment_is_named(home: Home) -> None:
    result = run_awsrun(["prod", "--", "true"], {**home.env, "AWSRUN_MIN_TTL": "soon"})

    assert result.returncode == 125
    assert result.stderr.startswith("awsrun: AWSRUN_MIN_TTL takes a duration")


def test_help_and_version(home: Home) -> None:
    shown = run_awsrun(["--help"], home.env)

    assert shown.returncode == 0
    assert shown.stdout.startswith("usage: awsrun")
    assert len(shown.stdout.splitlines()) <= 40
    assert run_awsrun(["--version"], home.env).stdout.startswith("awsrun ")


def test_python_dash_m_runs_the_same_cli(home: Home) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "awsrun", "--version"],
        capture_output=True,
        text=True,
        env=home.env,
        check=False,
    )

    assert result.returncode == 0
    assert result.stdout.startswith("awsrun ")


def test_no_secret_reaches_stderr(home: Home, sts: LocalSts) -> None:
    outputs = [
        run_awsrun(["-v", "prod", "--", *child_command()], home.env),
        run_awsrun(["-v", "--refresh", "second", "--", *child_command()], home.env),
        run_awsrun(["-v", "--debug", "prod", "--", *child_command()], home.env),
    ]
    secrets = {ROOT_SECRET}
    for result in outputs:
        env = child_env(result)
        secrets.update({env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"]})

    for result in outputs:
        for secret in secrets:
            assert secret not in result.stderr
