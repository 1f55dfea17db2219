"""Faults made to happen for real: an STS that throttles, fails, rejects or hangs; a cache
folder that cannot be written; a full disk; a process killed mid-refresh; a lock holder
that is stopped; Ctrl-C at a prompt. Each must end in the command running, or in exit 125
with one line that says what to do: never a traceback, a hang or a half-written file."""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pexpect
import pytest
from conftest import (
    SERIAL,
    Home,
    at_mfa_prompt,
    awsrun_executable,
    child_command,
    entry_fields,
    mfa_config,
    role_arn,
    run_awsrun,
)
from fakests import WRONG_CODE, FakeSts, fake_sts
from localsts import LocalSts

from awsrun.credentials.cache import ENTRY_VERSION


@pytest.fixture
def bad_sts(home: Home) -> Iterator[FakeSts]:
    with fake_sts() as server:
        home.env["AWS_ENDPOINT_URL"] = server.endpoint
        home.write_config(
            home.config.read_text()
            + "".join(
                f"\n[profile {name.lower()}]\nrole_arn = {role_arn(name)}\nsource_profile = mid\n"
                for name in ("Throttled", "Broken", "Expired", "Revoked", "Denied", "Hanging")
            )
            + f"\n[profile mid]\nrole_arn = {role_arn('Mid')}\nsource_profile = default\n"
        )
        yield server


@pytest.mark.parametrize(
    ("profile", "reason"), [("throttled", "Throttling"), ("broken", "InternalFailure")]
)
def test_throttling_and_5xx_are_retried_a_bounded_number_of_times(
    home: Home, bad_sts: FakeSts, profile: str, reason: str
) -> None:
    result = run_awsrun([profile, "--", "true"], home.env)

    assert result.returncode == 125
    assert reason in result.stderr
    assert result.stderr.count("\n") == 1
    assert bad_sts.requests.count(profile.capitalize()) == 3


@pytest.mark.parametrize("profile", ["expired", "revoked"])
def test_rejected_source_names_it_and_is_not_kept(
    home: Home, bad_sts: FakeSts, profile: str
) -> None:
    result = run_awsrun([profile, "--", "true"], home.env)

    assert result.returncode == 125
    assert "'mid'" in result.stderr
    assert "awsrun dropped them: run the same awsrun command" in result.stderr
    # `mid` was fetched to sign the call and cached; STS refused it, so it is gone.
    assert home.cache_entries() == []
    assert bad_sts.requests.count("Mid") == 1


def test_keys_from_the_file_that_sts_refuses_are_named_with_their_file(
    home: Home, bad_sts: FakeSts
) -> None:
    home.write_config(
        home.config.read_text()
        + f"\n[profile straight]\nrole_arn = {role_arn('Revoked')}\nsource_profile = default\n"
    )

    result = run_awsrun(["straight", "--", "true"], home.env)

    assert result.returncode == 125
    assert f"STS refused the keys of profile 'default' in {home.credentials}" in result.stderr
    assert "cannot help keys from a file" in result.stderr


def test_a_wrong_mfa_code_is_said_to_be_wrong(home: Home, bad_sts: FakeSts) -> None:
    mfa_config(home, None)

    given = run_awsrun(["--mfa-code", WRONG_CODE, "admin", "--", "true"], home.env)

    assert given.returncode == 125
    assert "it was wrong, or already used" in given.stderr
    assert "trust policy" not in given.stderr


def test_a_wrong_code_typed_on_the_terminal_is_asked_again(home: Home, bad_sts: FakeSts) -> None:
    mfa_config(home, None)
    prompt = at_mfa_prompt(home.env, "admin", SERIAL)
    prompt.sendline(WRONG_CODE)
    prompt.expect("type the next one")
    prompt.expect(f"MFA code for {SERIAL}")
    prompt.sendline("123456")
    prompt.expect(pexpect.EOF)
    prompt.close()

    assert prompt.exitstatus == 0
    assert bad_sts.requests.count("GetSessionToken") == 2


def test_access_denied_names_the_role_and_the_source(home: Home, bad_sts: FakeSts) -> None:
    result = run_awsrun(["denied", "--", "true"], home.env)

    assert result.returncode == 125
    assert role_arn("Denied") in result.stderr
    assert "'mid'" in result.stderr
    assert "trust policy" in result.stderr


def test_a_hanging_sts_ends_in_125_naming_the_endpoint(home: Home, bad_sts: FakeSts) -> None:
    # Bounded by the client's timeouts (15 s to answer, 3 tries); the subprocess bound of
    # 75 s only keeps a regression from hanging the suite.
    result = run_awsrun(["-v", "hanging", "--", "true"], home.env, timeout=75)

    assert result.returncode == 125
    assert bad_sts.endpoint in result.stderr
    assert bad_sts.requests.count("Hanging") == 3
    # Not 45 s of silence: what it waits for, once, and with -v each new try.
    assert result.stderr.count(f"waiting for STS at {bad_sts.endpoint}") == 1
    assert "try 2 of 3" in result.stderr
    assert "try 3 of 3" in result.stderr


def test_unwritable_cache_folder_warns_once_and_runs(home: Home, sts: LocalSts) -> None:
    blocker = home.path / "not-a-folder"
    blocker.write_text("")
    env = {**home.env, "AWSRUN_CACHE_DIR": str(blocker / "awsrun")}

    result = run_awsrun(["prod", "--", *child_command()], env)

    assert result.returncode == 0
    assert "assumed-role/Prod/" in json.loads(result.stdout)["arn"]
    assert result.stderr.count("awsrun:") == 1
    assert "AWSRUN_CACHE_DIR" in result.stderr


# A full disk, for this process alone: writes past this many bytes fail with EFBIG (ENOSPC
# on a real one). 0: not even the lock file's pid note fits; 200: it does, the entry does not.
@pytest.mark.parametrize("room", [0, 200])
def test_a_full_disk_leaves_nothing_half_written(home: Home, sts: LocalSts, room: int) -> None:
    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, room))

    result = subprocess.run(
        [awsrun_executable(), "prod", "--", *child_command()],
        env=home.env,
        capture_output=True,
        text=True,
        preexec_fn=limit_file_size,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "unexpected" not in result.stderr
    assert "assumed-role/Prod/" in json.loads(result.stdout)["arn"]
    assert "cannot be written (File too large)" in result.stderr
    assert result.stderr.count("awsrun:") == 1
    assert [path.name for path in home.cache.iterdir() if not path.name.endswith(".lock")] == []


def test_killed_at_any_moment_of_a_refresh_leaves_a_usable_cache(home: Home, sts: LocalSts) -> None:
    rng = random.Random(7)  # noqa: S311 - kill times, not secrets
    for _ in range(8):
        process = subprocess.Popen(
            [awsrun_executable(), "--refresh", "prod", "--", "true"],
            env=home.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.05, 0.6))
        process.kill()
        process.wait(timeout=30)
        for entry in home.cache_entries():  # complete or absent, never half
            assert entry_fields(entry)["version"] == str(ENTRY_VERSION)
    after = run_awsrun(["prod", "--", *child_command()], {**home.env, "AWSRUN_LOCK_TIMEOUT": "5"})

    assert after.returncode == 0, after.stderr
    assert "assumed-role/Prod/" in json.loads(after.stdout)["arn"]


def test_a_stopped_lock_holder_is_waited_for_only_up_to_the_bound(
    home: Home, sts: LocalSts
) -> None:
    mfa_config(home, None)
    holder = at_mfa_prompt(home.env, "admin", SERIAL)
    os.kill(holder.pid, signal.SIGSTOP)
    try:
        waiter = run_awsrun(
            ["--mfa-code", "123456", "admin", "--", "true"],
            {**home.env, "AWSRUN_LOCK_TIMEOUT": "2"},
        )
    finally:
        os.kill(holder.pid, signal.SIGCONT)
        holder.terminate(force=True)

    assert waiter.returncode == 125
    assert str(home.cache) in waiter.stderr
    assert ".lock" in waiter.stderr


def test_ctrl_c_at_the_mfa_prompt_exits_130_and_releases_the_lock(
    home: Home, sts: LocalSts
) -> None:
    mfa_config(home, None)
    prompt = at_mfa_prompt(home.env, "admin", SERIAL)
    prompt.sendintr()
    prompt.expect(pexpect.EOF)
    said = prompt.before
    prompt.close()
    after = run_awsrun(
        ["--mfa-code", "123456", "admin", "--", "true"], {**home.env, "AWSRUN_LOCK_TIMEOUT": "5"}
    )

    assert prompt.exitstatus == 130 or prompt.signalstatus == signal.SIGINT
    assert "Traceback" not in said
    assert after.returncode == 0, after.stderr
    assert [entry_fields(entry)["version"] for entry in home.cache_entries()] == [
        str(ENTRY_VERSION)
    ] * 2


def test_ctrl_c_while_waiting_for_the_lock_exits_130(home: Home, sts: LocalSts) -> None:
    mfa_config(home, None)
    holder = at_mfa_prompt(home.env, "admin", SERIAL)
    try:
        waiter = subprocess.Popen(
            [awsrun_executable(), "--mfa-code", "123456", "admin", "--", "true"],
            env=home.env,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        # awsrun reaches the lock in about 50 ms; two seconds leave room for a busy machine
        # (a SIGINT during Python's own start-up would end it before awsrun could answer).
        time.sleep(2.0)
        waiter.send_signal(signal.SIGINT)
        _, stderr = waiter.communicate(timeout=30)
    finally:
        holder.terminate(force=True)

    assert waiter.returncode == 130
    # Nothing but the line that says what it waited for: no traceback.
    assert [line.split(" (pid")[0] for line in stderr.splitlines()] == [
        "awsrun: waiting for another awsrun"
    ]


def test_64_concurrent_cold_runs_over_8_profiles(home: Home, sts: LocalSts) -> None:
    names = [f"team{n}" for n in range(8)]
    home.write_config(
        home.config.read_text()
        + "".join(
            f"\n[profile {name}]\nrole_arn = {role_arn(name.capitalize())}\n"
            "source_profile = default\n"
            for name in names
        )
    )
    script = 'printf "%s %s" "$AWSRUN_PROFILE" "$AWS_ACCESS_KEY_ID"'

    def run(index: int) -> tuple[int, str, str]:
        name = names[index % 8]
        result = run_awsrun([name, "--", "sh", "-c", script], home.env, timeout=120)
        return result.returncode, name, result.stdout

    with ThreadPoolExecutor(max_workers=64) as pool:
        outcomes = list(pool.map(run, range(64)))

    assert [code for code, _, _ in outcomes] == [0] * 64
    keys: dict[str, set[str]] = {}
    for _, name, stdout in outcomes:
        profile, key = stdout.split()
        assert profile == name
        keys.setdefault(name, set()).add(key)
    assert all(len(found) == 1 for found in keys.values())
    assert len({next(iter(found)) for found in keys.values()}) == 8
    calls = [str(call["role_arn"]) for call in sts.assumed_roles()]
    assert sorted(calls) == sorted(role_arn(name.capitalize()) for name in names)


def test_a_time_zone_never_changes_what_is_fresh(home: Home, sts: LocalSts) -> None:
    run_awsrun(["prod", "--", "true"], home.env)
    for zone in ("UTC", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Kiritimati"):
        hit = run_awsrun(["-v", "--min-ttl", "50m", "prod", "--", "true"], {**home.env, "TZ": zone})
        assert "from the cache" in hit.stderr, zone
        miss = run_awsrun(
            ["-v", "--min-ttl", "61m", "prod", "--", "true"], {**home.env, "TZ": zone}
        )
        assert "refreshing" in miss.stderr, zone


def test_ctrl_c_while_waiting_for_sts_exits_130_quietly(home: Home, bad_sts: FakeSts) -> None:
    process = subprocess.Popen(
        [awsrun_executable(), "hanging", "--", "true"],
        env=home.env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while "Hanging" not in bad_sts.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 130
    assert stderr == ""
    assert not list(home.cache.glob(".*.tmp"))  # no write was left half done


def test_temporary_files_stay_out_of_the_shared_tmp(
    home: Home, sts: LocalSts, tmp_path: Path
) -> None:
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    result = run_awsrun(["prod", "--", "true"], {**home.env, "TMPDIR": str(shared)})

    assert result.returncode == 0
    assert home.cache_entries()
    assert list(shared.iterdir()) == []


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A real read-only file system (a tmpfs remounted read-only); needs root."""
    mount_point = tmp_path / "ro"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("this machine does not let the tests mount a tmpfs")
    try:
        (mount_point / "cache").mkdir(mode=0o700)
        subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], check=True)
        yield mount_point / "cache"
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_a_read_only_file_system_warns_once_and_runs(
    home: Home, sts: LocalSts, read_only_folder: Path
) -> None:
    result = run_awsrun(
        ["prod", "--", *child_command()], {**home.env, "AWSRUN_CACHE_DIR": str(read_only_folder)}
    )

    assert result.returncode == 0, result.stderr
    assert "assumed-role/Prod/" in json.loads(result.stdout)["arn"]
    assert result.stderr.count("awsrun:") == 1
    assert "Read-only file system" in result.stderr
    assert list(read_only_folder.iterdir()) == []


def test_a_run_waiting_on_a_slow_sts_call_says_that_not_mfa(home: Home, bad_sts: FakeSts) -> None:
    holder = subprocess.Popen(
        [awsrun_executable(), "hanging", "--", "true"],
        env=home.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(300):  # until the holder is in its STS call, at most 30 s
            if "Hanging" in bad_sts.requests:
                break
            time.sleep(0.1)
        waiter = run_awsrun(["hanging", "--", "true"], {**home.env, "AWSRUN_LOCK_TIMEOUT": "3"})
    finally:
        holder.kill()
        holder.wait()

    assert waiter.returncode == 125
    assert waiter.stderr.splitlines()[0] == (
        f"awsrun: waiting for another awsrun (pid {holder.pid}) fetching role 'hanging' for up "
        "to 3s: its call to AWS is slow"
    )
    assert "MFA" not in waiter.stderr
