"""awsrun console: the AWS console signed in as a profile, from the same cache, through a
fake federation endpoint on 127.0.0.1 (tests/fakefederation.py) and moto's STS."""

from __future__ import annotations

import html
import json
import re
import socket
import stat
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT_KEY_ID, Home, role_arn, run_awsrun
from fakefederation import FakeFederation, federation
from localsts import LocalSts

SERIAL = "arn:aws:iam::123456789012:mfa/alice"


@pytest.fixture
def fed(home: Home) -> Iterator[FakeFederation]:
    with federation() as fake:
        home.env["AWSRUN_FEDERATION_ENDPOINT"] = fake.endpoint
        for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY"):
            home.env.pop(name, None)
        yield fake


@pytest.fixture
def browser_log(home: Home, tmp_path: Path) -> Path:
    """BROWSER: a program that records the URL it is asked to open, as a browser would get it."""
    log = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(
        f"#!{sys.executable}\nimport sys\nopen({str(log)!r}, 'a').write(sys.argv[1] + '\\n')\n"
    )
    browser.chmod(0o755)
    home.env["BROWSER"] = f"{browser} %s"
    return log


ENDPOINT_WARNING = (
    "awsrun: AWSRUN_FEDERATION_ENDPOINT is set: the credentials go to the federation "
    "endpoint it names, not AWS's\n"
)


def own_lines(stderr: str) -> str:
    """awsrun's stderr less the line that says the test's endpoint is in use."""
    return stderr.replace(ENDPOINT_WARNING, "", 1)


def forwarded_url(opened: str) -> str:
    """The URL the private page that the browser was handed forwards to; the page is the
    user's alone."""
    assert opened.startswith("file:///")
    page = Path(opened.removeprefix("file://"))
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    assert stat.S_IMODE(page.parent.stat().st_mode) == 0o700
    found = re.search(r'http-equiv="refresh" content="0;url=([^"]*)"', page.read_text())
    assert found is not None
    return html.unescape(found.group(1))


def login_parameters(url: str, fed: FakeFederation) -> dict[str, str]:
    """The parameters of a login URL of the fake endpoint, each given once."""
    base, _, query = url.partition("?")
    assert base == fed.endpoint
    parameters = urllib.parse.parse_qs(query, strict_parsing=True)
    assert all(len(values) == 1 for values in parameters.values())
    return {name: values[0] for name, values in parameters.items()}


def env_keys(home: Home, profile: str, *options: str) -> dict[str, str]:
    result = run_awsrun([*options, "env", profile, "--format", "json"], home.env)
    assert result.returncode == 0, result.stderr
    variables: dict[str, str] = json.loads(result.stdout)
    return variables


def assert_no_sign_in_secret(stderr: str, fed: FakeFederation) -> None:
    assert "signin-token" not in stderr
    assert "SigninToken" not in stderr
    assert fed.endpoint + "?" not in stderr
    for session in fed.sessions:
        assert session["sessionKey"] not in stderr
        assert session["sessionToken"] not in stderr


def test_a_cached_mfa_role_session_opens_the_console_with_no_sts_call_and_no_code(
    home: Home, sts: LocalSts, fed: FakeFederation
) -> None:
    home.write_config(
        "[default]\nregion = eu-west-1\n"
        f"[profile admin]\nrole_arn = {role_arn('Admin')}\nsource_profile = default\n"
        f"mfa_serial = {SERIAL}\nregion = eu-north-1\n"
    )
    keys = env_keys(home, "admin", "--mfa-code", "123456")
    # No terminal and no code: a prompt would fail this run.
    result = run_awsrun(["console", "--print", "admin"], home.env)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ENDPOINT_WARNING
    assert (sts.session_tokens(), len(sts.assumed_roles())) == (1, 1)
    assert fed.sessions == [
        {
            "sessionId": keys["AWS_ACCESS_KEY_ID"],
            "sessionKey": keys["AWS_SECRET_ACCESS_KEY"],
            "sessionToken": keys["AWS_SESSION_TOKEN"],
        }
    ]
    assert fed.durations == [None]  # the console lasts as long as the role session
    url = result.stdout.removesuffix("\n")
    assert "\n" not in url
    assert login_parameters(url, fed) == {
        "Action": "login",
        "Issuer": "awsrun",
        "Destination": "https://console.aws.amazon.com/console/home?region=eu-north-1",
        "SigninToken": "signin-token-1-secret",
    }


def test_the_browser_is_handed_the_url_and_stderr_never_sees_it(
    home: Home, sts: LocalSts, fed: FakeFederation, browser_log: Path
) -> None:
    result = run_awsrun(
        ["-v", "console", "--service", "s3", "--region", "us-west-2", "--duration", "8h", "prod"],
        home.env,
    )
    again = env_keys(home, "prod")

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    [opened] = browser_log.read_text().splitlines()
    assert "SigninToken" not in opened  # the browser's argv: any local user reads it
    parameters = login_parameters(forwarded_url(opened), fed)
    assert parameters["Destination"] == "https://console.aws.amazon.com/s3/home?region=us-west-2"
    assert parameters["SigninToken"] == "signin-token-1-secret"
    assert fed.durations == ["28800"]
    assert "console session as profile 'prod' until" in result.stderr
    assert "(--duration 8h00m)" in result.stderr
    assert_no_sign_in_secret(result.stderr, fed)
    # --duration set the console's length, not the role session's: the cache entry serves.
    assert len(sts.assumed_roles()) == 1
    assert fed.sessions[0]["sessionId"] == again["AWS_ACCESS_KEY_ID"]


def test_long_term_keys_go_through_a_federation_token(
    home: Home, sts: LocalSts, fed: FakeFederation
) -> None:
    result = run_awsrun(["-v", "console", "--print", "--duration", "2h", "default"], home.env)

    assert result.returncode == 0, result.stderr
    assert sts.federation_tokens() == ["default"]
    [session] = fed.sessions
    assert session["sessionId"] != ROOT_KEY_ID
    assert session["sessionToken"]
    assert fed.durations == [None]  # the endpoint refuses SessionDuration for these
    assert "GetFederationToken as 'default' for 2h00m" in result.stderr
    assert_no_sign_in_secret(result.stderr, fed)


def test_an_mfa_session_alone_is_refused_before_any_call(
    home: Home, sts: LocalSts, fed: FakeFederation
) -> None:
    home.write_config(f"[default]\nregion = eu-west-1\nmfa_serial = {SERIAL}\n")
    result = run_awsrun(["console", "--print", "--mfa-code", "123456", "default"], home.env)

    assert result.returncode == 125
    assert result.stderr.count("\n") == 1
    assert "gives an MFA session (GetSessionToken), which the AWS console does not take" in (
        result.stderr
    )
    assert (sts.session_tokens(), fed.sessions) == (0, [])


@pytest.mark.parametrize(
    ("partition", "region", "console_host"),
    [("aws-cn", "cn-north-1", "console.amazonaws.cn"),
     ("aws-us-gov", "us-gov-west-1", "console.amazonaws-us-gov.com")],
)  # fmt: skip
def test_the_console_host_follows_the_roles_partition(
    home: Home,
    sts: LocalSts,
    fed: FakeFederation,
    partition: str,
    region: str,
    console_host: str,
) -> None:
    arn = f"arn:{partition}:iam::123456789012:role/Ops"
    home.write_config(
        home.config.read_text()
        + f"\n[profile ops]\nrole_arn = {arn}\nsource_profile = default\nregion = {region}\n"
    )
    result = run_awsrun(["console", "--print", "ops"], home.env)

    assert result.returncode == 0, result.stderr
    destination = login_parameters(result.stdout.strip(), fed)["Destination"]
    assert destination == f"https://{console_host}/console/home?region={region}"
    refused = run_awsrun(
        ["console", "--print", "--destination", "https://console.aws.amazon.com/s3", "ops"],
        home.env,
    )
    assert refused.returncode == 125
    assert f"--destination takes a console URL of partition {partition}" in refused.stderr
    assert len(sts.assumed_roles()) == 1  # refused before a second AssumeRole


def test_failures_are_one_line_and_never_show_the_url(
    home: Home, sts: LocalSts, fed: FakeFederation
) -> None:
    fed.refuse_with = 400
    refused = run_awsrun(["console", "--print", "prod"], home.env)
    fed.refuse_with = 503
    outage = run_awsrun(["console", "--print", "prod"], home.env)
    fed.refuse_with = None
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/federation"
    unreachable = run_awsrun(
        ["console", "--print", "prod"], {**home.env, "AWSRUN_FEDERATION_ENDPOINT": closed}
    )
    no_browser = run_awsrun(["console", "dev"], home.env)

    for result in (refused, outage, unreachable, no_browser):
        assert result.returncode == 125
        assert result.stdout == ""
        assert own_lines(result.stderr).startswith("awsrun: ")
        assert own_lines(result.stderr).count("\n") == 1, result.stderr
        assert_no_sign_in_secret(result.stderr, fed)
    assert "refused the credentials (HTTP 400)" in refused.stderr
    assert "(HTTP 503, 3 tries)" in outage.stderr
    assert f"cannot reach the AWS federation endpoint at {closed}" in unreachable.stderr
    assert "run 'awsrun console --print dev'" in no_browser.stderr
    # Nothing was fetched for a console that had nowhere to open.
    assert [call["role_arn"] for call in sts.assumed_roles()] == [role_arn("Prod")]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["console", "--service", "s3", "--destination", "https://console.aws.amazon.com/", "prod"],
      "--service or --destination, not both"),
     (["console", "--print", "--service", "S3 home", "prod"], "--service takes"),
     (["--print", "prod", "--", "true"], "--print goes with awsrun console only"),
     (["console", "--print", "prod"], "AWSRUN_FEDERATION_ENDPOINT takes an https:// URL")],
)  # fmt: skip
def test_console_usage_errors(
    home: Home, sts: LocalSts, fed: FakeFederation, args: list[str], message: str
) -> None:
    env = dict(home.env)
    if "AWSRUN_FEDERATION_ENDPOINT" in message:
        env["AWSRUN_FEDERATION_ENDPOINT"] = "http://federation.example/federation"
    result = run_awsrun(args, env)

    assert result.returncode == 125
    assert message in result.stderr
    assert (fed.sessions, sts.assumed_roles()) == ([], [])  # refused before any call


def test_an_opened_console_says_so_without_v(
    home: Home, sts: LocalSts, fed: FakeFederation, browser_log: Path
) -> None:
    result = run_awsrun(["console", "prod"], home.env)

    assert result.returncode == 0, result.stderr
    assert "awsrun: opened your browser: console session as profile 'prod' until" in (result.stderr)
    assert_no_sign_in_secret(result.stderr, fed)


def test_a_browser_that_cannot_run_is_one_line_before_any_call(
    home: Home, sts: LocalSts, fed: FakeFederation
) -> None:
    home.env["BROWSER"] = "/no/such/browser %s"

    result = run_awsrun(["console", "prod"], home.env)

    assert result.returncode == 125
    assert "BROWSER='/no/such/browser %s' names no program that can be run" in result.stderr
    assert own_lines(result.stderr).count("\n") == 1
    assert (sts.assumed_roles(), fed.sessions) == ([], [])
