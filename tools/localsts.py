"""A local STS for the demo, the tests and the benchmark: moto's server on 127.0.0.1.

Nothing here can reach AWS: every process it describes is pointed at loopback with
AWS_ENDPOINT_URL, with instance metadata turned off.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_START_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class LocalSts:
    endpoint: str

    def _data(self) -> dict[str, object]:
        with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=10) as answer:
            document = json.load(answer)
        assert isinstance(document, dict)
        return document

    def _sts_records(self, kind: str) -> list[dict[str, object]]:
        sts = self._data().get("sts", {})
        assert isinstance(sts, dict)
        records = sts.get(kind, [])
        assert isinstance(records, list)
        return records

    def assumed_roles(self) -> list[dict[str, object]]:
        """Every AssumeRole the server has answered since the last reset."""
        return self._sts_records("AssumedRole")

    def session_tokens(self) -> int:
        """How many GetSessionToken calls the server has answered since the last reset."""
        return len([token for token in self._sts_records("Token") if not token.get("name")])

    def federation_tokens(self) -> list[str]:
        """The federated user of each GetFederationToken answered since the last reset."""
        return [str(token["name"]) for token in self._sts_records("Token") if token.get("name")]

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_up(process: subprocess.Popen[bytes], endpoint: str) -> bool:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


@contextmanager
def local_sts(attempts: int = 3) -> Iterator[LocalSts]:
    """Start moto's server on a free loopback port; stop it when the block ends."""
    for _ in range(attempts):
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "AWS_EC2_METADATA_DISABLED": "true"},
        )
        try:
            if _wait_until_up(process, endpoint):
                yield LocalSts(endpoint)
                return
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    raise RuntimeError(f"moto's server did not start on 127.0.0.1 in {attempts} attempts")


DEMO_CONFIG = """\
[default]
region = eu-west-1

[profile prodaccess]
role_arn = arn:aws:iam::123456789012:role/ProductionAccessRole
source_profile = default
region = eu-west-1
"""
DEMO_CREDENTIALS = """\
[default]
aws_access_key_id = AKIADEMODEMODEMODEMO
aws_secret_access_key = demo-secret-not-a-real-key
"""


def write_demo_profiles(home: str) -> None:
    """The seed note's profiles: `prodaccess`, a role assumed with the default keys."""
    aws = os.path.join(home, ".aws")
    os.makedirs(aws, exist_ok=True)
    with open(os.path.join(aws, "config"), "w", encoding="utf-8") as config:
        config.write(DEMO_CONFIG)
    with open(os.path.join(aws, "credentials"), "w", encoding="utf-8") as credentials:
        credentials.write(DEMO_CREDENTIALS)


def isolated_environment(home: str, endpoint: str) -> dict[str, str]:
    """An environment with no AWS_* of the caller's, a throw-away HOME, and STS on loopback."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "AWSRUN_"))
    }
    environment.update(
        {
            "HOME": home,
            "XDG_CACHE_HOME": os.path.join(home, ".cache"),
            "AWS_CONFIG_FILE": os.path.join(home, ".aws", "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, ".aws", "credentials"),
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return environment


# What a shell needs to try awsrun against the local STS: the config, the endpoint, a cache
# of its own, and awsrun itself on PATH. The user's HOME and ~/.aws are left alone.
_TRY_VARIABLES = (
    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL",
    "AWS_EC2_METADATA_DISABLED", "AWSRUN_CACHE_DIR",
)  # fmt: skip


def try_lines(home: str, endpoint: str) -> list[str]:
    """The `export` lines that point a shell at the local STS and the throw-away config."""
    import shlex

    environment = isolated_environment(home, endpoint)
    environment["AWSRUN_CACHE_DIR"] = os.path.join(home, ".cache", "awsrun")
    lines = [f"export {name}={shlex.quote(environment[name])}" for name in _TRY_VARIABLES]
    scripts = os.path.dirname(sys.executable)
    return [*lines, f'export PATH={shlex.quote(scripts)}:"$PATH"']


def main() -> int:
    """`make try`: a local STS and a throw-away config with a role profile, until Ctrl-C."""
    import tempfile
    import threading

    with tempfile.TemporaryDirectory(prefix="awsrun-try-") as home, local_sts() as sts:
        write_demo_profiles(home)
        print("# A local STS (moto) is running. Paste these lines into another shell:")
        print("\n".join(try_lines(home, sts.endpoint)))
        print("# then:  awsrun -v prodaccess -- true   (twice: through STS, then from the cache)")
        print("# Ctrl-C here stops the local STS and removes the throw-away config.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return 0
    return 0


__all__ = ["LocalSts", "isolated_environment", "local_sts", "try_lines", "write_demo_profiles"]


if __name__ == "__main__":
    sys.exit(main())
