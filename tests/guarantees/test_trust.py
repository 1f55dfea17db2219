"""Trust, round three: nothing of the caller's reaches the command, no other local user
gets in, no stale identity or region, and every wait is bounded. Each test runs the
installed awsrun as a process against moto's STS on 127.0.0.1."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CHILD, Home, awsrun_executable, role_arn, run_awsrun
from fakefederation import FakeFederation, federation
from localsts import LocalSts

PRINT_REGION = ["sh", "-c", 'echo "$AWS_REGION $AWS_DEFAULT_REGION"']
REGIONS = f"""
[profile staging]
role_arn = {role_arn("Staging")}
source_profile = default
region = us-east-2

[profile frankfurt]
role_arn = {role_arn("Frankfurt")}
source_profile = default
region = eu-central-1

[profile nowhere]
role_arn = {role_arn("Nowhere")}
source_profile = default
"""


@pytest.fixture
def regions(home: Home) -> Home:
    home.write_config(home.config.read_text().replace("region = eu-west-1\n", "", 1) + REGIONS)
    return home


def test_an_inner_awsrun_uses_its_own_profiles_region(regions: Home, sts: LocalSts) -> None:
    awsrun = awsrun_executable()
    nested = run_awsrun(
        ["staging", "--", awsrun, "-v", "frankfurt", "--", *PRINT_REGION], regions.env
    )
    chosen = run_awsrun(
        ["staging", "--", awsrun, "--region", "ap-south-1", "frankfurt", "--", *PRINT_REGION],
        regions.env,
    )
    users = run_awsrun(
        ["staging", "--", "sh", "-c", f"AWS_DEFAULT_REGION=sa-east-1 {awsrun} frankfurt -- "
         "sh -c 'echo $AWS_REGION $AWS_DEFAULT_REGION'"],
        regions.env,
    )  # fmt: skip
    none = run_awsrun(["staging", "--", awsrun, "nowhere", "--", *PRINT_REGION], regions.env)
    outer_user = run_awsrun(
        ["staging", "--", awsrun, "frankfurt", "--", *PRINT_REGION],
        {**regions.env, "AWS_DEFAULT_REGION": "ca-central-1"},
    )

    assert nested.returncode == 0, nested.stderr
    assert nested.stdout == "eu-central-1 eu-central-1\n"
    assert "region eu-central-1: from the region of profile 'frankfurt'" in nested.stderr
    assert chosen.stdout == "ap-south-1 ap-south-1\n"
    assert users.stdout == "sa-east-1 sa-east-1\n"
    assert none.stdout == " \n"  # the outer profile's region is not the inner one's
    assert outer_user.stdout == "ca-central-1 ca-central-1\n"  # the user's, all the way


def test_a_second_env_in_one_shell_takes_its_own_region(regions: Home, sts: LocalSts) -> None:
    awsrun = awsrun_executable()
    script = (
        f'eval "$({awsrun} env staging)" && eval "$({awsrun} env frankfurt)" && '
        'echo "$AWS_REGION $AWS_DEFAULT_REGION" && '
        f'eval "$({awsrun} env nowhere)" && echo "${{AWS_REGION-unset}}"'
    )
    result = subprocess.run(
        ["sh", "-c", script], env=regions.env, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "eu-central-1 eu-central-1\nunset\n"


CALLERS_KEYS = {
    "AWS_ACCESS_KEY": "AKIACALLEROLDNAME001",
    "AWS_SECRET_KEY": "callerOLDsecret",
    "AMAZON_ACCESS_KEY_ID": "AKIACALLERAMAZON0001",
    "AMAZON_SECRET_ACCESS_KEY": "callerAMAZONsecret",
    "AMAZON_SESSION_TOKEN": "callerAMAZONtoken",
    "SECRET_ACCESS_KEY": "callerRUSTsecret",
    "AWS_SECURITY_TOKEN": "callerSECURITYtoken",
    "AWS_CREDENTIAL_PROFILES_FILE": "/caller/credentials",
}
PRINT_NAMES = [
    sys.executable,
    "-c",
    "import json, os; print(json.dumps({n: os.environ.get(n) for n in "
    f"{sorted([*CALLERS_KEYS, 'AWS_SHARED_CREDENTIALS_FILE'])!r}}}))",
]


@pytest.mark.parametrize("mode", [[], ["--server"]])
def test_the_callers_keys_under_other_names_never_reach_the_command(
    home: Home, sts: LocalSts, mode: list[str]
) -> None:
    result = run_awsrun([*mode, "prod", "--", *PRINT_NAMES], {**home.env, **CALLERS_KEYS})

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    for name in CALLERS_KEYS:
        if name != "AWS_CREDENTIAL_PROFILES_FILE":
            assert seen[name] is None, name
    if mode:  # the Java SDK v1's credentials file is hidden as the shared one is
        assert seen["AWS_CREDENTIAL_PROFILES_FILE"] == os.devnull
        assert seen["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    else:
        assert seen["AWS_CREDENTIAL_PROFILES_FILE"] == "/caller/credentials"


def test_an_awsrun_inside_server_runs_as_its_own_profile(home: Home, sts: LocalSts) -> None:
    awsrun = awsrun_executable()
    inner = (
        f"{awsrun} dev -- {sys.executable} {CHILD} && "
        f'eval "$({awsrun} env dev)" && {sys.executable} {CHILD}'
    )
    result = run_awsrun(["--server", "prod", "--", "sh", "-c", inner], home.env)

    assert result.returncode == 0, result.stderr
    for line in result.stdout.splitlines():
        report = json.loads(line)
        assert "assumed-role/Dev/" in report["arn"]
        assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in report["env"]
        assert "AWS_CONTAINER_AUTHORIZATION_TOKEN" not in report["env"]


@pytest.mark.parametrize("shell_format", ["sh", "fish", "powershell", "cmd"])
def test_every_shell_format_of_env_unsets_an_outer_endpoint(
    home: Home, sts: LocalSts, shell_format: str
) -> None:
    result = run_awsrun(["env", "prod", "--format", shell_format], home.env)

    assert result.returncode == 0, result.stderr
    unset = [
        line for line in result.stdout.splitlines() if "AWS_CONTAINER_CREDENTIALS_FULL_URI" in line
    ]
    assert unset, result.stdout
    assert any("AWS_CONTAINER_AUTHORIZATION_TOKEN" in line for line in result.stdout.splitlines())


def test_env_output_writes_a_private_file_and_keeps_it_when_env_fails(
    home: Home, sts: LocalSts, tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "app.env"
    umask = ["sh", "-c", f'umask 022; exec {awsrun_executable()} "$@"', "awsrun"]
    subprocess.run(
        [*umask, "env", "prod", "--format", "dotenv", "--output", str(target)],
        env=home.env,
        check=True,
    )
    written = target.read_text()
    failed = run_awsrun(["env", "nosuch", "--format", "dotenv", "--output", str(target)], home.env)

    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "AWS_SECRET_ACCESS_KEY=" in written
    assert failed.returncode == 125
    assert failed.stdout == ""
    assert target.read_text() == written  # as it was
    assert [path.name for path in target.parent.iterdir()] == ["app.env"]  # no temporary


def test_server_serves_what_it_holds_when_the_cache_is_refused(
    home: Home, sts: LocalSts, tmp_path: Path
) -> None:
    home.cache.mkdir(mode=0o755)
    home.cache.chmod(0o755)
    runs = tmp_path / "mfa-runs"
    home.write_config(
        home.config.read_text()
        + f"\n[profile guarded]\nrole_arn = {role_arn('Guarded')}\nsource_profile = default\n"
        f"mfa_serial = arn:aws:iam::123456789012:mfa/alice\n"
        f"mfa_process = sh -c 'echo x >> {runs}; echo 123456'\n"
    )
    asks = (
        "import boto3\nfor _ in range(5):\n"
        "    boto3.Session().client('sts', region_name='us-east-1').get_caller_identity()\n"
    )
    result = run_awsrun(["--server", "guarded", "--", sys.executable, "-c", asks], home.env)

    assert result.returncode == 0, result.stderr
    assert len(sts.assumed_roles()) == 1
    assert runs.read_text().count("x") == 1


def test_a_stuck_refresh_does_not_hold_up_requests_and_is_ended_with_the_command(
    home: Home, sts: LocalSts, tmp_path: Path
) -> None:
    # The first run of the credential_process answers; every later one hangs.
    marker, started = tmp_path / "answered-once", tmp_path / "hung-pid"
    process = tmp_path / "process.py"
    process.write_text(
        textwrap.dedent(f"""\
        import json, os, pathlib, time
        marker = pathlib.Path({str(marker)!r})
        if marker.exists():
            pathlib.Path({str(started)!r}).write_text(str(os.getpid()))
            time.sleep(120)
        marker.write_text("")
        expiry = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() + 1000))
        print(json.dumps({{'Version': 1, 'AccessKeyId': 'ASIAPROCESS', 'SecretAccessKey':
            'procSECRET', 'SessionToken': 'procTOKEN', 'Expiration': expiry}}))
    """)
    )
    home.write_config(
        home.config.read_text()
        + f"\n[profile hangs]\ncredential_process = {sys.executable} {process}\n"
    )
    asks = textwrap.dedent("""\
        import json, os, time, urllib.request
        def ask():
            request = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
            request.add_header("Authorization", os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.load(answer)["AccessKeyId"]
        answers = [ask()]
        time.sleep(6)  # past --min-ttl: the refresh that hangs starts
        answers += [ask() for _ in range(3)]
        print(json.dumps(answers))
    """)
    result = run_awsrun(
        ["--server", "--min-ttl", "995", "hangs", "--", sys.executable, "-c", asks],
        home.env,
        timeout=90,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["ASIAPROCESS"] * 4
    pid = int(started.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        if Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] == "Z":
            break
        time.sleep(0.1)
    alive = Path(f"/proc/{pid}").exists() and (
        Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
    )
    assert not alive, "the hung credential_process outlived awsrun"


def test_server_says_when_the_command_leaves_processes_asking(home: Home, sts: LocalSts) -> None:
    leaves = ["sh", "-c", "sleep 30 & echo started"]
    piped = ["sh", "-c", f"{awsrun_executable()} --server prod -- true | cat"]
    left = run_awsrun(["--server", "prod", "--", *leaves], home.env)
    sibling = subprocess.run(piped, env=home.env, capture_output=True, text=True, check=False)

    assert left.returncode == 0, left.stderr
    assert "1 process(es) the command started still run" in left.stderr
    assert sibling.returncode == 0
    assert "still run" not in sibling.stderr


def write_to(fd: int) -> list[str]:
    return [sys.executable, "-c", f"import os; os.write({fd}, b'hello\\n')"]


def test_server_passes_the_callers_descriptors_on(home: Home, sts: LocalSts) -> None:
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)
    try:
        result = subprocess.run(
            [awsrun_executable(), "--server", "prod", "--", *write_to(write_end)],
            env=home.env,
            capture_output=True,
            text=True,
            pass_fds=(write_end,),
            check=False,
        )
        os.close(write_end)
        write_end = -1
        assert result.returncode == 0, result.stderr
        assert os.read(read_end, 100) == b"hello\n"
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def test_a_failing_mfa_process_is_named_by_its_program_only(home: Home, sts: LocalSts) -> None:
    home.write_config(
        home.config.read_text()
        + f"\n[profile totp]\nrole_arn = {role_arn('Totp')}\nsource_profile = default\n"
        "mfa_serial = arn:aws:iam::123456789012:mfa/alice\n"
        "mfa_process = oathtool-missing --totp --base32 JBSWY3DPEHPK3PXPSEEDSEED\n"
    )
    result = run_awsrun(["totp", "--", "true"], home.env)

    assert result.returncode == 125
    assert "oathtool-missing" in result.stderr
    assert "SEEDSEED" not in result.stderr
    assert "--totp" not in result.stderr


def test_clear_never_deletes_through_a_symlinked_cache_folder(
    home: Home, sts: LocalSts, tmp_path: Path
) -> None:
    assert run_awsrun(["prod", "--", "true"], home.env).returncode == 0
    real = tmp_path / "real-cache"
    home.cache.rename(real)
    home.cache.symlink_to(real)

    result = run_awsrun(["clear", "prod"], home.env)

    assert list(real.glob("*.ini")), "an entry was deleted through the symlink"
    assert "is a symlink" in result.stderr
    assert "chmod" not in result.stderr  # chmod would follow the link


def test_list_shows_control_characters_in_names_escaped(home: Home, sts: LocalSts) -> None:
    home.write_config(home.config.read_text() + "\n[profile evil\x1b[31mred]\nregion = eu-west-1\n")
    result = run_awsrun(["list"], home.env)

    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert "evil\\x1b[31mred" in result.stdout


@pytest.fixture
def fed(home: Home) -> Iterator[FakeFederation]:
    with federation() as fake:
        home.env["AWSRUN_FEDERATION_ENDPOINT"] = fake.endpoint
        yield fake


def test_the_federation_endpoint_variable_is_said_refused_elsewhere_and_never_proxied(
    home: Home, sts: LocalSts, fed: FakeFederation, tmp_path: Path
) -> None:
    # A proxy that would receive the session: nobody listens, so a proxied run would fail.
    sts_host = sts.endpoint.removeprefix("http://")  # STS itself is reached directly
    proxied = {
        **home.env,
        **dict.fromkeys(("http_proxy", "HTTP_PROXY"), "http://127.0.0.1:9"),
        **dict.fromkeys(("no_proxy", "NO_PROXY"), sts_host),
    }
    through_proxy = run_awsrun(["console", "--print", "prod"], proxied)
    elsewhere = {**home.env, "AWSRUN_FEDERATION_ENDPOINT": "https://federation.example/federation"}
    refused = run_awsrun(["console", "--print", "prod"], elsewhere)
    trusted = run_awsrun(
        ["console", "--print", "prod"],
        {
            **elsewhere,
            "AWSRUN_FEDERATION_TRUSTED_HOST": "federation.example",
            "AWS_EC2_METADATA_DISABLED": "true",
        },
    )

    assert through_proxy.returncode == 0, through_proxy.stderr
    assert "AWSRUN_FEDERATION_ENDPOINT is set" in through_proxy.stderr
    assert len(fed.sessions) == 1
    assert refused.returncode == 125
    assert "AWSRUN_FEDERATION_TRUSTED_HOST=federation.example" in refused.stderr
    assert "neither an AWS sign-in host" not in trusted.stderr  # let through (and unreachable)


@pytest.mark.parametrize(
    "destination",
    ["https://evil.example\\.console.aws.amazon.com/x", "https://evil.example@console.aws.amazon.com/",
     "https://evil.example%2f.console.aws.amazon.com/", "https://evil .console.aws.amazon.com/"],
)  # fmt: skip
def test_a_destination_a_browser_would_read_otherwise_is_refused(
    home: Home, sts: LocalSts, fed: FakeFederation, destination: str
) -> None:
    result = run_awsrun(["console", "--print", "--destination", destination, "prod"], home.env)

    assert result.returncode == 125
    assert "--destination takes a console URL" in result.stderr
    assert sts.assumed_roles() == []


def test_no_internal_variable_reaches_the_browser(
    home: Home, sts: LocalSts, fed: FakeFederation, tmp_path: Path
) -> None:
    seen = tmp_path / "browser-env"
    browser = tmp_path / "browser"
    browser.write_text(
        f"#!{sys.executable}\nimport json, os\n"
        f"names = sorted(n for n in os.environ if n.startswith('AWSRUN'))\n"
        f"open({str(seen)!r}, 'w').write(json.dumps(names))\n"
    )
    browser.chmod(0o755)
    home.env["BROWSER"] = f"{browser} %s"

    result = run_awsrun(["console", "prod"], home.env)

    assert result.returncode == 0, result.stderr
    assert "AWSRUN_CREDENTIAL_PROCESS_STACK" not in json.loads(seen.read_text())
