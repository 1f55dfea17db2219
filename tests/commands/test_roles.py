"""`awsrun roles` and `awsrun populate` against a fake Identity Center on 127.0.0.1 that lists
accounts and roles in pages and throttles beyond a number of calls in flight: every
account and role listed; profiles written with the rest of the config file kept byte for
byte, idempotent, pruned, never over a section the user wrote."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Home, run_awsrun
from fakesso import FakeIdentityCenter, identity_center
from localsts import LocalSts

SESSION = """
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access
"""
ACCOUNTS = {
    "111111111111": ("Prod", ["Admin", "ReadOnly"]),
    "222222222222": ("Staging", ["Admin"]),
    "333333333333": ("Prod", ["Admin"]),  # a second account of the same name
    "444444444444": ("Data Lake ü", ["Analyst"]),
}


@pytest.fixture
def idc(home: Home) -> Iterator[FakeIdentityCenter]:
    with identity_center() as fake:
        fake.accounts = dict(ACCOUNTS)
        fake.assigned_roles = {role for _, roles in ACCOUNTS.values() for role in roles}
        fake.page_size = 2  # every listing takes several pages
        home.write_config(home.config.read_text() + SESSION)
        home.env["AWS_ENDPOINT_URL_SSO"] = fake.endpoint
        # A token as `aws sso login` leaves it: no sign-in is needed.
        digest = hashlib.sha1(b"corp").hexdigest()  # noqa: S324 - the AWS CLI's file name
        token = home.path / ".aws" / "sso" / "cache" / f"{digest}.json"
        token.parent.mkdir(parents=True, exist_ok=True)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        token.write_text(
            json.dumps(
                {
                    "startUrl": "https://corp.awsapps.com/start",
                    "region": "eu-west-1",
                    "accessToken": "sso-access-token-listing",
                    "expiresAt": expires,
                }
            )
        )
        yield fake


def test_roles_lists_every_account_and_role_and_the_profile_that_has_it(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    home.write_config(
        home.config.read_text()
        + "[profile mine]\nsso_session = corp\nsso_account_id = 222222222222\n"
        + "sso_role_name = Admin\n"
    )

    listed = run_awsrun(["roles", "--sso-session", "corp", "--json"], home.env)
    table = run_awsrun(["roles", "--sso-session", "corp"], home.env)

    assert listed.returncode == 0, listed.stderr
    rows = {(row["account_id"], row["role_name"]): row for row in json.loads(listed.stdout)}
    assert set(rows) == {
        (account, role) for account, (_, roles) in ACCOUNTS.items() for role in roles
    }
    assert rows[("222222222222", "Admin")]["profile"] == "mine"
    assert rows[("111111111111", "Admin")]["profile"] is None
    assert "Data Lake ü" in table.stdout
    assert "mine" in table.stdout


def test_populate_writes_a_profile_each_and_keeps_every_other_byte(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    mine = "# my own\r\n[profile Staging.Admin]\r\nregion = us-east-1\r\n"
    home.write_config(home.config.read_text() + mine)
    before = home.config.read_bytes()
    home.config.chmod(0o640)

    first = run_awsrun(["populate", "--sso-session", "corp"], home.env)
    after_first = home.config.read_bytes()
    mtime = home.config.stat().st_mtime_ns
    second = run_awsrun(["populate", "--sso-session", "corp"], home.env)

    assert first.returncode == 0, first.stderr
    assert after_first.startswith(before)  # nothing before the new sections changed
    assert "added 4," in first.stdout  # Staging.Admin is the user's own: skipped
    assert "skipped 1 profiles" in first.stdout
    assert "skipped profile 'Staging.Admin'" in first.stderr
    assert home.config.stat().st_mode & 0o777 == 0o640
    assert second.returncode == 0, second.stderr
    assert "added 0, updated 0, removed 0, unchanged 4" in second.stdout
    assert (home.config.read_bytes(), home.config.stat().st_mtime_ns) == (after_first, mtime)
    names = run_awsrun(["list", "--names"], home.env).stdout.split("\n")
    # Two accounts named Prod: each keeps its account id, the same on every run.
    assert {
        "Prod.Admin.111111111111",
        "Prod.Admin.333333333333",
        "Prod.ReadOnly",
        "Data-Lake-ü.Analyst",
    } <= set(names)


def test_a_generated_profile_runs_with_the_sessions_role_credentials(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    run_awsrun(["populate", "--sso-session", "corp", "--region", "eu-central-1"], home.env)

    ran = run_awsrun(["Prod.ReadOnly", "--", "sh", "-c", "echo $AWS_REGION"], home.env)

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "eu-central-1"
    assert idc.role_credentials == [("111111111111", "ReadOnly")]


def test_prune_removes_only_generated_profiles_the_session_lost(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    original = home.config.read_bytes()
    run_awsrun(["populate", "--sso-session", "corp"], home.env)
    idc.accounts = {"222222222222": ("Staging", ["Admin"])}

    kept = run_awsrun(["populate", "--sso-session", "corp"], home.env)
    dry = run_awsrun(["populate", "--sso-session", "corp", "--prune", "--dry-run"], home.env)
    pruned = run_awsrun(["populate", "--sso-session", "corp", "--prune"], home.env)

    assert "removed 0" in kept.stdout
    assert "would remove Prod.ReadOnly" in dry.stdout
    assert home.config.read_bytes() != original
    assert pruned.returncode == 0, pruned.stderr
    assert "removed 4" in pruned.stdout
    text = home.config.read_text()
    assert "[profile Staging.Admin]" in text
    assert "[profile Prod." not in text
    idc.accounts = {}
    run_awsrun(["populate", "--sso-session", "corp", "--prune"], home.env)
    assert home.config.read_bytes() == original  # every generated line gone, nothing else


def test_a_throttling_portal_is_waited_for(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    idc.accounts = {f"{n:012d}": (f"acct{n}", ["Admin", "Dev"]) for n in range(1, 41)}
    idc.max_in_flight = 2
    idc.latency = 0.02

    listed = run_awsrun(["roles", "--sso-session", "corp", "--json"], home.env)

    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 80
    assert idc.throttled > 0  # it was throttled, and tried again


def test_a_refused_token_is_one_line_and_writes_nothing(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    token = next((home.path / ".aws" / "sso" / "cache").glob("*.json"))
    token.write_text(token.read_text().replace("sso-access-token-listing", "revoked"))
    before = home.config.read_bytes()

    refused = run_awsrun(["populate", "--sso-session", "corp"], home.env)

    assert refused.returncode == 125
    assert refused.stderr.count("\n") == 1
    assert "awsrun login" in refused.stderr
    assert home.config.read_bytes() == before
    assert os.path.exists(token)


def test_with_no_token_and_no_terminal_it_names_the_login_to_run(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    for token in (home.path / ".aws" / "sso" / "cache").glob("*.json"):
        token.unlink()

    refused = run_awsrun(["roles", "--sso-session", "corp"], home.env)

    assert refused.returncode == 125
    assert "run 'awsrun login --sso-session corp' in a terminal" in refused.stderr
    assert idc.listing_calls == 0


def test_an_expired_token_is_renewed_with_its_refresh_token_not_a_new_sign_in(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    token = next((home.path / ".aws" / "sso" / "cache").glob("*.json"))
    expired = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    token.write_text(
        json.dumps(
            {
                "startUrl": "https://corp.awsapps.com/start", "region": "eu-west-1",
                "accessToken": "sso-access-token-expired", "expiresAt": expired,
                "clientId": "client-cli", "clientSecret": "client-secret-cli",
                "registrationExpiresAt": "2099-01-01T00:00:00Z",
                "refreshToken": "sso-refresh-token-from-the-cli",
            }
        )
    )  # fmt: skip
    home.env["AWS_ENDPOINT_URL_SSO_OIDC"] = idc.endpoint

    # No terminal: a sign-in would have failed the listing.
    listed = run_awsrun(["roles", "--sso-session", "corp", "--json"], home.env)

    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 5
    assert (idc.refreshes, idc.authorizations) == (1, 0)
    stored = json.loads(token.read_text())
    assert stored["accessToken"] == "sso-access-token-refreshed-1"  # as botocore would keep it
    assert stored["refreshToken"] == "sso-refresh-token-refreshed-1"


def test_a_reader_meanwhile_sees_the_old_file_or_the_new_one_never_a_mix(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter, tmp_path: Path
) -> None:
    # 300 accounts: a file of about 40 kB, written while another process reads it in a
    # loop, as an SDK or another awsrun would.
    idc.accounts = {f"{n:012d}": (f"Team {n}", ["Admin", "ReadOnly"]) for n in range(1, 301)}
    idc.assigned_roles = {"Admin", "ReadOnly"}
    idc.page_size = 100
    old = home.config.read_bytes()
    seen = tmp_path / "seen"
    reader = subprocess.Popen(
        [
            sys.executable, "-c",
            "import sys, time, hashlib\n"
            "path, out = sys.argv[1], sys.argv[2]\n"
            "digests = set()\n"
            "end = time.monotonic() + 60\n"
            "for _ in range(200000):\n"
            "    with open(path, 'rb') as f: digests.add(hashlib.sha256(f.read()).hexdigest())\n"
            "    open(out + '.ready', 'w').close()\n"
            "    if time.monotonic() > end: break\n"
            "    try: open(out + '.stop').close(); break\n"
            "    except FileNotFoundError: pass\n"
            "open(out, 'w').write('\\n'.join(sorted(digests)))\n",
            str(home.config), str(seen),
        ]
    )  # fmt: skip
    try:
        for _ in range(300):  # until it has read once, at most 30 s
            if Path(f"{seen}.ready").exists():
                break
            time.sleep(0.1)
        populated = run_awsrun(["populate", "--sso-session", "corp"], home.env)
        Path(f"{seen}.ready").unlink()
        for _ in range(300):  # and once more after the write
            if Path(f"{seen}.ready").exists():
                break
            time.sleep(0.1)
    finally:
        Path(f"{seen}.stop").touch()
        reader.wait(timeout=90)
    new = home.config.read_bytes()

    assert populated.returncode == 0, populated.stderr
    assert "added 600," in populated.stdout
    # Only whole files: the one before the write and the one after it.
    assert set(seen.read_text().split()) == {
        hashlib.sha256(old).hexdigest(),
        hashlib.sha256(new).hexdigest(),
    }


def test_the_listing_goes_to_the_portal_of_the_profiles_services_block(
    home: Home, sts: LocalSts, idc: FakeIdentityCenter
) -> None:
    # As botocore reads it: no variable (they come first), the profile's `services` block.
    del home.env["AWS_ENDPOINT_URL_SSO"]
    home.env.pop("AWS_ENDPOINT_URL", None)
    home.write_config(
        home.config.read_text()
        + "\n[profile lister]\nsso_session = corp\nsso_account_id = 111111111111\n"
        "sso_role_name = Admin\nservices = local-idc\n"
        f"\n[services local-idc]\nsso =\n  endpoint_url = {idc.endpoint}\n"
    )

    listed = run_awsrun(["roles", "lister", "--json"], home.env)  # its session: corp
    not_sso = run_awsrun(["roles", "prod"], home.env)

    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 5
    assert idc.listing_calls > 0
    assert not_sso.stderr == (
        "awsrun: profile 'prod' does not sign in through IAM Identity Center (no sso_session "
        "or sso_start_url in it or in its source profiles): name one that does, or the "
        "session (--sso-session NAME)\n"
    )
