"""awsrun against botocore, the reference for what a profile means.

Each case writes a config and a credentials file and an environment, then resolves one
profile twice against a recording STS on 127.0.0.1: with the installed `awsrun env --format
json`, and with botocore (tests/botocore_reference.py), each a process of its own. Both must
hand back the same keys and region after the same STS requests (action, parameters, the
signing key id, token, region, and a signature made with the right secret), or both must
fail, or awsrun must refuse with one `awsrun:` line where the case says refusing is right.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import FAKES, awsrun_executable
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from recordingsts import DEFAULT_SESSION_NAME, RecordingSts, recording_sts, secret_for

REFERENCE = str(FAKES / "botocore_reference.py")
ACCOUNT = "123456789012"


def arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def keys(key_id: str, **more: str) -> str:
    """The lines of a long-term key pair whose secret the recording STS knows."""
    lines = [f"aws_access_key_id = {key_id}", f"aws_secret_access_key = {secret_for(key_id)}"]
    lines += [f"{name} = {value}" for name, value in more.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Case:
    name: str
    config: str
    credentials: str = ""
    # None: no profile on the command line, so the environment's choice applies.
    profile: str | None = "top"
    env: Mapping[str, str] = field(default_factory=dict)
    # Where awsrun refuses on purpose: a piece of its one-line message.
    refusal: str | None = None


@dataclass
class Outcome:
    failed: bool
    keys: tuple[str | None, ...] = ()
    region: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""


@pytest.fixture(scope="module")
def recorder() -> Iterator[RecordingSts]:
    with recording_sts() as server:
        yield server


class Bench:
    """Runs one case's files and environment through awsrun and through botocore."""

    def __init__(self, folder: Path, recorder: RecordingSts) -> None:
        self.folder = folder
        self.recorder = recorder
        self.runs = 0

    def environment(self, case: Case) -> dict[str, str]:
        home = self.folder / "home"
        (home / ".aws").mkdir(parents=True, exist_ok=True)
        # `{endpoint}` in a case's config stands for the recording STS.
        (home / ".aws" / "config").write_text(
            case.config.replace("{endpoint}", self.recorder.endpoint)
        )
        (home / ".aws" / "credentials").write_text(case.credentials)
        self.runs += 1
        environ = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("AWS_", "AWSRUN_"))
        }
        environ.update(
            {
                "HOME": str(home),
                "LOGNAME": "tester",
                "USER": "tester",
                "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
                "AWS_ENDPOINT_URL": self.recorder.endpoint,
                "AWS_EC2_METADATA_DISABLED": "true",
                # A fresh cache for every run: each one asks STS.
                "AWSRUN_CACHE_DIR": str(self.folder / f"cache-{self.runs}"),
            }
        )
        environ.update(case.env)
        return environ

    def _run(
        self, argv: list[str], environ: Mapping[str, str]
    ) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
        """Run one resolver; return what it did and the STS requests it made."""
        self.recorder.reset()
        result = subprocess.run(
            argv, env=dict(environ), capture_output=True, text=True, timeout=60, check=False
        )
        return result, [request.as_dict() for request in self.recorder.reset()]

    def awsrun(self, case: Case, *extra: str, environ: Mapping[str, str] | None = None) -> Outcome:
        environ = self.environment(case) if environ is None else environ
        profile = [] if case.profile is None else [case.profile]
        argv = [awsrun_executable(), "env", *extra, *profile, "--format", "json"]
        result, requests = self._run(argv, environ)
        # The secret scan: every secret here is recognisable by its prefix.
        for secret in ("secret-of-", "issued-secret-", "issued-token-"):
            assert secret not in result.stderr, "a secret reached awsrun's stderr"
        if result.returncode != 0:
            assert result.returncode == 125, result.stderr
            assert result.stderr.startswith("awsrun: "), result.stderr
            assert result.stderr.count("\n") == 1, result.stderr  # one line, no traceback
            return Outcome(failed=True, requests=requests, message=result.stderr)
        variables = json.loads(result.stdout)
        return Outcome(
            failed=False,
            keys=(
                variables["AWS_ACCESS_KEY_ID"],
                variables["AWS_SECRET_ACCESS_KEY"],
                variables.get("AWS_SESSION_TOKEN"),
            ),
            region=variables.get("AWS_REGION"),
            requests=requests,
            message=result.stderr,
        )

    def botocore(self, case: Case) -> Outcome:
        profile = [] if case.profile is None else [case.profile]
        result, requests = self._run([sys.executable, REFERENCE, *profile], self.environment(case))
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        if "error" in answer:
            return Outcome(failed=True, requests=requests, message=answer["error"])
        return Outcome(
            failed=False,
            keys=(answer["access_key_id"], answer["secret_access_key"], answer["session_token"]),
            region=answer["region"],
            requests=requests,
        )


@pytest.fixture
def bench(tmp_path: Path, recorder: RecordingSts) -> Bench:
    return Bench(tmp_path, recorder)


def assert_agree(bench: Bench, case: Case) -> tuple[Outcome, Outcome]:
    ours, reference = bench.awsrun(case), bench.botocore(case)
    if case.refusal is not None:
        assert ours.failed, f"{case.name}: awsrun should refuse ({case.refusal})"
        assert case.refusal in ours.message, ours.message
        assert ours.requests == []
        return ours, reference
    if reference.failed:
        assert ours.failed, f"{case.name}: botocore fails ({reference.message}), awsrun does not"
        return ours, reference
    assert not ours.failed, f"{case.name}: {ours.message}"
    assert ours.requests == reference.requests, case.name
    assert all(request["signed_with_its_secret"] for request in ours.requests)
    assert ours.keys == reference.keys, case.name
    assert ours.region == reference.region, case.name
    return ours, reference


ROLE = f"[profile top]\nrole_arn = {arn('Top')}\nsource_profile = base\nregion = eu-west-1\n"
PROCESS = f"{sys.executable} {FAKES / 'process_keys.py'}"

CASES = [
    # -- keys come from one file as a unit --------------------------------------------------
    Case(
        "key id in one file, secret in the other",
        ROLE + "[profile base]\naws_secret_access_key = s\n",
        "[base]\naws_access_key_id = AKIACRED\n",
    ),
    Case(
        "a stale config token is not glued onto the credentials file's keys",
        ROLE + "[profile base]\naws_session_token = stale\n",
        "[base]\n" + keys("AKIACRED"),
    ),
    Case(
        "a secret alone in the credentials file leaves the config file's keys",
        ROLE + "[profile base]\n" + keys("AKIACONF"),
        "[base]\naws_secret_access_key = other\n",
    ),
    Case(
        "the credentials file's keys win over the config file's",
        ROLE + "[profile base]\n" + keys("AKIACONF"),
        "[base]\n" + keys("AKIACRED"),
    ),
    Case(
        "static keys of the named profile, each file a unit",
        "[profile top]\nregion = eu-west-1\n" + keys("AKIACONF", aws_session_token="conftoken"),
        "[top]\n" + keys("AKIACRED"),
    ),
    # -- aws_security_token -----------------------------------------------------------------
    Case(
        "aws_security_token is read, and preferred to aws_session_token",
        ROLE + "[profile base]\n",
        "[base]\n" + keys("ASIATEMP", aws_session_token="newer", aws_security_token="older"),
    ),
    Case(
        "AWS_SECURITY_TOKEN under credential_source = Environment",
        f"[profile top]\nrole_arn = {arn('Top')}\ncredential_source = Environment\n"
        "region = eu-west-1\n",
        env={
            "AWS_ACCESS_KEY_ID": "ASIAENV",
            "AWS_SECRET_ACCESS_KEY": secret_for("ASIAENV"),
            "AWS_SESSION_TOKEN": "session",
            "AWS_SECURITY_TOKEN": "security",
        },
    ),
    # -- the order of providers inside one profile -------------------------------------------
    Case(
        "credential_process wins over config-file keys, as a source",
        ROLE + f"[profile base]\ncredential_process = {PROCESS}\n" + keys("AKIACONF"),
    ),
    Case(
        "credential_process wins over config-file keys, as the profile",
        f"[profile top]\nregion = eu-west-1\ncredential_process = {PROCESS}\n" + keys("AKIACONF"),
    ),
    Case(
        "credentials-file keys win over credential_process",
        ROLE + f"[profile base]\ncredential_process = {PROCESS}\n",
        "[base]\n" + keys("AKIACRED"),
    ),
    Case(
        "SSO settings win over keys (and fail without a token, in both)",
        ROLE + "[profile base]\nsso_account_id = 1\nsso_role_name = r\nsso_start_url = "
        "https://x\nsso_region = eu-west-1\n" + keys("AKIACONF"),
    ),
    Case(
        "the named profile's role wins over its keys; a source's keys win over its role",
        f"[profile top]\nrole_arn = {arn('Top')}\nsource_profile = mid\nregion = eu-west-1\n"
        + keys("AKIATOP")
        + f"[profile mid]\nrole_arn = {arn('Ignored')}\nsource_profile = top\n"
        + keys("AKIAMID"),
    ),
    # -- which profile ------------------------------------------------------------------------
    Case(
        "AWS_DEFAULT_PROFILE before AWS_PROFILE",
        "[profile a]\nregion = eu-west-1\n" + keys("AKIAA") + "[profile b]\n" + keys("AKIAB"),
        profile=None,
        env={"AWS_DEFAULT_PROFILE": "a", "AWS_PROFILE": "b"},
    ),
    Case(
        "an empty AWS_PROFILE",
        "[default]\n" + keys("AKIADEF"),
        profile=None,
        env={"AWS_PROFILE": ""},
        refusal="AWS_PROFILE is set but empty",
    ),
    Case(
        "an empty AWS_CONFIG_FILE means no config file",
        ROLE + "[profile base]\n" + keys("AKIACONF"),
        "[top]\n" + keys("AKIACRED"),
        env={"AWS_CONFIG_FILE": ""},
    ),
    # -- region ---------------------------------------------------------------------------------
    Case(
        "AWS_DEFAULT_REGION beats the profile's region, for signing and the command",
        ROLE + "[profile base]\n" + keys("AKIABASE"),
        env={"AWS_DEFAULT_REGION": "ap-south-1"},
    ),
    Case(
        "AWS_REGION is not botocore's",
        ROLE + "[profile base]\n" + keys("AKIABASE"),
        env={"AWS_REGION": "ap-south-1"},
    ),
    Case(
        "every hop is signed in the session's region",
        f"[profile top]\nrole_arn = {arn('Top')}\nsource_profile = mid\nregion = eu-west-1\n"
        f"[profile mid]\nrole_arn = {arn('Mid')}\nsource_profile = base\nregion = us-west-2\n"
        "[profile base]\nregion = ca-central-1\n" + keys("AKIABASE"),
    ),
    Case(
        "the region in the credentials file",
        ROLE + "[profile base]\n" + keys("AKIABASE"),
        "[top]\nregion = sa-east-1\n",
    ),
    Case(
        "an empty AWS_DEFAULT_REGION",
        ROLE + "[profile base]\n" + keys("AKIABASE"),
        env={"AWS_DEFAULT_REGION": ""},
        refusal="AWS_DEFAULT_REGION is set but empty",
    ),
    # -- endpoints ------------------------------------------------------------------------------
    Case(
        "the profile's services section names the STS endpoint",
        ROLE + "services = local\n[services local]\nsts =\n  endpoint_url = {endpoint}\n"
        "[profile base]\n" + keys("AKIABASE"),
        env={"AWS_ENDPOINT_URL": ""},
    ),
    Case(
        "the profile's endpoint_url",
        ROLE + "endpoint_url = {endpoint}\n[profile base]\n" + keys("AKIABASE"),
        env={"AWS_ENDPOINT_URL": ""},
    ),
    # -- chains, names, ids ---------------------------------------------------------------------
    Case(
        "a chain with names, an external id and a duration",
        f"[profile top]\nrole_arn = {arn('Top')}\nsource_profile = mid\nregion = eu-west-1\n"
        "role_session_name = deploy\n"
        f"[profile mid]\nrole_arn = {arn('Mid')}\nsource_profile = base\nexternal_id = xyz123\n"
        "duration_seconds = 3600\n[profile base]\n" + keys("AKIABASE"),
    ),
    Case(
        "a role that sources its own keys",
        f"[profile top]\nrole_arn = {arn('Top')}\nsource_profile = top\nregion = eu-west-1\n"
        + keys("AKIATOP"),
    ),
    Case(
        "a source_profile loop",
        f"[profile top]\nrole_arn = {arn('Top')}\nsource_profile = mid\nregion = eu-west-1\n"
        f"[profile mid]\nrole_arn = {arn('Mid')}\nsource_profile = top\n",
    ),
    # -- values botocore would send as they are, or drop ---------------------------------------
    *(
        Case(
            f"duration_seconds = {value!r}",
            ROLE + f"duration_seconds = {value}\n[profile base]\n" + keys("AKIABASE"),
            refusal="is empty" if not value else "write a whole number of seconds from 900",
        )
        for value in ("1h", "", "+3600", "3_600", "²", "0")
    ),
    Case(
        "an empty external_id",
        ROLE + "external_id =\n[profile base]\n" + keys("AKIABASE"),
        refusal="external_id of profile 'top'",
    ),
    Case(
        "an empty credential_source beside source_profile",
        ROLE + "credential_source =\n[profile base]\n" + keys("AKIABASE"),
    ),
    Case(
        "an empty source_profile beside credential_source",
        f"[profile top]\nrole_arn = {arn('Top')}\nsource_profile =\n"
        "credential_source = Environment\nregion = eu-west-1\n",
    ),
    Case(
        "a key written on the line below its name",
        ROLE + "[profile base]\naws_access_key_id =\n    AKIANESTED\n"
        f"aws_secret_access_key = {secret_for('AKIANESTED')}\n",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_awsrun_resolves_what_botocore_resolves(bench: Bench, case: Case) -> None:
    assert_agree(bench, case)


def test_a_config_file_that_is_a_folder_is_refused(bench: Bench, tmp_path: Path) -> None:
    """botocore reads a folder as no file at all; awsrun says what is wrong."""
    folder = tmp_path / "folder"
    folder.mkdir()
    case = Case("folder", "", "[top]\n" + keys("AKIACRED"), env={"AWS_CONFIG_FILE": str(folder)})
    ours, reference = bench.awsrun(case), bench.botocore(case)

    assert not reference.failed
    assert ours.failed
    assert "is a folder, not a file: point AWS_CONFIG_FILE at the file" in ours.message


def test_with_no_region_and_a_configured_endpoint_awsrun_signs_for_us_east_1(
    bench: Bench,
) -> None:
    """botocore cannot sign for a configured endpoint without a region (NoRegionError);
    awsrun signs for us-east-1, as the global endpoint is signed (docs/botocore.md says so)."""
    case = Case(
        "no region",
        ROLE.replace("region = eu-west-1\n", "") + "[profile base]\n" + keys("AKIABASE"),
    )
    ours, reference = bench.awsrun(case), bench.botocore(case)

    assert reference.failed
    assert reference.message == "NoRegionError"
    assert not ours.failed
    assert ours.region is None
    assert [request["region"] for request in ours.requests] == ["us-east-1"]


# -- generated profile graphs ---------------------------------------------------------------

NAMES = ("top", "p1", "p2", "p3")
KEY_IDS = ("AKIAONE", "AKIATWO", "ASIATHREE")


@st.composite
def profile_graphs(draw: st.DrawFn) -> Case:
    """Profiles that point at each other: roles, keys in either file or both, tokens, ids,
    names, durations and regions, and an environment. Every value is well formed, so
    awsrun must agree with botocore exactly."""
    config, credentials = [], []
    env: dict[str, str] = {}
    for index, name in enumerate(NAMES):
        lines: list[str] = []
        cred_lines: list[str] = []
        if draw(st.booleans()):
            lines.append(f"role_arn = {arn(name.upper())}")
            if draw(st.integers(0, 4)) == 0:
                lines.append("credential_source = Environment")
            else:
                lines.append(f"source_profile = {draw(st.sampled_from(NAMES))}")
            if draw(st.booleans()):
                lines.append(f"external_id = ext-{index}")
            if draw(st.booleans()):
                lines.append(f"role_session_name = name-{index}")
            duration = draw(st.sampled_from((None, 900, 3600)))
            if duration:
                lines.append(f"duration_seconds = {duration}")
        for into in (lines, cred_lines):
            if draw(st.integers(0, 2)) == 0:
                key_id = draw(st.sampled_from(KEY_IDS))
                more = {}
                token = draw(st.sampled_from((None, "aws_session_token", "aws_security_token")))
                if token:
                    more[token] = f"token-{index}"
                into.append(keys(key_id, **more).rstrip("\n"))
        region = draw(st.sampled_from((None, "eu-west-1", "us-west-2")))
        if region:
            (cred_lines if draw(st.booleans()) else lines).append(f"region = {region}")
        config.append(f"[profile {name}]\n" + "".join(line + "\n" for line in lines))
        if cred_lines:
            credentials.append(f"[{name}]\n" + "".join(line + "\n" for line in cred_lines))
    env_region = draw(st.sampled_from((None, "ap-south-1")))
    if env_region:
        env["AWS_DEFAULT_REGION"] = env_region
    elif "region" not in "".join(config[:1]) + "".join(
        part for part in credentials if part.startswith("[top]")
    ):
        env["AWS_DEFAULT_REGION"] = "eu-north-1"  # botocore cannot sign without a region
    if draw(st.booleans()):
        env.update(
            {
                "AWS_ACCESS_KEY_ID": "ASIAENV",
                "AWS_SECRET_ACCESS_KEY": secret_for("ASIAENV"),
                "AWS_SESSION_TOKEN": "env-token",
            }
        )
    return Case("generated", "".join(config), "".join(credentials), env=env)


@settings(
    max_examples=15,  # derandomized: the same 15 graphs each run, about 1 s each
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=profile_graphs())
def test_generated_profile_graphs_agree_with_botocore(
    tmp_path_factory: pytest.TempPathFactory, recorder: RecordingSts, case: Case
) -> None:
    ours, _ = assert_agree(Bench(tmp_path_factory.mktemp("graph"), recorder), case)
    # --hypothesis-show-statistics shows how many examples resolved and how many hops.
    event("refused by both" if ours.failed else f"resolved with {len(ours.requests)} STS calls")


# -- the cache never answers for another setup ---------------------------------------------

CACHED_ROLE = f"""\
[profile top]
role_arn = {arn("Top")}
source_profile = base
region = eu-west-1
[profile base]
{keys("AKIABASE")}"""


def second_run_fetches(bench: Bench, change: Mapping[str, str], extra: tuple[str, ...]) -> bool:
    """Run awsrun twice on one cache, the second time with one input changed; say whether
    the second run asked STS again. Each changed setup is checked with botocore too."""
    case = Case("cache", CACHED_ROLE)
    environ = bench.environment(case)
    first = bench.awsrun(case, environ=environ)
    assert not first.failed, first.message
    assert first.requests
    config = change.get("config")
    if config is not None:
        (Path(environ["HOME"]) / ".aws" / "config").write_text(config)
    environ = {**environ, **{name: value for name, value in change.items() if name != "config"}}
    second = bench.awsrun(case, *extra, environ=environ)
    assert not second.failed, second.message
    return bool(second.requests)


LOCALHOST = "http://localhost:{port}"


@pytest.mark.parametrize(
    ("label", "change", "extra", "fetches"),
    [
        ("nothing changes", {}, (), False),
        (
            "the region only (a session serves every region)",
            {"AWS_DEFAULT_REGION": "us-west-2"},
            (),
            False,
        ),
        ("AWS_ENDPOINT_URL", {"AWS_ENDPOINT_URL": LOCALHOST}, (), True),
        ("AWS_ENDPOINT_URL_STS", {"AWS_ENDPOINT_URL_STS": LOCALHOST}, (), True),
        (
            "AWS_ENDPOINT_URL_STS naming the same endpoint",
            {"AWS_ENDPOINT_URL_STS": "SAME"},
            (),
            False,
        ),
        (
            "the profile's endpoint_url, ignored under AWS_ENDPOINT_URL",
            {
                "config": CACHED_ROLE.replace(
                    "region = eu-west-1", "region = eu-west-1\nendpoint_url = http://127.0.0.1:9"
                )
            },
            (),
            False,
        ),
        ("the user, in the default session name", {"LOGNAME": "other", "USER": "other"}, (), True),
        ("--session-name", {}, ("--session-name", "alice"), True),
        ("--duration", {}, ("--duration", "2h"), True),
        ("the role ARN", {"config": CACHED_ROLE.replace("role/Top", "role/Other")}, (), True),
        (
            "the external id",
            {
                "config": CACHED_ROLE.replace(
                    "source_profile = base", "source_profile = base\nexternal_id = ext1"
                )
            },
            (),
            True,
        ),
        ("the source keys", {"config": CACHED_ROLE.replace("AKIABASE", "AKIANEWKEY")}, (), True),
        (
            "duration_seconds",
            {
                "config": CACHED_ROLE.replace(
                    "source_profile = base", "source_profile = base\nduration_seconds = 1800"
                )
            },
            (),
            True,
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_the_cache_answers_only_for_the_same_request(
    bench: Bench,
    recorder: RecordingSts,
    label: str,
    change: dict[str, str],
    extra: tuple[str, ...],
    fetches: bool,
) -> None:
    port = recorder.endpoint.rsplit(":", 1)[1]
    change = {
        name: recorder.endpoint if value == "SAME" else value.format(port=port)
        for name, value in change.items()
    }
    assert second_run_fetches(bench, change, extra) is fetches, label


def test_session_name_is_part_of_the_key(bench: Bench) -> None:
    """--session-name bob after --session-name alice is bob's session, and alice's stays."""
    case = Case("names", CACHED_ROLE)
    environ = bench.environment(case)
    alice = bench.awsrun(case, "--session-name", "alice", environ=environ)
    bob = bench.awsrun(case, "--session-name", "bob", environ=environ)
    alice_again = bench.awsrun(case, "--session-name", "alice", environ=environ)

    assert [r["parameters"]["RoleSessionName"] for r in alice.requests + bob.requests] == [
        "alice",
        "bob",
    ]
    assert alice_again.requests == []
    assert alice_again.keys == alice.keys != bob.keys


def test_refresh_renews_every_role_of_the_chain(bench: Bench) -> None:
    case = Case(
        "refresh",
        f"[profile top]\nrole_arn = {arn('Top')}\nsource_profile = mid\nregion = eu-west-1\n"
        f"[profile mid]\nrole_arn = {arn('Mid')}\nsource_profile = base\n[profile base]\n"
        + keys("AKIABASE"),
    )
    environ = bench.environment(case)
    first = bench.awsrun(case, environ=environ)
    cached = bench.awsrun(case, environ=environ)
    refreshed = bench.awsrun(case, "--refresh", environ=environ)

    assert [r["parameters"]["RoleArn"] for r in first.requests] == [arn("Mid"), arn("Top")]
    assert cached.requests == []
    assert [r["parameters"]["RoleArn"] for r in refreshed.requests] == [arn("Mid"), arn("Top")]
    assert refreshed.requests[0]["parameters"]["RoleSessionName"] == DEFAULT_SESSION_NAME
