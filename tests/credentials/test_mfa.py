"""One MFA code per device: a GetSessionToken session shared by every role and every
concurrent run, and codes from --mfa-code, mfa_process or the terminal."""

from __future__ import annotations

import io
import json
import shlex
import subprocess
import sys
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
    mfa_config,
    role_arn,
    run_awsrun,
)
from localsts import LocalSts


@pytest.fixture
def code_counter(tmp_path: Path) -> Path:
    """A code source that counts how often it was asked, as a YubiKey reader would be."""
    counter = tmp_path / "asked"
    script = tmp_path / "code.py"
    script.write_text(
        f"with open({str(counter)!r}, 'a') as f:\n    f.write('asked\\n')\nprint('123456')\n"
    )
    return counter


def times_asked(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def test_eight_concurrent_runs_ask_once_and_a_second_role_reuses_the_session(
    home: Home, sts: LocalSts, code_counter: Path
) -> None:
    mfa_config(home, f"{sys.executable} {code_counter.parent / 'code.py'}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: run_awsrun(["admin", "--", "true"], home.env), range(8)))
    audit = run_awsrun(["audit", "--", *child_command()], home.env)

    assert [result.returncode for result in results] == [0] * 8, [r.stderr for r in results]
    assert "assumed-role/Audit/" in json.loads(audit.stdout)["arn"]
    assert times_asked(code_counter) == 1
    assert sts.session_tokens() == 1
    assert [call["role_arn"] for call in sts.assumed_roles()] == [
        role_arn("Admin"),
        role_arn("Audit"),
    ]


def test_mfa_code_option_needs_no_other_source(home: Home, sts: LocalSts) -> None:
    mfa_config(home, None)
    result = run_awsrun(["--mfa-code", "654321", "admin", "--", *child_command()], home.env)

    assert result.returncode == 0, result.stderr
    assert "654321" not in result.stderr
    assert sts.session_tokens() == 1


def test_no_terminal_and_no_code_fails_at_once_with_what_to_do(home: Home, sts: LocalSts) -> None:
    mfa_config(home, None)
    result = run_awsrun(["admin", "--", "true"], home.env, timeout=30)

    assert result.returncode == 125
    assert "--mfa-code" in result.stderr
    assert "mfa_process" in result.stderr
    assert sts.session_tokens() == 0


def test_a_malformed_code_is_refused_without_echoing_it(home: Home, sts: LocalSts) -> None:
    mfa_config(home, None)
    result = run_awsrun(["--mfa-code", "12ab5", "admin", "--", "true"], home.env)

    assert result.returncode == 125
    assert "12ab5" not in result.stderr


def test_prompt_on_the_terminal_while_stdio_is_redirected(
    home: Home, sts: LocalSts, tmp_path: Path
) -> None:
    mfa_config(home, None)
    output = tmp_path / "out.json"
    command = " ".join(
        shlex.quote(part) for part in [awsrun_executable(), "admin", "--", *child_command()]
    )
    session = pexpect.spawn(
        "/bin/sh",
        ["-c", f"{command} </dev/null >{shlex.quote(str(output))}"],
        env=home.env,
        encoding="utf-8",
        timeout=60,
    )
    session.expect("MFA code for " + SERIAL)
    session.sendline("123456")
    session.expect(pexpect.EOF)
    said = session.before
    session.close()

    assert session.exitstatus == 0, said
    assert "assumed-role/Admin/" in json.loads(output.read_text())["arn"]
    assert sts.session_tokens() == 1


def test_refresh_renews_the_role_and_keeps_the_mfa_session(
    home: Home, sts: LocalSts, code_counter: Path
) -> None:
    mfa_config(home, f"{sys.executable} {code_counter.parent / 'code.py'}")

    first = run_awsrun(["admin", "--", "true"], home.env)
    refreshed = run_awsrun(["--refresh", "admin", "--", "true"], home.env)

    assert first.returncode == refreshed.returncode == 0, refreshed.stderr
    assert times_asked(code_counter) == 1  # no second code
    assert sts.session_tokens() == 1
    assert [call["role_arn"] for call in sts.assumed_roles()] == [role_arn("Admin")] * 2


def test_runs_sharing_the_prompts_terminal_write_nothing_over_it(home: Home, sts: LocalSts) -> None:
    # `make -j4` in one terminal: four runs of one MFA profile, one prompt.
    mfa_config(home, None)
    four = f"for i in 1 2 3 4; do {shlex.quote(awsrun_executable())} admin -- true & done; wait"
    session = pexpect.spawn("sh", ["-c", four], env=home.env, encoding="utf-8", timeout=60)
    session.logfile_read = transcript = io.StringIO()
    session.expect(r"MFA code for \S+ \(admin\): ")
    # The other three wait on the lock; a second into the wait they would say so.
    session.expect(pexpect.TIMEOUT, timeout=3)
    after_the_prompt = session.before
    session.sendline("123456")
    session.expect(pexpect.EOF)
    session.close()

    assert after_the_prompt == ""  # nothing written over the prompt while it waits
    assert session.exitstatus == 0
    shown = transcript.getvalue()
    assert shown.count("MFA code for") == 1
    [prompt_line] = [line for line in shown.splitlines() if "MFA code for" in line]
    assert prompt_line.rstrip("\r").endswith("(admin): 123456")  # the typed code, echoed
    assert sts.session_tokens() == 1


def test_a_run_waiting_for_a_prompt_in_another_terminal_says_so(home: Home, sts: LocalSts) -> None:
    mfa_config(home, None)
    holder = at_mfa_prompt(home.env, "admin", SERIAL)
    try:
        waiter = subprocess.Popen(
            [awsrun_executable(), "admin", "--", "true"],
            env=home.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert waiter.stderr is not None
        line = waiter.stderr.readline()  # said a second into the wait
        holder.sendline("123456")
        holder.expect(pexpect.EOF)
        holder.close()
        waiter.communicate(timeout=60)
    finally:
        holder.terminate(force=True)

    assert line == (
        f"awsrun: waiting for another awsrun (pid {holder.pid}) fetching role 'admin' for up "
        "to 2m: it is asking for an MFA code in another terminal\n"
    )
    assert waiter.returncode == 0
    assert sts.session_tokens() == 1
