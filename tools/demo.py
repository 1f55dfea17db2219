"""`make demo`: awsrun end to end against a local STS, with no AWS account.

Starts moto's server on 127.0.0.1, writes a throw-away AWS config with a role profile,
runs `awsrun prodaccess -- <a boto3 child>` twice (cold, then from the cache) and shows
what the child saw and how long each run took.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from localsts import isolated_environment, local_sts, write_demo_profiles

CHILD = """\
import json, os, boto3
arn = boto3.client("sts").get_caller_identity()["Arn"]
print(json.dumps({"arn": arn, "key": os.environ["AWS_ACCESS_KEY_ID"],
                  "expires": os.environ["AWS_CREDENTIAL_EXPIRATION"]}))
"""


def main() -> int:
    awsrun = shutil.which("awsrun", path=str(Path(sys.executable).parent))
    if awsrun is None:
        print("awsrun is not installed in this environment: run `make demo`", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="awsrun-demo-") as home, local_sts() as sts:
        write_demo_profiles(home)
        env = isolated_environment(home, sts.endpoint)
        print(f"local STS: {sts.endpoint} (moto)   HOME: {home}")
        print("$ awsrun -v prodaccess -- python -c '<boto3 get_caller_identity>'\n")
        for label in ("cold: STS AssumeRole", "warm: from the cache"):
            started = time.perf_counter()
            result = subprocess.run(
                [awsrun, "-v", "prodaccess", "--", sys.executable, "-c", CHILD],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            elapsed = time.perf_counter() - started
            if result.returncode != 0:
                print(result.stderr, file=sys.stderr)
                return result.returncode
            seen = json.loads(result.stdout)
            print(f"{label}  ({elapsed * 1000:.0f} ms, child included)")
            print("".join(f"  {line}\n" for line in result.stderr.splitlines()), end="")
            print(f"  child is {seen['arn']}")
            print(f"  AWS_ACCESS_KEY_ID={seen['key']}  expires {seen['expires']}\n")
        started = time.perf_counter()
        subprocess.run([awsrun, "prodaccess", "--", "true"], env=env, check=True)
        print(
            f"awsrun's own cost on a cache hit: `awsrun prodaccess -- true` "
            f"took {(time.perf_counter() - started) * 1000:.0f} ms"
        )
        print(f"STS AssumeRole calls in all: {len(sts.assumed_roles())}")
        cache = Path(home, ".cache", "awsrun")
        print(f"cache: {cache} ({len(list(cache.glob('*.ini')))} entry, mode 0600)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
