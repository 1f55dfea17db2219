"""Fixtures: a local STS (moto's server on loopback), a throw-away HOME with AWS config
files, and a runner for the installed `awsrun` entry point."""

from __future__ import annotations

import configparser
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The local STS (tools/) and the fakes and child programs every test folder shares (fakes/).
TESTS = Path(__file__).resolve().parent
FAKES = TESTS / "fakes"
sys.path.insert(0, str(TESTS.parent / "tools"))
sys.path.insert(0, str(FAKES))

from localsts import LocalSts, isolated_environment, local_sts  # noqa: E402

ROOT_KEY_ID = "AKIAAWSRUNTESTROOT01"
# Recognisable, so a test can scan everything awsrun printed for it.
ROOT_SECRET = "rootSECRETrootSECRETrootSECRET0123456789"
ACCOUNT = "123456789012"
CHILD = str(FAKES / "child_identity.py")


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


@pytest.fixture(scope="session")
def sts_server() -> Iterator[LocalSts]:
    with local_sts() as server:
        yield server


# Everything awsrun printed on stderr during the current test, for the secret scan.
_STDERR_SEEN: list[str] = []


@pytest.fixture
def sts(sts_server: LocalSts) -> Iterator[LocalSts]:
    sts_server.reset()
    yield sts_server
    # Every test that used the local STS is also a secret-leak test: no secret key or
    # session token that STS handed out, and no long-term secret, may be on stderr.
    secrets = {ROOT_SECRET}
    for call in sts_server.assumed_roles():
        secrets.update({str(call["secret_access_key"]), str(call["session_token"])})
    for text in _STDERR_SEEN:
        for secret in secrets:
            assert secret not in text, "a secret reached awsrun's stderr"


def stderr_seen() -> list[str]:
    """What awsrun printed on stderr so far in the current test (run_awsrun's runs)."""
    return list(_STDERR_SEEN)


@pytest.fixture(autouse=True)
def _fresh_stderr_record() -> None:
    _STDERR_SEEN.clear()


@pytest.fixture(autouse=True)
def _no_aws_from_the_caller(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may see the developer's AWS settings or reach AWS."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "AWSRUN_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "home" / ".aws" / "config"))
    monkeypatch.setenv(
        "AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "home" / ".aws" / "credentials")
    )
    monkeypatch.setenv("AWSRUN_CACHE_DIR", str(tmp_path / "home" / "cache"))


@dataclass
class Home:
    """A user's HOME with AWS config files, and the environment awsrun runs in."""

    path: Path
    env: dict[str, str]

    @property
    def config(self) -> Path:
        return self.path / ".aws" / "config"

    @property
    def credentials(self) -> Path:
        return self.path / ".aws" / "credentials"

    @property
    def cache(self) -> Path:
        return Path(self.env["AWSRUN_CACHE_DIR"])

    def write_config(self, text: str) -> None:
        self.config.parent.mkdir(parents=True, exist_ok=True)
        self.config.write_text(text)

    def write_credentials(self, text: str) -> None:
        self.credentials.parent.mkdir(parents=True, exist_ok=True)
        self.credentials.write_text(text)

    def cache_entries(self) -> list[Path]:
        return sorted(self.cache.glob("*.ini")) if self.cache.exists() else []


def entry_fields(path: Path) -> dict[str, str]:
    """A cache entry as configparser reads it: complete, or an error."""
    parser = configparser.RawConfigParser()
    parser.read_string(path.read_text())
    return dict(parser.items("awsrun-entry"))


BASIC_CONFIG = f"""\
[default]
region = eu-west-1

[profile prod]
role_arn = {role_arn("Prod")}
source_profile = default
region = eu-central-1

[profile dev]
role_arn = {role_arn("Dev")}
source_profile = default

[profile second]
role_arn = {role_arn("Second")}
source_profile = prod
"""

BASIC_CREDENTIALS = f"""\
[default]
aws_access_key_id = {ROOT_KEY_ID}
aws_secret_access_key = {ROOT_SECRET}
"""


@pytest.fixture
def home(tmp_path: Path, sts: LocalSts) -> Home:
    path = tmp_path / "home"
    env = isolated_environment(str(path), sts.endpoint)
    env["AWSRUN_CACHE_DIR"] = str(path / "cache")
    made = Home(path, env)
    made.write_config(BASIC_CONFIG)
    made.write_credentials(BASIC_CREDENTIALS)
    return made


def awsrun_executable() -> str:
    found = shutil.which("awsrun", path=str(Path(sys.executable).parent))
    assert found, "the awsrun entry point is not installed in this environment (make test)"
    return found


def run_awsrun(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    timeout: float = 60,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed `awsrun` as a user would, with no controlling terminal."""
    result = subprocess.run(
        [awsrun_executable(), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input_text,
        start_new_session=True,
        check=False,
    )
    _STDERR_SEEN.append(result.stderr)
    return result


def child_command() -> list[str]:
    """A real SDK client: boto3's get_caller_identity against the local STS."""
    return [sys.executable, CHILD]


def term_reaches_the_command(args: Sequence[str], env: Mapping[str, str], ready: Path) -> str:
    """Start awsrun with a shell command that traps SIGTERM, send awsrun SIGTERM once the
    command runs, and return what the command printed; the exit status must be the trap's."""
    script = f"trap 'echo got-term; exit 42' TERM; touch {ready}; while :; do sleep 0.1; done"
    process = subprocess.Popen(
        [awsrun_executable(), *args, "--", "sh", "-c", script],
        env=dict(env),
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 42
    return stdout


def at_mfa_prompt(env: Mapping[str, str], profile: str, serial: str) -> Any:
    """An awsrun on a terminal, stopped at its MFA prompt: it holds the entry's lock."""
    import pexpect

    session = pexpect.spawn(
        awsrun_executable(), [profile, "--", "true"], env=dict(env), encoding="utf-8", timeout=60
    )
    session.expect("MFA code for " + serial)
    return session


SERIAL = "arn:aws:iam::123456789012:mfa/alice"


def mfa_config(home: Home, mfa_process: str | None) -> None:
    process_line = f"mfa_process = {mfa_process}\n" if mfa_process else ""
    home.write_config(
        "[default]\nregion = eu-west-1\n"
        f"[profile admin]\nrole_arn = {role_arn('Admin')}\nsource_profile = default\n"
        f"mfa_serial = {SERIAL}\n{process_line}"
        f"[profile audit]\nrole_arn = {role_arn('Audit')}\nsource_profile = default\n"
        f"mfa_serial = {SERIAL}\n{process_line}"
    )


# The modules a cache hit loads (docs/contributing.md lists them): a module joins this list
# only on purpose, since each costs every run about 0.2 ms.
HIT_PATH = {
    "awsrun", "awsrun.cli", "awsrun.errors", "awsrun.durations", "awsrun.folders",
    "awsrun.internal", "awsrun.privatefiles", "awsrun.report",
    "awsrun.commands", "awsrun.commands.invocation", "awsrun.commands.run",
    "awsrun.config", "awsrun.config.chain", "awsrun.config.choice", "awsrun.config.endpoints",
    "awsrun.config.files", "awsrun.config.ini", "awsrun.config.resolve",
    "awsrun.credentials", "awsrun.credentials.broker", "awsrun.credentials.cache",
    "awsrun.credentials.keys", "awsrun.credentials.options",
    "awsrun.handoff", "awsrun.handoff.childenv",
}  # fmt: skip
