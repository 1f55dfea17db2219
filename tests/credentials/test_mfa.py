"""One MFA code per device: a GetSessionToken session shared by every role and every
concurrent run, and codes from --mfa-code, mfa_process or the terminal."""

from __future__ import annotations

import json
import shlex
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pexpect
import pytest
from conftest import (
    SERIAL,
    Home,
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
