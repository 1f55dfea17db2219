"""A session behind a profile that only its user can renew (an MFA session whose code is
typed; an SSO token with no refresh token): said once when it ends within 15 minutes,
with `awsrun login PROFILE`, which renews it now; its time left in the shell banner and in
`awsrun list`."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from conftest import SERIAL, Home, mfa_config, run_awsrun
from localsts import LocalSts

ENDING = re.compile(
    rf"awsrun: the MFA session of {re.escape(SERIAL)} ends in 1[45]m\d*s? \(at \d\d:\d\d\); "
    r"then runs need a new MFA code: `awsrun login admin` renews it now\n"
)


def test_an_mfa_session_ending_soon_is_said_once_with_the_command_that_renews_it(
    home: Home, sts: LocalSts
) -> None:
    mfa_config(home, None)  # a code typed each time: only the user renews the session
    # STS's shortest MFA session, 15 minutes: it ends "soon" from the start.
    first = run_awsrun(
        ["--mfa-code", "123456", "--mfa-duration", "15m", "admin", "--", "true"], home.env
    )
    hit = run_awsrun(["-v", "admin", "--", "true"], home.env)
    other_role = run_awsrun(["--mfa-code", "123456", "audit", "--", "true"], home.env)
    listed = {
        row["profile"]: row for row in json.loads(run_awsrun(["list", "--json"], home.env).stdout)
    }
    table = run_awsrun(["list"], home.env).stdout

    assert first.returncode == hit.returncode == other_role.returncode == 0, hit.stderr
    assert "from the cache" in hit.stderr  # a hit: the role's credentials were not fetched
    for result in (first, hit):
        assert len(ENDING.findall(result.stderr)) == 1, result.stderr
    assert "`awsrun login audit` renews it now" in other_role.stderr  # the same session
    assert 13 * 60 < listed["admin"]["mfa_session_seconds_left"] <= 15 * 60
    assert listed["default"]["mfa_session_seconds_left"] is None  # no MFA behind it
    assert re.search(r"\nadmin .* left \(MFA session 1[45]m\d*s? left\)\n", table), table

    # `awsrun login admin` renews it now (a new code, a new GetSessionToken), and then
    # nothing is said.
    renewed = run_awsrun(["--mfa-code", "654321", "login", "admin"], home.env)
    after = run_awsrun(["admin", "--", "true"], home.env)

    assert renewed.returncode == 0, renewed.stderr
    assert re.fullmatch(
        rf"renewed the MFA session of {re.escape(SERIAL)} until \d\d:\d\d\n", renewed.stdout
    )
    assert sts.session_tokens() == 2
    assert after.returncode == 0
    assert "ends in" not in after.stderr
    row = next(
        r
        for r in json.loads(run_awsrun(["list", "--json"], home.env).stdout)
        if r["profile"] == "admin"
    )
    assert row["mfa_session_seconds_left"] > 11 * 3600  # the default 12h


def test_a_session_awsrun_renews_by_itself_is_not_said(
    home: Home, sts: LocalSts, tmp_path: Path
) -> None:
    code = tmp_path / "code.py"
    code.write_text("print('123456')\n")
    mfa_config(home, f"{sys.executable} {code}")  # mfa_process: no user needed

    first = run_awsrun(["--mfa-duration", "15m", "admin", "--", "true"], home.env)
    hit = run_awsrun(["admin", "--", "true"], home.env)

    assert first.returncode == hit.returncode == 0, first.stderr
    assert "ends in" not in first.stderr + hit.stderr


def test_the_shell_banner_shows_when_the_mfa_session_ends(home: Home, sts: LocalSts) -> None:
    mfa_config(home, None)
    home.env["SHELL"] = "true"

    shell = run_awsrun(["--mfa-code", "123456", "admin"], home.env)

    assert shell.returncode == 0, shell.stderr
    assert re.search(
        r"awsrun: shell as admin until \d\d:\d\d, MFA session until \d\d:\d\d; exit to leave\n",
        shell.stderr,
    ), shell.stderr


def test_login_of_a_profile_with_neither_session_says_what_it_can_do(
    home: Home, sts: LocalSts
) -> None:
    refused = run_awsrun(["login", "prod"], home.env)

    assert refused.returncode == 125
    assert refused.stderr == (
        "awsrun: profile 'prod' does not sign in through IAM Identity Center (no sso_session "
        "or sso_start_url in it or in its source profiles) and has no mfa_serial, so it has no "
        "session to renew; to open the AWS console as it: awsrun console prod\n"
    )
