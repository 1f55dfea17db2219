"""`make bench`: what awsrun adds to a command, as ratios against baselines in the same run.

Each case alternates with its baseline pair by pair (A B A B ...) after a warm-up, so that
load on a shared machine falls on both sides alike. Wall times are medians; peak RSS comes
from /usr/bin/time. Writes the table to benchmarks/RESULTS.md too.
"""

from __future__ import annotations

import compileall
import functools
import hashlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tools"))

from localsts import LocalSts, isolated_environment, local_sts, write_demo_profiles  # noqa: E402

PAIRS = 21
WARMUP = 3
BATCH_PAIRS = 7
CONCURRENT = 16
LIST_PROFILES = 1000

# The seed note's approach: boto3 resolves the role profile, every run calls STS.
NAIVE = """\
import boto3
c = boto3.session.Session(profile_name="prodaccess").get_credentials()
print("export AWS_ACCESS_KEY_ID=" + c.access_key)
print("export AWS_SECRET_ACCESS_KEY=" + c.secret_key)
print("export AWS_SESSION_TOKEN=" + c.token)
"""


@dataclass
class Sample:
    seconds: float
    max_rss_kb: int


def run_once(command: Sequence[str], env: dict[str, str]) -> Sample:
    started = time.perf_counter()
    finished = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - started
    if finished.returncode != 0:
        raise SystemExit(f"bench: {command[0]} exited {finished.returncode}")
    return Sample(elapsed, 0)


def peak_rss(command: Sequence[str], env: dict[str, str]) -> Sample:
    """Peak RSS through /usr/bin/time: a child spawned by this (large) process would count
    this process's pages in its own peak, until it execs."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as report:
        finished = subprocess.run(
            ["/usr/bin/time", "-o", report.name, "-f", "%M", *command],
            env=env,
            stdout=subprocess.DEVNULL,
            check=False,
        )
        if finished.returncode != 0:
            raise SystemExit(f"bench: {command[0]} exited {finished.returncode}")
        return Sample(0.0, int(report.read().split()[-1]))


def run_batch(command: Sequence[str], env: dict[str, str], count: int) -> Sample:
    started = time.perf_counter()
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL) for _ in range(count)
    ]
    codes = [process.wait() for process in processes]
    if any(codes):
        raise SystemExit(f"bench: a concurrent run exited {codes}")
    return Sample(time.perf_counter() - started, 0)


@dataclass
class Row:
    case: str
    baseline: str
    case_samples: list[Sample]
    base_samples: list[Sample]
    target: float
    what: str = "time"
    note: str = ""

    @property
    def ratio(self) -> float:
        if self.what == "memory":
            return median_rss(self.case_samples) / median_rss(self.base_samples)
        return median(self.case_samples) / median(self.base_samples)

    @property
    def verdict(self) -> str:
        return "PASS" if self.ratio <= self.target else "FAIL"


def median(samples: list[Sample]) -> float:
    return statistics.median(sample.seconds for sample in samples)


def median_rss(samples: list[Sample]) -> float:
    return statistics.median(sample.max_rss_kb for sample in samples)


def paired(
    case: Callable[[], Sample], base: Callable[[], Sample], pairs: int
) -> tuple[list[Sample], list[Sample]]:
    for _ in range(WARMUP):
        case()
        base()
    case_samples: list[Sample] = []
    base_samples: list[Sample] = []
    for _ in range(pairs):
        case_samples.append(case())
        base_samples.append(base())
    return case_samples, base_samples


def measure(awsrun: str, sts: LocalSts, home: Path) -> list[Row]:
    env = isolated_environment(str(home), sts.endpoint)
    python = [sys.executable, "-c", "pass"]
    warm = [awsrun, "prodaccess", "--", "/bin/true"]
    rows: list[Row] = []

    run_once(warm, env)  # fill the cache
    case, base = paired(lambda: run_once(warm, env), lambda: run_once(python, env), PAIRS)
    rows.append(Row("warm: awsrun prodaccess -- /bin/true", "python -c pass", case, base, 2.5))
    # Prompt hooks and direnv run `env`; SDKs run credential-process on every refresh.
    for words in (["env", "prodaccess"], ["credential-process", "prodaccess"]):
        case, base = paired(
            functools.partial(run_once, [awsrun, *words], env),
            lambda: run_once(python, env),
            PAIRS,
        )
        rows.append(Row(f"warm: awsrun {' '.join(words)}", "python -c pass", case, base, 2.5))
    if Path("/usr/bin/time").exists():
        case, base = paired(lambda: peak_rss(warm, env), lambda: peak_rss(python, env), PAIRS)
        rows.append(Row("warm: peak RSS", "python -c pass", case, base, 1.5, what="memory"))
    else:
        print("bench: no /usr/bin/time (Debian package `time`): peak RSS not measured")

    cold_dirs = iter(range(10_000))

    def cold_env() -> dict[str, str]:
        return {**env, "AWSRUN_CACHE_DIR": str(home / "cold" / str(next(cold_dirs)))}

    naive = [sys.executable, "-c", NAIVE]
    case, base = paired(lambda: run_once(warm, cold_env()), lambda: run_once(naive, env), PAIRS)
    rows.append(Row("cold: awsrun, empty cache, AssumeRole", "naive boto3 script", case, base, 1.0))

    sts.reset()
    batch_note = ""

    def batch() -> Sample:
        nonlocal batch_note
        before = len(sts.assumed_roles())
        sample = run_batch(warm, cold_env(), CONCURRENT)
        calls = len(sts.assumed_roles()) - before
        if calls != 1:
            batch_note = f"{calls} AssumeRole calls in one batch"
        return sample

    case, base = paired(batch, lambda: run_once(warm, cold_env()), BATCH_PAIRS)
    rows.append(
        Row(
            f"{CONCURRENT} concurrent cold runs",
            "one cold run",
            case,
            base,
            2.0,
            note=batch_note or "one AssumeRole per batch",
        )
    )
    crowd_env = thousand_profiles(home, env)
    listing = [awsrun, "list"]
    case, base = paired(
        lambda: run_once(listing, crowd_env), lambda: run_once(python, crowd_env), PAIRS
    )
    rows.append(
        Row(
            f"awsrun list: {LIST_PROFILES} profiles, as many entries",
            "python -c pass",
            case,
            base,
            3.0,
        )
    )
    rows.append(populate_case(awsrun, home))
    return rows


SSO_ACCOUNTS = 1000
SSO_LATENCY = 0.030  # seconds each portal call takes
SSO_THROTTLE = 10  # calls in flight beyond which the portal throttles
POPULATE_RUNS = 3


def populate_case(awsrun: str, home: Path) -> Row:
    """`awsrun populate` of an organisation of 1,000 accounts with 3 roles each, against a
    local portal that answers each call after 30 ms and throttles beyond 10 in flight;
    the baseline is the time the same calls take one after another (computed)."""
    sys.path.insert(0, str(HERE.parent / "tests" / "fakes"))
    from fakesso import identity_center

    folder = home / "organisation"
    (folder / ".aws" / "sso" / "cache").mkdir(parents=True)
    config = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
    config += "sso_region = eu-west-1\n"
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    token = (
        '{"startUrl": "https://corp.awsapps.com/start", "region": "eu-west-1", '
        f'"accessToken": "sso-access-token-bench", "expiresAt": "{expires}"}}'
    )
    digest = hashlib.sha1(b"corp").hexdigest()  # noqa: S324 - the AWS CLI's file name
    (folder / ".aws" / "sso" / "cache" / f"{digest}.json").write_text(token)
    samples = []
    with identity_center() as portal:
        portal.accounts = {
            f"{n:012d}": (f"team-{n:04d}", ["Admin", "Developer", "ReadOnly"])
            for n in range(1, SSO_ACCOUNTS + 1)
        }
        portal.latency = SSO_LATENCY
        portal.max_in_flight = SSO_THROTTLE
        env = isolated_environment(str(folder), "http://127.0.0.1:9")
        env["AWS_ENDPOINT_URL_SSO"] = portal.endpoint
        for _ in range(POPULATE_RUNS):
            (folder / ".aws" / "config").write_text(config)
            samples.append(run_once([awsrun, "populate", "--sso-session", "corp"], env))
        calls = portal.listing_calls / POPULATE_RUNS
        throttled = portal.throttled
    sequential = Sample(calls * SSO_LATENCY, 0)
    return Row(
        f"awsrun populate: {SSO_ACCOUNTS} accounts x 3 roles, {SSO_LATENCY * 1000:.0f} ms a "
        f"call, throttled beyond {SSO_THROTTLE} in flight",
        f"the same {calls:.0f} calls one at a time (computed)",
        samples,
        [sequential],
        1 / 3,
        note=f"{median(samples):.1f} s, target under 10 s; {throttled} calls throttled",
    )


def thousand_profiles(home: Path, env: dict[str, str]) -> dict[str, str]:
    """A config of 1,000 role profiles, each with a cache entry, for `awsrun list`."""
    from awsrun.config.files import load_config_files
    from awsrun.config.resolve import resolve_chain
    from awsrun.credentials.cache import Cache, CachedEntry, entry_key
    from awsrun.credentials.keys import Credentials
    from awsrun.report import Reporter

    crowd = home / "crowd"
    (crowd / ".aws").mkdir(parents=True)
    roles = "".join(
        f"[profile team{n:04d}]\nrole_arn = arn:aws:iam::123456789012:role/Team{n:04d}\n"
        f"source_profile = default\nregion = eu-west-1\n\n"
        for n in range(LIST_PROFILES)
    )
    (crowd / ".aws" / "config").write_text(f"[default]\nregion = eu-west-1\n\n{roles}")
    (crowd / ".aws" / "credentials").write_text((home / ".aws" / "credentials").read_text())
    crowd_env = isolated_environment(str(crowd), env["AWS_ENDPOINT_URL"])
    files = load_config_files(crowd_env)
    cache = Cache(str(crowd / ".cache" / "awsrun"), Reporter())
    now = time.time()
    for name in files.profiles:
        identity = resolve_chain(name, files).identities()[-1]
        if identity is not None:
            fake = Credentials(f"ASIA{len(name):016d}", "secret", "token", now + 3600)
            cache.write(entry_key(identity), CachedEntry(fake, now, name))
    return crowd_env


def table(rows: list[Row]) -> str:
    lines = [
        "| case | baseline | median | min | max | baseline median | ratio | target | |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        if row.what == "memory":
            cells = [
                f"{median_rss(row.case_samples) / 1024:.1f} MiB",
                "",
                "",
                f"{median_rss(row.base_samples) / 1024:.1f} MiB",
            ]
        else:
            times = [sample.seconds * 1000 for sample in row.case_samples]
            cells = [
                f"{median(row.case_samples) * 1000:.1f} ms",
                f"{min(times):.1f}",
                f"{max(times):.1f}",
                f"{median(row.base_samples) * 1000:.1f} ms",
            ]
        lines.append(
            f"| {row.case} | {row.baseline} | {' | '.join(cells)} | {row.ratio:.2f}x "
            f"| <= {row.target:.1f}x | {row.verdict}{' (' + row.note + ')' if row.note else ''} |"
        )
    return "\n".join(lines)


def main() -> int:
    awsrun = shutil.which("awsrun", path=str(Path(sys.executable).parent))
    if awsrun is None:
        print("bench: awsrun is not installed in this environment: run `make bench`")
        return 1
    # As `pip install` leaves it: byte-compiled, even where PYTHONDONTWRITEBYTECODE is set.
    import awsrun as package

    compileall.compile_dir(str(Path(package.__file__).parent), quiet=1)
    with tempfile.TemporaryDirectory(prefix="awsrun-bench-") as folder, local_sts() as sts:
        home = Path(folder)
        write_demo_profiles(folder)
        rows = measure(awsrun, sts, home)
    header = (
        f"{date.today().isoformat()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {PAIRS} pairs after {WARMUP} warm-up pairs "
        f"({BATCH_PAIRS} for the concurrent case), local STS: moto's server on 127.0.0.1"
    )
    text = table(rows)
    print(header)
    print(text)
    (HERE / "RESULTS.md").write_text(f"# make bench\n\n{header}\n\n{text}\n")
    return 0 if all(row.verdict == "PASS" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
