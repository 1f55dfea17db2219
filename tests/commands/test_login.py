"""IAM Identity Center: a sign-in on demand through the device flow, in the token store the
AWS CLI v2 and the SDKs share, one sign-in for many parallel runs, and a clear line where
nobody can sign in. Against a fake Identity Center on 127.0.0.1 (tests/fakesso.py)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from conftest import Home, awsrun_executable, role_arn, run_awsrun, stderr_seen
from fakesso import SECRET_MARKERS, FakeIdentityCenter, identity_center
from localsts import LocalSts

SSO_CONFIG = """
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile sso-dev]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Developer
region = eu-west-1

[profile sso-admin]
role_arn = {admin}
source_profile = sso-dev
"""
SHOW_KEY = ["sh", "-c", 'echo "KEY=$AWS_ACCESS_KEY_ID"']


@pytest.fixture
def idc(home: Home, tmp_path: Path) -> Iterator[FakeIdentityCenter]:
    with identity_center() as fake:
        home.write_config(home.config.read_text() + SSO_CONFIG.format(admin=role_arn("Admin")))
        # The browser: a program that opens the URL it is given, as a user approving would.
        browser = tmp_path / "browser"
        browser.write_text(
            f"#!{sys.executable}\nimport sys, urllib.request\n"
            "urllib.request.urlopen(sys.argv[1], timeout=10).read()\n"
        )
        browser.chmod(0o755)
        home.env.update(
            {
                "AWS_ENDPOINT_URL_SSO_OIDC": fake.endpoint,
                "AWS_ENDPOINT_URL_SSO": fake.endpoint,
                "BROWSER": f"{browser} %s",
            }
        )
        yield fake
    # The secret scan: nothing the fake handed out on stderr or on any terminal.
    for text in [*stderr_seen(), *(transcript.getvalue() for transcript in _TERMINALS)]:
        for marker in SECRET_MARKERS:
            assert marker not in text, f"an SSO secret ({marker}...) was shown"


# What each terminal of the current test showed, for the secret scan.
_TERMINALS: list[io.StringIO] = []


@pytest.fixture(autouse=True)
def _fresh_terminals() -> None:
    _TERMINALS.clear()


def token_file(home: Home, name: str) -> Path:
    digest = hashlib.sha1(name.encode()).hexdigest()  # noqa: S324 - the AWS CLI's file name
    return home.path / ".aws" / "sso" / "cache" / f"{digest}.json"


def write_cli_token(home: Home, expires_in: float, *, refreshable: bool = True) -> None:
    """A token file of session corp as `aws sso login` leaves it (its field names, its time
    format); not `refreshable`: no refresh token and no client registration."""
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + expires_in))
    token = {
        "startUrl": "https://corp.awsapps.com/start", "region": "eu-west-1",
        "accessToken": "sso-access-token-from-the-cli", "expiresAt": at,
    }  # fmt: skip
    if refreshable:
        token.update({
            "clientId": "client-cli", "clientSecret": "client-secret-cli",
            "registrationExpiresAt": "2099-01-01T00:00:00Z",
            "refreshToken": "sso-refresh-token-from-the-cli",
        })  # fmt: skip
    path = token_file(home, "corp")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(token))


def in_terminal(home: Home, args: list[str]) -> pexpect.spawn:
    session = pexpect.spawn(awsrun_executable(), args, env=home.env, encoding="utf-8", timeout=60)
    session.logfile_read = transcript = io.StringIO()
    _TERMINALS.append(transcript)
    return session


def login_in_terminal(home: Home) -> pexpect.spawn:
    """`awsrun login sso-dev` on a terminal, run to its end."""
    session = in_terminal(home, ["login", "sso-dev"])
    session.expect(pexpect.EOF)
    session.close()
    return session


def test_a_sign_in_on_demand_lands_in_the_shared_token_store(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    session = in_terminal(home, ["sso-dev", "--", *SHOW_KEY])
    session.expect(r"sign in to SSO session 'corp' in the browser that opened")
    session.expect(r"KEY=(ASIASSO\w+)")
    session.expect(pexpect.EOF)
    session.close()

    assert session.exitstatus == 0
    # The authorization code flow with PKCE: the browser came back to awsrun's listener.
    [query] = idc.authorize_queries
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/oauth/callback", query["redirect_uri"])
    assert query["code_challenge_method"] == "S256"
    assert query["scopes"] == "sso:account:access"
    assert len(query["state"]) >= 32
    assert idc.grants == {"client-1": ["authorization_code", "refresh_token"]}
    path = token_file(home, "corp")
    token = json.loads(path.read_text())
    assert {"startUrl", "region", "accessToken", "expiresAt", "clientId", "clientSecret",
            "registrationExpiresAt", "refreshToken"} <= set(token)  # fmt: skip
    assert token["accessToken"] == "sso-access-token-pkce-1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (idc.registrations, idc.authorizations) == (1, 1)
    # boto3 on its own takes the same token: no second sign-in for the SDKs.
    boto3_key = subprocess.run(
        [sys.executable, "-c", "import boto3; print(boto3.Session(profile_name='sso-dev')"
         ".get_credentials().get_frozen_credentials().access_key)"],
        env=home.env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert boto3_key.stdout.startswith("ASIASSO")
    # A later run, with no terminal at all, uses the stored token.
    again = run_awsrun(["clear", "sso-dev"], home.env)
    assert again.returncode == 0
    later = run_awsrun(["sso-dev", "--", *SHOW_KEY], home.env)
    assert later.returncode == 0, later.stderr
    assert idc.authorizations == 1


def test_no_terminal_and_no_token_fails_at_once_with_the_next_step(
    home: Home, idc: FakeIdentityCenter
) -> None:
    result = run_awsrun(["sso-dev", "--", "true"], home.env)

    assert result.returncode == 125
    assert result.stderr == (
        "awsrun: SSO session 'corp' needs a sign-in: run 'awsrun login sso-dev' in a terminal\n"
    )
    assert idc.authorizations == 0


def test_a_role_with_an_sso_source_is_assumed_with_the_sso_credentials(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    session = in_terminal(home, ["sso-admin", "--", *SHOW_KEY])
    session.expect(r"KEY=(\w+)")
    key = session.match.group(1)
    session.expect(pexpect.EOF)
    session.close()

    assert session.exitstatus == 0
    assigned = sts.assumed_roles()
    assert [str(call["arn"]).split("/")[1] for call in assigned] == ["Admin"]
    assert key == assigned[0]["access_key_id"]
    assert idc.role_credentials == [("123456789012", "Developer")]


@pytest.mark.parametrize("flow", ["pkce", "device"])
def test_a_denied_sign_in_is_one_line(
    home: Home, idc: FakeIdentityCenter, tmp_path: Path, flow: str
) -> None:
    if flow == "pkce":
        idc.deny_authorizations = True  # the user clicks "Deny" on the authorize page
        args = ["sso-dev", "--", "true"]
    else:
        denier = tmp_path / "denier"
        denier.write_text(
            f"#!{sys.executable}\nimport sys, urllib.request\n"
            "url = sys.argv[1].replace('code=', 'code=deny-')\n"
            "urllib.request.urlopen(url, timeout=10).read()\n"
        )
        denier.chmod(0o755)
        home.env["BROWSER"] = f"{denier} %s"
        args = ["--use-device-code", "sso-dev", "--", "true"]
    session = in_terminal(home, args)
    session.expect(pexpect.EOF)
    session.close()

    assert session.exitstatus == 125
    assert "awsrun: the sign-in to SSO session 'corp' was denied in the browser" in session.before
    assert "Traceback" not in session.before
    assert not token_file(home, "corp").exists()


@pytest.mark.parametrize("flow", ["pkce", "device"])
def test_one_sign_in_serves_sixteen_parallel_runs(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter, tmp_path: Path, flow: str
) -> None:
    write_cli_token(home, -3600, refreshable=False)  # expired an hour ago, nothing to renew
    opened = tmp_path / "opened"
    counter = tmp_path / "browser"  # shows the page; nobody approves yet
    counter.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    counter.chmod(0o755)
    home.env.update({"BROWSER": f"{counter} %s", "AWSRUN_LOCK_TIMEOUT": "60"})
    run = [*(["--use-device-code"] if flow == "device" else []), "sso-dev", "--", *SHOW_KEY]
    signing = in_terminal(home, run)
    signing.expect("enter the code ABCD-0001" if flow == "device" else "the browser that opened")
    # Fifteen more, three with a terminal of their own, twelve with none.
    with_terminal = [in_terminal(home, run) for _ in range(3)]
    without = [
        subprocess.Popen(
            [awsrun_executable(), *run],
            env=home.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for _ in range(12)
    ]
    # Each says what it waits for before the approval comes.
    for waiter in without:
        assert waiter.stderr is not None
        assert "it is waiting for an IAM Identity Center sign-in" in waiter.stderr.readline()
    for session in with_terminal:
        session.expect("it is waiting for an IAM Identity Center sign-in")
    [page] = opened.read_text().splitlines()  # the user approves on the one page opened
    urllib.request.urlopen(page, timeout=10).read()
    keys = []
    for session in [signing, *with_terminal]:
        session.expect(r"KEY=(\w+)")
        keys.append(session.match.group(1))
        session.expect(pexpect.EOF)
        session.close()
        assert session.exitstatus == 0
    for waiter in without:
        out, _ = waiter.communicate(timeout=60)
        assert waiter.returncode == 0
        keys.append(out.strip().removeprefix("KEY="))

    assert len(keys) == 16
    assert all(key.startswith("ASIASSO") for key in keys)
    assert (idc.registrations, idc.authorizations, len(idc.role_credentials)) == (1, 1, 1)
    assert len(opened.read_text().splitlines()) == 1  # one browser tab


def test_login_signs_in_ahead_and_needs_a_terminal(home: Home, idc: FakeIdentityCenter) -> None:
    session = in_terminal(home, ["login", "sso-dev"])
    session.expect(r"signed in to SSO session 'corp' until \d\d:\d\d")
    session.expect(pexpect.EOF)
    session.close()
    without_terminal = run_awsrun(["login", "sso-dev"], home.env)
    not_sso = run_awsrun(["login", "prod"], home.env)

    assert session.exitstatus == 0
    assert idc.authorizations == 1
    assert without_terminal.returncode == 125
    assert "needs a sign-in: run 'awsrun login sso-dev' in a terminal" in without_terminal.stderr
    assert not_sso.returncode == 125
    assert "does not sign in through IAM Identity Center" in not_sso.stderr
    # aws-vault's `login` opens the console: say where that is here.
    by_name = run_awsrun(["login", "--sso-session", "corp"], home.env)
    assert by_name.stderr == (
        "awsrun: SSO session 'corp' needs a sign-in: run 'awsrun login --sso-session corp' "
        "in a terminal\n"
    )
    unknown = run_awsrun(["login", "--sso-session", "crop"], home.env)
    assert unknown.stderr == (
        "awsrun: the config file has no [sso-session crop] section (its SSO sessions: corp)\n"
    )
    session = in_terminal(home, ["--no-browser", "login", "--sso-session", "corp"])
    session.expect(r"open \S+/verify and enter the code ABCD-0002")
    urllib.request.urlopen(f"{idc.endpoint}/verify?code=device-2", timeout=10).read()
    session.expect(r"signed in to SSO session 'corp' until \d\d:\d\d")
    session.expect(pexpect.EOF)
    session.close()
    assert session.exitstatus == 0
    assert not_sso.stderr.endswith("to open the AWS console as it: awsrun console prod\n")


def test_list_shows_each_sso_session_and_its_tokens_time_left(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    before = run_awsrun(["list"], home.env)
    login_in_terminal(home)
    after = run_awsrun(["list"], home.env)
    rows = {
        row["profile"]: row for row in json.loads(run_awsrun(["list", "--json"], home.env).stdout)
    }

    assert re.search(r"\ncorp +not signed in \(awsrun login\)\n", before.stdout), before.stdout
    assert re.search(r"corp +7h5\dm left", after.stdout), after.stdout
    assert rows["sso-dev"]["sso_session"] == rows["sso-admin"]["sso_session"] == "corp"
    assert 7 * 3600 < int(rows["sso-dev"]["sso_token_seconds_left"]) <= 8 * 3600
    assert rows["prod"]["sso_session"] is None


def test_logout_signs_out_and_removes_the_shared_token_and_awsruns_entries(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    session = in_terminal(home, ["sso-dev", "--", "true"])
    session.expect(pexpect.EOF)
    session.close()
    assert token_file(home, "corp").exists()
    assert home.cache_entries()

    result = run_awsrun(["logout", "sso-dev"], home.env)
    again = run_awsrun(["sso-dev", "--", "true"], home.env)  # no terminal: needs a sign-in

    assert result.returncode == 0, result.stderr
    assert f"signed out of SSO session 'corp': removed {token_file(home, 'corp')}" in result.stdout
    assert idc.logouts == 1
    assert not token_file(home, "corp").exists()
    assert home.cache_entries() == []
    assert again.returncode == 125
    assert "needs a sign-in" in again.stderr
    assert run_awsrun(["logout", "--all"], home.env).stdout == "nothing to sign out of\n"


def test_a_role_not_assigned_and_a_revoked_token_are_one_line_each(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    login_in_terminal(home)
    idc.assigned_roles = set()
    unassigned = run_awsrun(["sso-dev", "--", "true"], home.env)
    # A token the portal no longer takes (signed out elsewhere), still stored here.
    path = token_file(home, "corp")
    token = json.loads(path.read_text())
    path.write_text(json.dumps({**token, "accessToken": "revoked"}))
    idc.assigned_roles = {"Developer"}
    revoked = run_awsrun(["sso-dev", "--", "true"], home.env)

    assert unassigned.returncode == 125
    assert unassigned.stderr == (
        "awsrun: IAM Identity Center does not give you role 'Developer' in account "
        "123456789012 (profile 'sso-dev'): check that the role is assigned to you, and the "
        "profile's sso_account_id and sso_role_name\n"
    )
    assert revoked.returncode == 125
    assert "was refused (revoked or expired): run 'awsrun login sso-dev'" in revoked.stderr


def test_a_legacy_start_url_profile_with_slow_down_and_no_browser(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    home.write_config(
        home.config.read_text()
        + "\n[profile legacy]\nsso_start_url = https://old.awsapps.com/start\n"
        "sso_region = eu-west-1\nsso_account_id = 123456789012\nsso_role_name = Developer\n"
    )
    idc.slow_down_once = True
    session = in_terminal(home, ["--no-browser", "legacy", "--", *SHOW_KEY])
    session.expect(r"open (\S+)/verify and enter the code ABCD-0001")
    # --no-browser: nothing opened it; the user does, from the line on the terminal.
    assert idc.approved == set()
    urllib.request.urlopen(f"{idc.endpoint}/verify?code=device-1", timeout=10).read()
    session.expect(r"KEY=ASIASSO")  # after one slow_down, polling 5 s less often
    session.expect(pexpect.EOF)
    session.close()

    assert session.exitstatus == 0
    token = json.loads(token_file(home, "https://old.awsapps.com/start").read_text())
    assert token["startUrl"] == "https://old.awsapps.com/start"
    assert "refreshToken" in token  # stored as given; botocore refreshes only sso-session ones


def test_a_wrong_start_url_and_a_wrong_region_are_one_line_each(
    home: Home, idc: FakeIdentityCenter
) -> None:
    config = home.config.read_text()
    home.write_config(
        config.replace("https://corp.awsapps.com/start", "https://crop.awsapps.com/start")
    )
    session = login_in_terminal(home)
    wrong_url = session.before
    home.write_config(config.replace("sso_region = eu-west-1", "sso_region = eu west 1"))
    session = login_in_terminal(home)
    wrong_region = session.before

    assert session.exitstatus == 125
    assert (
        "awsrun: SSO session 'corp' refused the sign-in (InvalidRequestException); check its "
        "sso_start_url (https://crop.awsapps.com/start) and sso_region (eu-west-1)"
    ) in wrong_url
    assert "sso_region (eu west 1)" in wrong_region
    assert wrong_region.count("awsrun:") == 1
    assert "Traceback" not in wrong_url + wrong_region
    assert idc.authorizations == 0


def test_a_device_code_that_expires_before_approval_is_one_line(
    home: Home, idc: FakeIdentityCenter
) -> None:
    idc.code_lifetime = 2
    home.env["BROWSER"] = "true %s"  # opened, and nobody approves
    session = in_terminal(home, ["--use-device-code", "sso-dev", "--", "true"])
    session.expect(pexpect.EOF)
    session.close()

    assert session.exitstatus == 125
    assert (
        "awsrun: the sign-in code for SSO session 'corp' expired before it was approved: "
        "run the command again"
    ) in session.before
    assert idc.approved == set()
    assert not token_file(home, "corp").exists()


def test_the_console_opens_as_the_sso_role_from_the_stored_token(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    from fakefederation import federation

    login_in_terminal(home)
    with federation() as fed:
        home.env["AWSRUN_FEDERATION_ENDPOINT"] = fed.endpoint
        result = run_awsrun(["console", "--print", "sso-dev"], home.env)
        keys = json.loads(run_awsrun(["env", "sso-dev", "--format", "json"], home.env).stdout)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(fed.endpoint + "?Action=login&")
    [sent] = fed.sessions
    assert sent["sessionId"] == keys["AWS_ACCESS_KEY_ID"]  # the cached role credentials
    assert sent["sessionId"].startswith("ASIASSO")
    assert idc.role_credentials == [("123456789012", "Developer")]
    assert idc.authorizations == 1


def test_a_token_the_aws_cli_wrote_is_used_and_renewed_with_its_refresh_token(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    write_cli_token(home, 3600)
    valid = run_awsrun(["sso-dev", "--", *SHOW_KEY], home.env)
    write_cli_token(home, -60)  # expired a minute ago; its refresh token is good
    run_awsrun(["clear", "sso-dev"], home.env)
    renewed = run_awsrun(["sso-dev", "--", *SHOW_KEY], home.env)

    # No terminal for either run: a sign-in would have failed them.
    assert valid.returncode == 0, valid.stderr
    assert renewed.returncode == 0, renewed.stderr
    assert valid.stdout.startswith("KEY=ASIASSO")
    assert renewed.stdout.startswith("KEY=ASIASSO")
    assert (idc.authorizations, idc.refreshes) == (0, 1)
    stored = json.loads(token_file(home, "corp").read_text())
    assert stored["accessToken"] == "sso-access-token-refreshed-1"


OTHER_ACCOUNT = """
[profile sso-other]
sso_session = corp
sso_account_id = 210987654321
sso_role_name = Developer
"""


def test_logout_removes_every_entry_that_came_from_the_session(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    home.write_config(home.config.read_text() + OTHER_ACCOUNT)
    login_in_terminal(home)
    for profile in ("sso-dev", "sso-other", "sso-admin", "prod"):
        assert run_awsrun([profile, "--", "true"], home.env).returncode == 0
    prod_entries = {
        path.name for path in home.cache_entries() if "profile = prod" in path.read_text()
    }

    result = run_awsrun(["logout", "sso-dev"], home.env)
    # Another account of the same session, and a role on top of it: no longer cached.
    other = run_awsrun(["-v", "sso-other", "--", "true"], home.env)
    admin = run_awsrun(["-v", "sso-admin", "--", "true"], home.env)

    assert result.returncode == 0, result.stderr
    for after in (other, admin):
        assert after.returncode == 125
        assert "from the cache" not in after.stderr
        assert "needs a sign-in" in after.stderr
    # Entries of profiles that do not start at the session stay.
    assert {path.name for path in home.cache_entries()} == prod_entries


def test_role_credentials_from_another_portal_are_not_served_for_the_real_one(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    login_in_terminal(home)
    first = run_awsrun(["sso-dev", "--", *SHOW_KEY], home.env)
    with identity_center() as emulator:
        emulated = {**home.env, "AWS_ENDPOINT_URL_SSO": emulator.endpoint}
        from_emulator = run_awsrun(["-v", "sso-dev", "--", *SHOW_KEY], emulated)
    again = run_awsrun(["-v", "sso-dev", "--", *SHOW_KEY], home.env)

    assert first.returncode == 0, first.stderr
    assert from_emulator.returncode == 0, from_emulator.stderr
    assert "from the cache" not in from_emulator.stderr  # another portal: another entry
    assert emulator.role_credentials == [("123456789012", "Developer")]
    assert "from the cache" in again.stderr
    assert again.stdout == first.stdout  # the real portal's, not the emulator's
    assert idc.role_credentials == [("123456789012", "Developer")]


def test_sign_in_under_umask_000_makes_private_folders(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    aws = home.path / ".aws"
    for name in ("config", "credentials"):  # the config files stay; their folder goes
        (home.path / name).write_bytes((aws / name).read_bytes())
    home.env["AWS_CONFIG_FILE"] = str(home.path / "config")
    home.env["AWS_SHARED_CREDENTIALS_FILE"] = str(home.path / "credentials")
    for name in ("config", "credentials"):
        (aws / name).unlink()
    aws.rmdir()
    session = pexpect.spawn(
        "sh",
        ["-c", f"umask 000; exec {awsrun_executable()} login sso-dev"],
        env=home.env,
        encoding="utf-8",
        timeout=60,
    )
    session.expect(pexpect.EOF)
    session.close()

    assert session.exitstatus == 0
    for folder in (aws, aws / "sso", aws / "sso" / "cache"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(token_file(home, "corp").stat().st_mode) == 0o600


@pytest.mark.parametrize("kind", ["open to others", "a symlink", "another user's"])
def test_a_token_folder_others_could_swap_is_refused_with_the_fix(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter, tmp_path: Path, kind: str
) -> None:
    folder = token_file(home, "corp").parent
    if kind == "a symlink":
        elsewhere = tmp_path / "theirs"
        elsewhere.mkdir(mode=0o700)
        folder.parent.mkdir(parents=True)
        folder.symlink_to(elsewhere)
    else:
        folder.mkdir(parents=True)
        folder.chmod(0o777 if kind == "open to others" else 0o700)
        if kind == "another user's":
            os.chown(folder, 65534, 65534)

    result = run_awsrun(["login", "sso-dev"], home.env)
    session = in_terminal(home, ["sso-dev", "--", "true"])
    session.expect(pexpect.EOF)
    session.close()

    assert result.returncode == 125
    assert f"{folder} is " in result.stderr
    assert result.stderr.count("\n") == 1
    assert {"open to others": "chmod go-w", "a symlink": "remove it"}.get(
        kind, "chown"
    ) in result.stderr
    assert session.exitstatus == 125
    assert idc.role_credentials == []  # no sign-in, no token stored in it
    assert not any(path.suffix == ".json" for path in folder.iterdir())


def test_a_fifo_at_the_token_path_does_not_hang_list(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    path = token_file(home, "corp")
    path.parent.mkdir(parents=True)
    os.mkfifo(path)

    result = run_awsrun(["list"], home.env, timeout=30)

    assert result.returncode == 0, result.stderr
    assert re.search(r"\ncorp +not signed in", result.stdout), result.stdout


def test_a_browser_that_cannot_run_is_said_and_the_code_still_works(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    home.env["BROWSER"] = "/no/such/browser %s"
    session = in_terminal(home, ["login", "sso-dev"])
    session.expect("names no program that can be run: open the URL below yourself")
    session.expect(r"open (\S+/verify) and enter the code ABCD-0001")
    # The user opens the URL in a browser of their own and approves.
    urllib.request.urlopen(f"{idc.endpoint}/verify?code=device-1", timeout=10).read()
    session.expect(pexpect.EOF)
    session.close()

    assert session.exitstatus == 0
    assert token_file(home, "corp").exists()


def test_a_registration_is_kept_for_its_flow_and_a_device_one_does_not_serve_pkce(
    home: Home, idc: FakeIdentityCenter
) -> None:
    for args in (["--use-device-code", "login", "sso-dev"], ["login", "sso-dev"]):
        session = in_terminal(home, args)
        if args[0] == "--use-device-code":
            session.expect(r"enter the code ABCD-0001")
            urllib.request.urlopen(f"{idc.endpoint}/verify?code=device-1", timeout=10).read()
        session.expect(pexpect.EOF)
        session.close()
        assert session.exitstatus == 0, session.before
    login_in_terminal(home)  # a second sign-in of each flow makes no new registration
    session = in_terminal(home, ["--use-device-code", "login", "sso-dev"])
    session.expect(r"enter the code ABCD-0004")
    urllib.request.urlopen(f"{idc.endpoint}/verify?code=device-4", timeout=10).read()
    session.expect(pexpect.EOF)
    session.close()

    assert session.exitstatus == 0
    device = "urn:ietf:params:oauth:grant-type:device_code"
    assert idc.grants == {
        "client-1": [device, "refresh_token"],
        "client-2": ["authorization_code", "refresh_token"],
    }
    assert idc.authorizations == 4
    for path in token_file(home, "corp").parent.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_listener_answers_other_paths_and_states_with_an_error_and_waits_on(
    home: Home, idc: FakeIdentityCenter, tmp_path: Path
) -> None:
    # A browser (or another local program) that first knocks with the wrong path and
    # a forged state, then follows the real page.
    statuses = tmp_path / "statuses"
    prober = tmp_path / "prober"
    prober.write_text(
        f"#!{sys.executable}\n"
        "import sys, urllib.error, urllib.parse, urllib.request\n"
        "query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(sys.argv[1]).query))\n"
        "redirect = query['redirect_uri']\n"
        "seen = []\n"
        "for url in (redirect.replace('/oauth/callback', '/other?code=authcode-9&state='\n"
        "            + query['state']), redirect + '?code=authcode-9&state=forged',\n"
        "            redirect + '?code=authcode-9&state=%C3%A9',\n"
        "            redirect + '?state=' + query['state']):\n"
        "    try:\n"
        "        seen.append(urllib.request.urlopen(url, timeout=10).status)\n"
        "    except urllib.error.HTTPError as error:\n"
        "        seen.append(error.code)\n"
        f"open({str(statuses)!r}, 'w').write(' '.join(map(str, seen)))\n"
        "urllib.request.urlopen(sys.argv[1], timeout=10).read()\n"
    )
    prober.chmod(0o755)
    home.env["BROWSER"] = f"{prober} %s"

    session = login_in_terminal(home)

    assert session.exitstatus == 0, session.before
    assert statuses.read_text() == "404 400 400 400"
    assert "Traceback" not in session.before
    assert json.loads(token_file(home, "corp").read_text())["accessToken"] == (
        "sso-access-token-pkce-1"
    )


def test_over_ssh_or_with_use_device_code_it_is_the_device_flow(
    home: Home, idc: FakeIdentityCenter
) -> None:
    home.env["SSH_CONNECTION"] = "192.0.2.1 50000 192.0.2.2 22"
    session = in_terminal(home, ["login", "sso-dev"])
    session.expect(r"open \S+/verify and enter the code ABCD-0001")
    urllib.request.urlopen(f"{idc.endpoint}/verify?code=device-1", timeout=10).read()
    session.expect(pexpect.EOF)
    session.close()

    assert session.exitstatus == 0
    assert idc.authorize_queries == []


def test_a_browser_that_never_comes_back_ends_the_sign_in_with_one_line(
    home: Home, idc: FakeIdentityCenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from awsrun.credentials.sso_pkce import CodeSignIn
    from awsrun.credentials.sso_tokens import SsoSession
    from awsrun.errors import StsError

    # In-process, with a wait of one second for the AWS CLI's ten minutes.
    monkeypatch.setenv("HOME", str(home.path))
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_OIDC", idc.endpoint)
    corp = SsoSession("corp", "https://corp.awsapps.com/start", "eu-west-1", "sso:account:access")
    shown: list[str] = []
    flow = CodeSignIn(corp, show=shown.append, open_url=lambda url: True, wait_seconds=1)

    with pytest.raises(StsError) as raised:
        flow.run()

    assert str(raised.value) == (
        "the browser did not come back from the sign-in to SSO session 'corp' within 1s: "
        "run the command again, or add --use-device-code to sign in with a code on any device"
    )
    assert shown == [
        "awsrun: sign in to SSO session 'corp' in the browser that opened; waiting for you\n"
    ]
    assert not token_file(home, "corp").exists()


def test_a_token_that_ends_soon_with_no_refresh_token_is_said_with_the_login_to_run(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    write_cli_token(home, 600, refreshable=False)  # 10 minutes left, nothing to renew it
    home.env["SHELL"] = "true"

    shell = run_awsrun(["sso-dev"], home.env)
    write_cli_token(home, 600)  # the same, with a refresh token: botocore renews it
    run_awsrun(["clear", "sso-dev"], home.env)
    renewable = run_awsrun(["sso-dev", "--", "true"], home.env)

    assert shell.returncode == 0, shell.stderr
    assert re.search(
        r"awsrun: the token of SSO session 'corp' ends in (9|10)m\d*s? \(at \d\d:\d\d\); then "
        r"runs need a new sign-in: `awsrun login sso-dev` renews it now\n",
        shell.stderr,
    ), shell.stderr
    assert re.search(
        r"shell as sso-dev until \d\d:\d\d, SSO session 'corp' until \d\d:\d\d;", shell.stderr
    )
    assert renewable.returncode == 0, renewable.stderr
    assert "ends in" not in renewable.stderr


def test_the_sign_in_goes_to_the_oidc_endpoint_of_the_profiles_services_block(
    home: Home, idc: FakeIdentityCenter
) -> None:
    # As botocore reads it: no variable (they come first), the endpoint in the profile's
    # `services` section.
    del home.env["AWS_ENDPOINT_URL_SSO_OIDC"]
    home.env.pop("AWS_ENDPOINT_URL", None)
    config = home.config.read_text().replace(
        "[profile sso-dev]\n", "[profile sso-dev]\nservices = local-idc\n"
    )
    home.write_config(
        config + f"\n[services local-idc]\nsso_oidc =\n  endpoint_url = {idc.endpoint}\n"
    )

    session = login_in_terminal(home)

    assert session.exitstatus == 0, session.before
    assert (idc.registrations, idc.authorizations) == (1, 1)
    [query] = idc.authorize_queries  # the authorize page too is on that endpoint
    assert query["client_id"] == "client-1"
