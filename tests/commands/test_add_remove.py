"""`awsrun add` and `awsrun remove`: long-term keys in a real keystore (an age file, `pass`
with a throw-away GnuPG key, gnome-keyring's Secret Service in a private D-Bus session),
used for STS only, never handed to a command without --no-session, and never left in
plaintext anywhere under the test's folders."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Home, child_command, role_arn, run_awsrun
from localsts import LocalSts

KEY_ID = "AKIASTOREDSTORED0001"
SECRET = "storedSECRETstoredSECRETstoredSECRET0001"
PASSPHRASE = "correct horse battery staple"
ADD_ENV = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET}


def _file_store(home: Home, tmp_path: Path) -> dict[str, str]:
    return {"AWSRUN_KEYRING": "file", "AWSRUN_FILE_PASSPHRASE": PASSPHRASE}


@pytest.fixture
def pass_store(home: Home, tmp_path: Path) -> Iterator[dict[str, str]]:
    """`pass` with a throw-away GnuPG key; its gpg-agent ended with the test."""
    if shutil.which("pass") is None or shutil.which("gpg") is None:
        pytest.skip("pass or gpg is not installed (make test installs them where it can)")
    gnupg = tmp_path / "gnupg"
    gnupg.mkdir(mode=0o700)
    env = {**home.env, "GNUPGHOME": str(gnupg), "PASSWORD_STORE_DIR": str(tmp_path / "store")}
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "awsrun test key", "default"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    listed = subprocess.run(
        ["gpg", "--list-secret-keys", "--with-colons"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    fingerprint = next(line.split(":")[9] for line in listed.splitlines() if line[:3] == "fpr")
    subprocess.run(["pass", "init", fingerprint], env=env, check=True, capture_output=True)
    try:
        yield {
            "AWSRUN_KEYRING": "pass",
            "GNUPGHOME": env["GNUPGHOME"],
            "PASSWORD_STORE_DIR": env["PASSWORD_STORE_DIR"],
        }
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True, timeout=30)


@pytest.fixture
def secret_service(home: Home, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A private D-Bus session with gnome-keyring's Secret Service, unlocked."""
    if shutil.which("gnome-keyring-daemon") is None or shutil.which("dbus-daemon") is None:
        pytest.skip("gnome-keyring or dbus is not installed (make test installs them)")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {**home.env, "XDG_RUNTIME_DIR": str(runtime)}
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert bus.stdout is not None
        env["DBUS_SESSION_BUS_ADDRESS"] = bus.stdout.readline().strip()
        subprocess.run(
            ["gnome-keyring-daemon", "--unlock", "--components=secrets", "--daemonize"],
            env=env,
            input="test-login-password",
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        yield {
            "AWSRUN_KEYRING": "secret-service",
            "DBUS_SESSION_BUS_ADDRESS": env["DBUS_SESSION_BUS_ADDRESS"],
            "XDG_RUNTIME_DIR": str(runtime),
        }
    finally:
        bus.send_signal(signal.SIGTERM)  # gnome-keyring-daemon leaves with its bus
        bus.wait(timeout=10)
        if bus.stdout is not None:
            bus.stdout.close()


@pytest.fixture(params=["file", "pass", "secret-service"])
def store(request: pytest.FixtureRequest, home: Home, tmp_path: Path) -> dict[str, str]:
    """The environment that picks one real store."""
    if request.param == "file":
        return _file_store(home, tmp_path)
    fixture = "pass_store" if request.param == "pass" else "secret_service"
    chosen: dict[str, str] = request.getfixturevalue(fixture)
    return chosen


def add_role_on_alice(home: Home) -> None:
    home.write_config(
        home.config.read_text()
        + f"\n[profile alice-admin]\nrole_arn = {role_arn('Admin')}\nsource_profile = alice\n"
    )


def plaintext_copies(root: Path, secret: str = SECRET) -> list[str]:
    """Every file under `root` that holds the stored secret as it is."""
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as handle:
                if secret.encode() in handle.read():
                    found.append(str(path))
    return found


def test_stored_keys_reach_the_command_as_a_session_only(
    home: Home, tmp_path: Path, sts: LocalSts, store: dict[str, str]
) -> None:
    env = {**home.env, **store}
    added = run_awsrun(["add", "--env", "alice"], {**env, **ADD_ENV})
    ran = run_awsrun(["alice", "--", *child_command()], env)

    assert added.returncode == 0, added.stderr
    assert f"stored keys {KEY_ID} for profile 'alice'" in added.stdout
    assert "(account 123456789012)" in added.stderr  # checked with GetCallerIdentity
    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout)["env"]
    assert seen["AWS_SESSION_TOKEN"]
    assert seen["AWS_ACCESS_KEY_ID"] != KEY_ID
    assert SECRET not in json.dumps(seen)
    assert plaintext_copies(tmp_path) == []
    assert all(SECRET not in text for text in (added.stderr, ran.stderr))


def test_list_says_where_each_profiles_keys_are(
    home: Home, sts: LocalSts, store: dict[str, str]
) -> None:
    env = {**home.env, **store}
    assert run_awsrun(["add", "--env", "--no-check", "alice"], {**env, **ADD_ENV}).returncode == 0

    table = run_awsrun(["list"], env).stdout
    rows = {row["profile"]: row for row in json.loads(run_awsrun(["list", "--json"], env).stdout)}

    assert f"keyring: {store['AWSRUN_KEYRING']}" in table
    assert rows["alice"]["kind"] == "stored"
    assert rows["alice"]["source"] == f"keyring: {store['AWSRUN_KEYRING']}"
    assert rows["default"]["source"] == "credentials file"
    assert "alice" in run_awsrun(["list", "--names"], env).stdout.split()


def test_a_role_from_stored_keys_is_served_from_the_cache_without_the_store(
    home: Home, sts: LocalSts
) -> None:
    env = {**home.env, **_file_store(home, home.path)}
    run_awsrun(["add", "--env", "--no-check", "alice"], {**env, **ADD_ENV})
    add_role_on_alice(home)
    first = run_awsrun(["alice-admin", "--", *child_command()], env)
    # A hit never opens the store: a wrong passphrase is not even asked for.
    again = run_awsrun(["alice-admin", "--", "true"], {**env, "AWSRUN_FILE_PASSPHRASE": "no"})

    assert first.returncode == 0, first.stderr
    assert "assumed-role/Admin/" in json.loads(first.stdout)["arn"]
    assert again.returncode == 0, again.stderr
    assert len(sts.assumed_roles()) == 1


def test_no_session_hands_the_stored_keys_on(home: Home, sts: LocalSts) -> None:
    env = {**home.env, **_file_store(home, home.path)}
    run_awsrun(["add", "--env", "--no-check", "alice"], {**env, **ADD_ENV})

    shown = run_awsrun(
        ["--no-session", "alice", "--", "sh", "-c", 'echo "$AWS_ACCESS_KEY_ID"'], env
    )

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == KEY_ID


def test_a_wrong_passphrase_is_one_line_and_leaves_the_file_as_it_was(
    home: Home, sts: LocalSts
) -> None:
    env = {**home.env, **_file_store(home, home.path)}
    run_awsrun(["add", "--env", "--no-check", "alice"], {**env, **ADD_ENV})
    key_file = home.path / ".local" / "share" / "awsrun" / "keys.age"
    before = key_file.read_bytes()

    wrong = {**env, **ADD_ENV, "AWSRUN_FILE_PASSPHRASE": "wrong"}
    refused = run_awsrun(["add", "--env", "--no-check", "bob"], wrong)

    assert refused.returncode == 125
    assert refused.stderr.count("\n") == 1
    assert "the passphrase does not open" in refused.stderr
    assert key_file.read_bytes() == before
    assert (key_file.stat().st_mode & 0o777, key_file.parent.stat().st_mode & 0o777) == (
        0o600,
        0o700,
    )


def test_keys_in_a_file_and_in_the_store_are_refused_before_any_call(
    home: Home, sts: LocalSts
) -> None:
    env = {**home.env, **_file_store(home, home.path)}
    run_awsrun(["add", "--env", "--no-check", "alice"], {**env, **ADD_ENV})
    add_role_on_alice(home)
    home.write_credentials(
        home.credentials.read_text()
        + "\n[alice]\naws_access_key_id = AKIAFILEFILEFILE0001\n"
        + "aws_secret_access_key = fileSECRETfileSECRET\n"
    )

    refused = run_awsrun(["alice-admin", "--", "true"], env)

    assert refused.returncode == 125
    assert "in awsrun's file store" in refused.stderr
    assert str(home.credentials) in refused.stderr
    assert sts.assumed_roles() == []


def test_add_refuses_keys_in_a_file_and_a_terminal_it_does_not_have(
    home: Home, sts: LocalSts
) -> None:
    env = {**home.env, **_file_store(home, home.path)}

    in_file = run_awsrun(["add", "--env", "default"], {**env, **ADD_ENV})
    no_terminal = run_awsrun(["add", "carol"], {**env, **ADD_ENV})

    assert in_file.returncode == 125
    assert f"has keys in {home.credentials}" in in_file.stderr
    assert no_terminal.returncode == 125
    assert "awsrun add --env carol" in no_terminal.stderr  # never the environment unasked
    assert not (home.path / ".local" / "share" / "awsrun" / "keys.age").exists()


def test_auto_with_no_platform_store_names_the_others(home: Home, sts: LocalSts) -> None:
    # No D-Bus session here: keyring finds no Secret Service.
    env = {**home.env, **ADD_ENV, "AWSRUN_KEYRING": "auto", "DBUS_SESSION_BUS_ADDRESS": ""}

    refused = run_awsrun(["add", "--env", "--no-check", "alice"], env)

    assert refused.returncode == 125
    assert "AWSRUN_KEYRING=pass" in refused.stderr
    assert "AWSRUN_KEYRING=file" in refused.stderr


def test_remove_deletes_the_keys_and_what_was_made_with_them(
    home: Home, tmp_path: Path, sts: LocalSts, store: dict[str, str]
) -> None:
    env = {**home.env, **store}
    run_awsrun(["add", "--env", "--no-check", "alice"], {**env, **ADD_ENV})
    assert run_awsrun(["alice", "--", "true"], env).returncode == 0
    assert len(home.cache_entries()) == 1

    removed = run_awsrun(["remove", "alice"], env)
    after = run_awsrun(["alice", "--", "true"], env)

    assert removed.returncode == 0, removed.stderr
    assert "and 1 cached credentials made with them" in removed.stdout
    assert home.cache_entries() == []
    assert after.returncode == 125
    assert "profile 'alice' is not in" in after.stderr
    assert plaintext_copies(tmp_path) == []


def test_pass_gets_the_secret_on_stdin_only(
    home: Home, tmp_path: Path, sts: LocalSts, pass_store: dict[str, str]
) -> None:
    env = {**home.env, **pass_store}
    # A `pass` first on PATH that writes down what it was started with, then runs pass.
    shim = tmp_path / "shim"
    shim.mkdir()
    record = tmp_path / "pass-started-with"
    real = shutil.which("pass")
    (shim / "pass").write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        f"with open({str(record)!r}, 'a') as f:\n"
        "    f.write(json.dumps([sys.argv, dict(os.environ)]) + '\\n')\n"
        f"os.execv({real!r}, [{real!r}, *sys.argv[1:]])\n"
    )
    (shim / "pass").chmod(0o755)
    env["PATH"] = f"{shim}:{env['PATH']}"

    added = run_awsrun(["add", "--env", "--no-check", "alice"], {**env, **ADD_ENV})
    ran = run_awsrun(["alice", "--", "true"], env)

    assert added.returncode == 0, added.stderr
    assert ran.returncode == 0, ran.stderr
    started = record.read_text()
    assert started.count("\n") >= 3  # insert, show (read back), show (the run)
    assert SECRET not in started
    assert "AWS_ACCESS_KEY_ID" not in started


@pytest.mark.skipif(shutil.which("age") is None, reason="age is not installed (make test does)")
def test_the_key_file_opens_with_the_age_command(home: Home, sts: LocalSts) -> None:
    import pexpect

    env = {**home.env, **_file_store(home, home.path)}
    run_awsrun(["add", "--env", "--no-check", "alice"], {**env, **ADD_ENV})
    key_file = home.path / ".local" / "share" / "awsrun" / "keys.age"

    age = pexpect.spawn("age", ["--decrypt", str(key_file)], env=env, encoding="utf-8")
    age.expect("passphrase", timeout=30)
    age.sendline(PASSPHRASE)
    age.expect(pexpect.EOF, timeout=60)
    document = json.loads(age.before[age.before.index("{") :])

    assert document["keys"]["alice"] == {
        "aws_access_key_id": KEY_ID,
        "aws_secret_access_key": SECRET,
    }
    assert os.stat(key_file).st_mode & 0o777 == 0o600


def test_move_takes_the_key_lines_out_and_leaves_every_other_byte(
    home: Home, tmp_path: Path, sts: LocalSts
) -> None:
    env = {**home.env, **_file_store(home, home.path)}
    before = (
        home.credentials.read_text()
        + "# team keys\r\n[other]\r\naws_access_key_id = AKIAOTHEROTHER000001\r\n"
        + "aws_secret_access_key = otherSECRETotherSECRET\r\n\r\n"
        + f"[bob]\naws_access_key_id={KEY_ID}\n  ; a comment that stays\n"
        + f"aws_secret_access_key : {SECRET}\nregion = eu-west-1\n\n[carol]\nx = 1"
    )
    with open(home.credentials, "w", newline="") as handle:
        handle.write(before)
    home.credentials.chmod(0o640)

    moved = run_awsrun(["add", "--move", "--no-check", "bob"], env)
    ran = run_awsrun(["bob", "--", *child_command()], env)

    assert moved.returncode == 0, moved.stderr
    assert f"removed them from {home.credentials}" in moved.stdout
    with open(home.credentials, newline="") as handle:
        after = handle.read()
    assert after == before.replace(f"aws_access_key_id={KEY_ID}\n", "").replace(
        f"aws_secret_access_key : {SECRET}\n", ""
    )
    assert home.credentials.stat().st_mode & 0o777 == 0o640
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["env"]["AWS_ACCESS_KEY_ID"] != KEY_ID
    assert plaintext_copies(tmp_path) == []


def test_move_that_cannot_store_leaves_the_file_as_it_was(home: Home, sts: LocalSts) -> None:
    env = {**home.env, **_file_store(home, home.path)}
    run_awsrun(["add", "--env", "--no-check", "alice"], {**env, **ADD_ENV})
    home.write_credentials(
        home.credentials.read_text()
        + "\n[bob]\naws_access_key_id = AKIABOBBOBBOBBOB0001\naws_secret_access_key = bobSECRET\n"
    )
    before = home.credentials.read_bytes()

    refused = run_awsrun(
        ["add", "--move", "--no-check", "bob"], {**env, "AWSRUN_FILE_PASSPHRASE": "wrong"}
    )

    assert refused.returncode == 125
    assert "the passphrase does not open" in refused.stderr
    assert home.credentials.read_bytes() == before
    rows = {row["profile"]: row for row in json.loads(run_awsrun(["list", "--json"], env).stdout)}
    assert rows["bob"]["source"] == "credentials file"  # nothing recorded for it


def iam_admin(sts: LocalSts) -> Any:
    """An IAM client of moto's, as an administrator would use it."""
    import boto3

    return boto3.client(
        "iam",
        endpoint_url=sts.endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIATESTADMIN0000001",
        aws_secret_access_key="admin",
    )


def iam_user_with_a_key(sts: LocalSts, user: str) -> tuple[str, str]:
    """A user in moto's IAM and an access key of its own: (key id, secret)."""
    iam = iam_admin(sts)
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def iam_keys_of(sts: LocalSts, user: str) -> list[str]:
    listed = iam_admin(sts).list_access_keys(UserName=user)["AccessKeyMetadata"]
    return [key["AccessKeyId"] for key in listed]


def test_rotate_replaces_a_stored_key_and_forgets_what_the_old_one_made(
    home: Home, sts: LocalSts
) -> None:
    env = {**home.env, **_file_store(home, home.path)}
    old_id, old_secret = iam_user_with_a_key(sts, "dana")
    keys = {"AWS_ACCESS_KEY_ID": old_id, "AWS_SECRET_ACCESS_KEY": old_secret}
    assert run_awsrun(["add", "--env", "dana"], {**env, **keys}).returncode == 0
    assert run_awsrun(["dana", "--", "true"], env).returncode == 0
    assert len(home.cache_entries()) == 1

    rotated = run_awsrun(["rotate", "dana"], env)
    show_key = ["--no-session", "dana", "--", "sh", "-c", "echo $AWS_ACCESS_KEY_ID"]
    no_session = run_awsrun(show_key, env)

    assert rotated.returncode == 0, rotated.stderr
    (new_id,) = iam_keys_of(sts, "dana")
    assert new_id != old_id
    assert rotated.stdout.strip().endswith(f"{old_id} deleted, awsrun now holds {new_id}")
    assert home.cache_entries() == []
    assert no_session.stdout.strip() == new_id
    assert old_secret not in rotated.stderr


def test_rotate_rewrites_only_the_values_in_the_credentials_file(home: Home, sts: LocalSts) -> None:
    old_id, old_secret = iam_user_with_a_key(sts, "erin")
    before = (
        home.credentials.read_text()
        + f"\n# erin's keys\n[erin]\naws_access_key_id = {old_id}\n"
        + f"aws_secret_access_key={old_secret}\nregion = eu-west-1\n"
    )
    home.write_credentials(before)
    home.credentials.chmod(0o600)

    rotated = run_awsrun(["rotate", "erin"], home.env)

    assert rotated.returncode == 0, rotated.stderr
    (new_id,) = iam_keys_of(sts, "erin")
    after = home.credentials.read_text()
    changed = [line for line in after.splitlines() if line not in before.splitlines()]
    assert changed[0] == f"aws_access_key_id = {new_id}"
    assert changed[1].startswith("aws_secret_access_key=")
    assert old_secret not in changed[1]
    assert len(changed) == 2
    assert len(after.splitlines()) == len(before.splitlines())
    assert home.credentials.stat().st_mode & 0o777 == 0o600


def test_rotate_that_cannot_create_a_key_changes_nothing_and_says_which_key_it_holds(
    home: Home, sts: LocalSts
) -> None:
    env = {**home.env, **_file_store(home, home.path)}
    # Keys moto's IAM does not know: GetCallerIdentity names a user IAM does not have.
    run_awsrun(["add", "--env", "--no-check", "alice"], {**env, **ADD_ENV})

    refused = run_awsrun(["rotate", "alice"], env)

    assert refused.returncode == 125
    assert refused.stderr.count("\n") == 1
    assert "IAM CreateAccessKey failed" in refused.stderr
    shown = run_awsrun(["--no-session", "alice", "--", "sh", "-c", "echo $AWS_ACCESS_KEY_ID"], env)
    assert shown.stdout.strip() == KEY_ID


def test_move_rotate_remove_leave_the_file_as_it_was_but_the_moved_lines(
    home: Home, tmp_path: Path, sts: LocalSts
) -> None:
    env = {**home.env, **_file_store(home, home.path)}
    key_id, secret = iam_user_with_a_key(sts, "frank")
    original = home.credentials.read_text() + "; frank's\r\n[frank]\r\nregion = eu-west-1\r\n"
    with_keys = original.replace(
        "[frank]\r\n",
        f"[frank]\r\naws_access_key_id = {key_id}\r\naws_secret_access_key = {secret}\r\n",
    )
    with open(home.credentials, "w", newline="") as handle:
        handle.write(with_keys)

    steps = [
        run_awsrun(words, env)
        for words in (["add", "--move", "frank"], ["rotate", "frank"], ["remove", "frank"])
    ]

    assert [step.returncode for step in steps] == [0, 0, 0], [step.stderr for step in steps]
    with open(home.credentials, newline="") as handle:
        assert handle.read() == original
    assert iam_keys_of(sts, "frank") != [key_id]
    assert plaintext_copies(tmp_path, secret) == []
