"""`awsrun --server`: the command gets a container-credentials endpoint instead of keys,
and fresh credentials from it while it runs."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import sys
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import (
    CHILD,
    FAKES,
    ROOT_KEY_ID,
    ROOT_SECRET,
    Home,
    awsrun_executable,
    role_arn,
    run_awsrun,
    term_reaches_the_command,
)
from localsts import LocalSts

from awsrun.credentials.keys import Credentials, iso_utc
from awsrun.errors import StsError
from awsrun.handoff.server import MAX_CONNECTIONS, CredentialServer
from awsrun.report import Reporter

SERVER_CHILD = str(FAKES / "server_child.py")
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


def test_a_default_profile_that_would_win_over_the_endpoint_is_refused(
    home: Home, sts: LocalSts
) -> None:
    home.write_config(
        home.config.read_text().replace(
            "[default]\n", "[default]\ncredential_process = /bin/false\n", 1
        )
    )
    result = run_awsrun(["--server", "prod", "--", "true"], home.env)

    assert result.returncode == 125
    assert result.stderr.count("\n") == 1
    assert "credential_process" in result.stderr
    assert str(home.config) in result.stderr
    assert sts.assumed_roles() == []  # refused before any STS call


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
answers = [ask()]
for pause in sys.argv[1:]:
    time.sleep(float(pause))
    answers.append(ask())
print(json.dumps(answers))
"""


def test_a_refresh_that_fails_serves_the_valid_credentials_and_says_why_once(
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
    command = [sys.executable, "-c", ASK_AFTER_A_PAUSE, "6", "1"]
    result = run_awsrun(
        [*SERVER_REFRESHING_SOON, "--mfa-code", "123456", "needs-mfa", "--", *command],
        home.env,
    )

    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    assert [status for status, _ in answers] == [200, 200, 200]
    first_key = answers[0][1]["AccessKeyId"]
    assert all(body["AccessKeyId"] == first_key for _, body in answers)
    assert len({body["Expiration"] for _, body in answers}) == 1  # the true expiry
    warnings = [line for line in result.stderr.splitlines() if "refreshing" in line]
    assert len(warnings) == 1, result.stderr
    assert "MFA code" in warnings[0]
    assert "--mfa-code" in warnings[0]


SERVER_ABUSE_CHILD = str(FAKES / "server_abuse_child.py")


def test_idle_connections_a_burst_and_a_reset_neither_shut_out_the_sdk_nor_print(
    home: Home, sts: LocalSts
) -> None:
    idle, burst = 3 * MAX_CONNECTIONS, 200
    command = [sys.executable, SERVER_ABUSE_CHILD, str(idle), str(burst)]
    result = run_awsrun(["--server", "prod", "--", *command], home.env, timeout=120)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "assumed-role/Prod/" in report["arn"]
    assert "assumed-role/Prod/" in report["later_arn"]
    # A thread per connection served, a few of awsrun's own; not one per idle connection.
    assert report["threads_while_held"] <= MAX_CONNECTIONS + 4
    assert (report["burst_answered"], report["burst_statuses"]) == (burst, [401])
    assert result.stderr == ""


def test_a_static_key_profile_is_served_with_an_expiration(home: Home, sts: LocalSts) -> None:
    home.write_config(home.config.read_text() + "\n[profile keys]\nregion = eu-west-1\n")
    home.write_credentials(home.credentials.read_text().replace("[default]", "[keys]", 1))
    result = run_awsrun(["--server", "keys", "--", sys.executable, SERVER_CHILD], home.env)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["method"] == "container-role"  # botocore read Token and Expiration
    assert report["first_key"] == ROOT_KEY_ID
    assert report["fields"] == ["AccessKeyId", "Expiration", "SecretAccessKey", "Token"]


def test_web_identity_variables_of_the_caller_do_not_win_over_the_endpoint(
    home: Home, sts: LocalSts, tmp_path: Path
) -> None:
    token_file = tmp_path / "oidc-token"
    token_file.write_text("a.ci.token")
    env = {
        **home.env,
        "AWS_ROLE_ARN": role_arn("CiRole"),
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
        "AWS_ROLE_SESSION_NAME": "ci",
    }
    result = run_awsrun(["--server", "prod", "--", sys.executable, SERVER_CHILD], env)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["method"] == "container-role"
    assert "assumed-role/Prod/" in report["first_arn"]
    assert not {"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} & set(report["env"])


def test_keys_in_the_config_files_default_profile_are_refused(home: Home, sts: LocalSts) -> None:
    home.write_config(
        home.config.read_text().replace(
            "[default]\n",
            f"[default]\naws_access_key_id = {ROOT_KEY_ID}\n"
            f"aws_secret_access_key = {ROOT_SECRET}\n",
            1,
        )
    )
    result = run_awsrun(["--server", "prod", "--", "true"], home.env)

    assert result.returncode == 125
    assert "aws_access_key_id" in result.stderr
    assert ROOT_SECRET not in result.stderr


def test_awsrun_and_a_credential_process_profile_work_inside_the_server_command(
    home: Home, sts: LocalSts
) -> None:
    awsrun = awsrun_executable()
    home.write_config(
        home.config.read_text()
        + f"\n[profile dev-by-process]\ncredential_process = {awsrun} credential-process dev\n"
    )
    inner = (
        f"{awsrun} dev -- {sys.executable} {CHILD} && "
        f"AWS_PROFILE=dev-by-process {sys.executable} {CHILD}"
    )
    result = run_awsrun(["--server", "prod", "--", "sh", "-c", inner], home.env)

    assert result.returncode == 0, result.stderr
    nested, by_process = (json.loads(line) for line in result.stdout.splitlines())
    assert "assumed-role/Dev/" in nested["arn"]
    assert "assumed-role/Dev/" in by_process["arn"]


def _fake_server(fetch: Callable[[], Credentials], first: Credentials, clock: list[float]) -> Any:
    return CredentialServer(
        fetch,
        first,
        label="profile 'p'",
        reporter=Reporter(stream=io.StringIO()),
        min_ttl=900,
        now=lambda: clock[0],
        in_background=lambda work: work(),  # a refresh beside the request, here in it
    )


def test_unit_failed_refreshes_serve_what_is_valid_with_backoff_then_an_error() -> None:
    clock = [1000.0]
    calls: list[float] = []
    first = Credentials("ASIAFIRST", "s", "t", 1600.0)

    def failing() -> Credentials:
        calls.append(clock[0])
        raise StsError("STS is down")

    server = _fake_server(failing, first, clock)
    try:
        token = server.token
        status, body = server.answer(token)
        assert (status, body["AccessKeyId"], body["Expiration"]) == (
            200,
            "ASIAFIRST",
            iso_utc(1600),
        )
        clock[0] += 1
        assert server.answer(token)[0] == 200
        assert len(calls) == 1  # inside the pause after a failure: no new attempt
        clock[0] += 10
        assert server.answer(token)[0] == 200
        assert len(calls) == 2
        clock[0] = 1595.0  # nothing valid left
        status, body = server.answer(token)
        assert status == 500
        assert "STS is down" in body["Message"]
    finally:
        server.close()


def test_unit_a_refresh_that_works_again_is_served() -> None:
    clock = [1000.0]
    outcomes: list[Credentials | None] = [None, Credentials("ASIASECOND", "s", "t", 5000.0)]

    def flaky() -> Credentials:
        outcome = outcomes.pop(0)
        if outcome is None:
            raise StsError("throttled")
        return outcome

    server = _fake_server(flaky, Credentials("ASIAFIRST", "s", "t", 1600.0), clock)
    try:
        assert server.answer(server.token)[1]["AccessKeyId"] == "ASIAFIRST"
        clock[0] += 60
        assert server.answer(server.token)[1]["AccessKeyId"] == "ASIASECOND"
        assert server.answer("wrong")[0] == 401
    finally:
        server.close()


# Reports every SIGINT it gets within 1.5 s of the first: the kernel's si_code (0x80 for
# one the terminal sent to its foreground group) and the sender's pid.
RECORD_SIGINTS = """
import json, signal, time
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
print("ready", flush=True)
got, deadline = [], None
while deadline is None or time.monotonic() < deadline:
    info = signal.sigtimedwait({signal.SIGINT}, 0.1)
    if info is not None:
        got.append([info.si_code, info.si_pid])
        deadline = deadline or time.monotonic() + 1.5
print("got " + json.dumps(got), flush=True)
"""


def _sigints_in_a_terminal(home: Home, send: Callable[[Any], None]) -> tuple[int, list[Any]]:
    """awsrun --server in the foreground of a terminal, its command recording SIGINTs."""
    import pexpect

    session = pexpect.spawn(
        awsrun_executable(),
        ["--server", "prod", "--", sys.executable, "-c", RECORD_SIGINTS],
        env=home.env,
        encoding="utf-8",
        timeout=30,
    )
    session.expect("ready")
    send(session)
    session.expect(r"got (\[.*\])\r\n")
    got = json.loads(session.match.group(1))
    session.expect(pexpect.EOF)
    session.close()
    assert session.exitstatus == 0
    return session.pid, got


def test_kill_int_from_another_process_reaches_the_command_in_a_terminal(
    home: Home, sts: LocalSts
) -> None:
    awsrun_pid, got = _sigints_in_a_terminal(
        home, lambda session: os.kill(session.pid, signal.SIGINT)
    )

    assert got == [[0, awsrun_pid]]  # SI_USER, passed on by awsrun


def test_ctrl_c_reaches_the_command_once_from_the_terminal_not_again_from_awsrun(
    home: Home, sts: LocalSts
) -> None:
    awsrun_pid, got = _sigints_in_a_terminal(home, lambda session: session.sendintr())

    assert got
    assert all(code == 0x80 for code, _ in got), got  # the terminal's: SI_KERNEL
    assert awsrun_pid not in [sender for _, sender in got]


def test_keys_in_a_boto_config_file_are_refused(home: Home, sts: LocalSts) -> None:
    boto_config = home.path / "boto.cfg"
    boto_config.write_text(f"[Credentials]\naws_access_key_id = {ROOT_KEY_ID}\n")
    env = {**home.env, "BOTO_CONFIG": str(boto_config)}

    result = run_awsrun(["--server", "prod", "--", "true"], env)

    assert result.returncode == 125
    assert str(boto_config) in result.stderr


def test_when_full_the_slow_reader_is_dropped_not_a_request_waiting_to_be_read() -> None:
    from http.server import BaseHTTPRequestHandler

    from awsrun.handoff.server import _BoundedHttpServer

    server = _BoundedHttpServer(BaseHTTPRequestHandler)
    waiting_ours, waiting_theirs = socket.socketpair()  # older: its request is in
    slow_ours, slow_theirs = socket.socketpair()  # newer: sent nothing yet
    try:
        waiting_theirs.sendall(b"GET /credentials HTTP/1.0\r\n\r\n")
        server._reading = {waiting_ours: None, slow_ours: None}
        server._drop_oldest_reader()

        assert list(server._reading) == [waiting_ours]
        slow_theirs.settimeout(5)
        assert slow_theirs.recv(1) == b""  # shut down: its client sees the end
    finally:
        server.server_close()
        for end in (waiting_ours, waiting_theirs, slow_ours, slow_theirs):
            end.close()


def test_a_credential_process_run_by_a_refresh_has_no_signals_blocked(
    home: Home, sts: LocalSts, tmp_path: Path
) -> None:
    # awsrun blocks the forwarded signals in its threads (sigwaitinfo); a refresh runs in
    # one of them, and the program it starts must not inherit that mask. (Credentials for
    # 1000 s: outside botocore's 15-minute advisory window, which would run it twice.)
    masks = tmp_path / "masks"
    process = tmp_path / "process.py"
    process.write_text(
        "import json, time\n"
        "status = open('/proc/self/status').read().splitlines()\n"
        "blocked = next(line for line in status if line.startswith('SigBlk:')).split()[1]\n"
        f"open({str(masks)!r}, 'a').write(blocked + '\\n')\n"
        "expiry = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() + 1000))\n"
        "print(json.dumps({'Version': 1, 'AccessKeyId': f'ASIAPROC{time.time_ns()}', "
        "'SecretAccessKey': 'procSECRET', 'SessionToken': 'procTOKEN', "
        "'Expiration': expiry}))\n"
    )
    home.write_config(
        home.config.read_text()
        + f"\n[profile by-process]\ncredential_process = {sys.executable} {process}\n"
    )
    command = [sys.executable, "-c", ASK_AFTER_A_PAUSE, "6"]
    result = run_awsrun(["--server", "--min-ttl", "995", "by-process", "--", *command], home.env)

    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    assert [status for status, _ in answers] == [200, 200]
    assert answers[0][1]["AccessKeyId"] != answers[1][1]["AccessKeyId"]  # refreshed
    assert masks.read_text().split() == ["0000000000000000"] * 2
