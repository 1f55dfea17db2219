"""`awsrun --server`: the command gets a container-credentials endpoint instead of keys,
and fresh credentials from it while it runs."""

from __future__ import annotations

import json
import signal
import socket
import sys
import urllib.parse
from pathlib import Path

from conftest import Home, run_awsrun, term_reaches_the_command
from localsts import LocalSts

SERVER_CHILD = str(Path(__file__).resolve().parent / "server_child.py")
# moto's shortest session is 15 minutes; a margin of 895 s makes awsrun refresh a few
# seconds after the first answer, instead of 10 minutes later.
SERVER_REFRESHING_SOON = ["--server", "--duration", "900", "--min-ttl", "895"]


def test_the_child_gets_new_credentials_from_the_endpoint_without_restarting(
    home: Home, sts: LocalSts
) -> None:
    result = run_awsrun(
        [*SERVER_REFRESHING_SOON, "prod", "--", sys.executable, SERVER_CHILD, "6"], home.env
    )

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["method"] == "container-role"
    assert report["first_key"] != report["later_key"]
    assert report["first_arn"].startswith("arn:aws:sts::123456789012:assumed-role/Prod/")
    assert report["second_arn"].startswith("arn:aws:sts::123456789012:assumed-role/Prod/")
    assert len(sts.assumed_roles()) >= 2


def test_the_endpoint_wants_the_token_and_speaks_the_container_format(
    home: Home, sts: LocalSts
) -> None:
    result = run_awsrun(["--server", "prod", "--", sys.executable, SERVER_CHILD], home.env)

    report = json.loads(result.stdout)
    assert (report["no_token"], report["wrong_token"], report["right_token"]) == (401, 401, 200)
    assert report["fields"] == ["AccessKeyId", "Expiration", "SecretAccessKey", "Token"]
    assert urllib.parse.urlsplit(report["url"]).hostname == "127.0.0.1"
    assert "AWS_ACCESS_KEY_ID" not in report["env"]
    assert "AWS_SECRET_ACCESS_KEY" not in report["env"]
    assert "AWS_SESSION_TOKEN" not in report["env"]
    assert {"AWS_REGION", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} <= set(report["env"])
    assert len(sts.assumed_roles()) == 1  # the first answer came from the cache


def test_exit_status_is_the_commands_and_the_port_closes(home: Home, sts: LocalSts) -> None:
    script = 'echo "$AWS_CONTAINER_CREDENTIALS_FULL_URI"; exit 3'
    result = run_awsrun(["--server", "prod", "--", "sh", "-c", script], home.env)

    assert result.returncode == 3
    port = urllib.parse.urlsplit(result.stdout.strip()).port
    assert port is not None
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_death_by_signal_is_128_plus_n(home: Home, sts: LocalSts) -> None:
    result = run_awsrun(["--server", "prod", "--", "sh", "-c", "kill -KILL $$"], home.env)

    assert result.returncode == 128 + signal.SIGKILL


def test_sigterm_to_awsrun_reaches_the_command(home: Home, sts: LocalSts, tmp_path: Path) -> None:
    said = term_reaches_the_command(["--server", "prod"], home.env, tmp_path / "ready")

    assert "got-term" in said


def test_server_does_not_go_with_env(home: Home) -> None:
    assert run_awsrun(["--server", "env", "prod"], home.env).returncode == 125


def test_a_command_that_is_not_found_is_127(home: Home, sts: LocalSts) -> None:
    result = run_awsrun(["--server", "prod", "--", "no-such-command-awsrun"], home.env)

    assert result.returncode == 127
    assert "Traceback" not in result.stderr


def test_a_default_profile_that_would_win_over_the_endpoint_is_named(
    home: Home, sts: LocalSts
) -> None:
    home.write_config(
        home.config.read_text().replace(
            "[default]\n", "[default]\ncredential_process = /bin/false\n", 1
        )
    )
    result = run_awsrun(["--server", "prod", "--", "true"], home.env)

    assert result.returncode == 0, result.stderr
    assert "credential_process" in result.stderr
    assert str(home.config) in result.stderr


ASK_AFTER_A_PAUSE = """
import json, os, sys, time, urllib.error, urllib.request
def ask():
    request = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
    request.add_header("Authorization", os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)
first = ask()
time.sleep(float(sys.argv[1]))
print(json.dumps({"first": first[0], "later": ask()}))
"""


def test_a_refresh_that_needs_an_mfa_code_and_has_no_terminal_says_so(
    home: Home, sts: LocalSts
) -> None:
    # Temporary keys cannot open an MFA session, so every AssumeRole of this role needs a
    # code; the one from --mfa-code is used up by the first, and there is no terminal.
    home.write_credentials(
        home.credentials.read_text() + "\n[temp-keys]\naws_access_key_id = ASIATEMPORARYKEYS001\n"
        "aws_secret_access_key = tempSECRET\naws_session_token = tempTOKEN\n"
    )
    home.write_config(
        home.config.read_text()
        + "\n[profile needs-mfa]\nrole_arn = arn:aws:iam::123456789012:role/NeedsMfa\n"
        "source_profile = temp-keys\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\n"
    )
    result = run_awsrun(
        [
            *SERVER_REFRESHING_SOON,
            "--mfa-code",
            "123456",
            "needs-mfa",
            "--",
            sys.executable,
            "-c",
            ASK_AFTER_A_PAUSE,
            "6",
        ],
        home.env,
    )

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["first"] == 200
    status, body = report["later"]
    assert status == 500
    assert "MFA code" in body["Message"]
    assert "--mfa-code" in body["Message"]
