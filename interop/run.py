"""`make interop`: real clients that this project did not write, run through awsrun in each
of its modes against moto on 127.0.0.1, and a matrix of what each one saw.

A cell passes when the client's own GetCallerIdentity (for Terraform: the signer of its
state write, as moto recorded it) is the profile's role. A client that is not installed
is shown as skipped, never left out. The exit status is 1 when any cell failed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tools"))

from localsts import LocalSts, isolated_environment, local_sts  # noqa: E402

ACCOUNT = "123456789012"
BUCKET = "awsrun-interop"
CLIENT_TIMEOUT_SECONDS = 180
ENDPOINT = "{endpoint}"
ALL_MODES = frozenset({"exec", "env", "process", "server"})
# moto's shortest session is 15 minutes; this margin makes awsrun refresh a few seconds in.
REFRESHING_SOON = ["--duration", "900", "--min-ttl", "895"]
PAUSE_SECONDS = 6


def awsrun() -> str:
    found = shutil.which("awsrun", path=str(Path(sys.executable).parent))
    if found is None:
        sys.exit("interop: awsrun is not installed in this environment (run make interop)")
    return found


@dataclass
class Client:
    name: str
    version: str
    # The client's command (ENDPOINT stands for moto's URL); None when it is not installed.
    argv: list[str] | None
    modes: frozenset[str] = ALL_MODES
    why_missing: str = ""


def _version(argv: Sequence[str]) -> str:
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)
    except OSError:
        return ""
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else ""


def _node_package_version(name: str) -> str:
    manifest = HERE / "node_modules" / name / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else ""


def discover_clients() -> list[Client]:
    python = sys.executable
    clients: list[Client] = []
    import boto3

    clients.append(Client("boto3", f"boto3 {boto3.__version__}", [python, str(HERE / "whoami.py")]))
    cli_v1 = shutil.which("aws", path=str(Path(python).parent))
    clients.append(
        Client(
            "aws-cli v1",
            _version([cli_v1, "--version"]) if cli_v1 else "",
            [cli_v1, "sts", "get-caller-identity", "--output", "json"] if cli_v1 else None,
            why_missing="no aws in the virtual environment (pip install awscli)",
        )
    )
    v2 = _version(["/usr/bin/aws", "--version"])
    clients.append(
        Client(
            "aws-cli v2",
            v2,
            # This release predates AWS_ENDPOINT_URL.
            ["/usr/bin/aws", "--endpoint-url", ENDPOINT, "sts", "get-caller-identity"]
            if v2.startswith("aws-cli/2")
            else None,
            why_missing="Debian's awscli is not installed",
        )
    )
    js_sts = _node_package_version("@aws-sdk/client-sts")
    node = shutil.which("node")
    for chain in ("default", "container"):
        clients.append(
            Client(
                f"js v3 {chain}",
                f"@aws-sdk/client-sts {js_sts}",
                [str(node), str(HERE / "whoami.mjs"), chain] if js_sts and node else None,
                # fromContainerMetadata reads only the container endpoint.
                modes=frozenset({"server"}) if chain == "container" else ALL_MODES,
                why_missing="no node, or npm ci failed",
            )
        )
    go_binary = HERE / "build" / "whoami-go"
    go_sdk = Path("/usr/share/gocode/src/github.com/aws/aws-sdk-go-v2/aws/go_module_metadata.go")
    go_version = ""
    if go_sdk.exists():
        found = re.search(r'goModuleVersion = "([^"]+)"', go_sdk.read_text())
        go_version = f"aws-sdk-go-v2 {found.group(1)}" if found else ""
    clients.append(
        Client(
            "go sdk v2",
            go_version,
            [str(go_binary)] if go_binary.exists() else None,
            why_missing="Debian's golang-github-aws-aws-sdk-go-v2-dev or Go is missing",
        )
    )
    terraform = shutil.which("terraform")
    clients.append(
        Client(
            "terraform s3",
            _version([terraform, "version"]) if terraform else "",
            [terraform] if terraform else None,
            why_missing="terraform is not on PATH",
        )
    )
    return clients


@dataclass
class Moto:
    sts: LocalSts
    recording: Path

    def assumed_roles(self) -> list[dict[str, object]]:
        return self.sts.assumed_roles()

    def requests(self) -> list[dict[str, object]]:
        if not self.recording.exists():
            return []
        return [json.loads(line) for line in self.recording.read_text().splitlines() if line]


@dataclass
class Scene:
    """A throw-away HOME with profiles, moto, and the environment awsrun runs in."""

    home: Path
    moto: Moto
    env: dict[str, str]
    awsrun: str = field(default_factory=awsrun)

    @property
    def endpoint(self) -> str:
        return self.moto.sts.endpoint


def build_scene(root: Path, moto: Moto) -> Scene:
    home = root / "home"
    (home / ".aws").mkdir(parents=True)
    env = isolated_environment(str(home), moto.sts.endpoint)
    env.update({"AWSRUN_CACHE_DIR": str(home / "cache"), "CHECKPOINT_DISABLE": "1"})
    scene = Scene(home, moto, env)
    role = f"arn:aws:iam::{ACCOUNT}:role"
    (home / ".aws" / "config").write_text(
        "[default]\nregion = eu-west-1\n\n"
        f"[profile prod]\nrole_arn = {role}/Prod\nsource_profile = default\n"
        "region = eu-west-1\n\n"
        f"[profile viaproc]\ncredential_process = {scene.awsrun} credential-process prod\n"
        "region = eu-west-1\n\n"
        # Temporary keys cannot open an MFA session: each AssumeRole needs a code, and
        # the one given on the command line is used up by the first.
        f"[profile needs-mfa]\nrole_arn = {role}/NeedsMfa\nsource_profile = temp-keys\n"
        f"mfa_serial = arn:aws:iam::{ACCOUNT}:mfa/alice\nregion = eu-west-1\n"
    )
    # The source keys sit in [default]: every SDK would take them before the --server
    # endpoint if awsrun left the credentials file in their sight.
    (home / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIAINTEROPROOT00001\n"
        "aws_secret_access_key = interopSECRETinteropSECRET\n\n"
        "[temp-keys]\naws_access_key_id = ASIAINTEROPTEMP00001\n"
        "aws_secret_access_key = tempSECRET\naws_session_token = tempTOKEN\n"
    )
    return scene


# -- the modes and columns ---------------------------------------------------------------

COLUMNS = [
    ("exec", "exec"),
    ("env", "env"),
    ("process", "process"),
    ("server", "server"),
    (
        "server+caller",
        "server, with a CI job's web identity variables and keys under the older names "
        "(AWS_ACCESS_KEY/AWS_SECRET_KEY, AMAZON_*) in the caller's environment",
    ),
    ("refreshed", "server, credentials refreshed between two runs of the client"),
    ("refresh fails", "server, refresh failing while the held credentials are valid"),
]


def mode_of(column: str) -> str:
    return column if column in ("exec", "env", "process") else "server"


def role_of(column: str) -> str:
    return "NeedsMfa" if column == "refresh fails" else "Prod"


def command_line(scene: Scene, column: str, command: list[str]) -> tuple[list[str], dict[str, str]]:
    """The command line that runs `command` in `column`, and the variables it adds."""
    run = scene.awsrun
    mode = mode_of(column)
    if mode == "exec":
        return [run, "prod", "--", *command], {}
    if mode == "env":
        script = f'eval "$({run} env prod)" && exec "$@"'
        return ["sh", "-c", script, "sh", *command], {}
    if mode == "process":
        return command, {"AWS_PROFILE": "viaproc"}
    if column == "server+caller":
        token = scene.home / "oidc-token"
        token.write_text("a.ci.oidc.token")
        oidc = {
            "AWS_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/CiRole",
            "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
            # The Go SDK v2 (Terraform's too) and Java v1 read these; Ruby the AMAZON_ ones.
            "AWS_ACCESS_KEY": "AKIACALLEROLDNAME001",
            "AWS_SECRET_KEY": "callerOLDNAMEsecret",
            "AMAZON_ACCESS_KEY_ID": "AKIACALLERAMAZON0001",
            "AMAZON_SECRET_ACCESS_KEY": "callerAMAZONsecret",
        }
        return [run, "--server", "prod", "--", *command], oidc
    if column == "refreshed":
        return [run, "--server", *REFRESHING_SOON, "prod", "--", *twice(command)], {}
    if column == "refresh fails":
        options = [*REFRESHING_SOON, "--mfa-code", "123456"]
        return [run, "--server", *options, "needs-mfa", "--", *twice(command)], {}
    return [run, "--server", "prod", "--", *command], {}


def twice(command: list[str]) -> list[str]:
    """The command, a pause long enough for awsrun's refresh margin, the command again."""
    return ["sh", "-c", f'"$@" && sleep {PAUSE_SECONDS} && "$@"', "sh", *command]


# -- one cell ----------------------------------------------------------------------------


@dataclass
class Outcome:
    mark: str  # ok, FAIL, skip, n/a
    detail: str = ""


def _identities(stdout: str) -> list[dict[str, str]]:
    found = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{") and '"Arn"' in line:
            found.append(json.loads(line))
    if not found and '"Arn"' in stdout:  # the AWS CLI prints indented JSON
        found = [json.loads(part) for part in re.findall(r"\{[^{}]*\}", stdout, re.S)]
    return found


def _run(
    scene: Scene, argv: list[str], extra: dict[str, str]
) -> subprocess.CompletedProcess[str] | None:
    """One command line in the scene's environment; None when it did not end in time."""
    try:
        return subprocess.run(
            argv,
            env={**scene.env, **extra},
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None


def run_cell(
    scene: Scene, argv: list[str], extra: dict[str, str], role: str, answers: int
) -> tuple[Outcome, str]:
    """Run one command line; ok when it printed `answers` identities, all of them `role`."""
    done = _run(scene, argv, extra)
    if done is None:
        return Outcome("FAIL", f"no answer in {CLIENT_TIMEOUT_SECONDS} s"), ""
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
        return Outcome("FAIL", f"exit {done.returncode}: {last[:160]}"), done.stderr
    arns = [identity.get("Arn", "") for identity in _identities(done.stdout)]
    if len(arns) != answers or not all(f":assumed-role/{role}/" in arn for arn in arns):
        return Outcome("FAIL", f"ran as {arns or 'nobody'}, not role {role}"), done.stderr
    return Outcome("ok"), done.stderr


def terraform_cell(scene: Scene, column: str, name: str) -> tuple[Outcome, str]:
    """Terraform's S3 backend writes its state; the signer moto recorded must be the role."""
    work = scene.home / "terraform" / name
    work.mkdir(parents=True)
    url = scene.endpoint
    (work / "main.tf").write_text(
        'terraform {\n  backend "s3" {\n'
        f'    bucket = "{BUCKET}"\n    key = "{name}/terraform.tfstate"\n'
        '    region = "eu-west-1"\n    use_path_style = true\n'
        "    skip_region_validation = true\n    skip_metadata_api_check = true\n"
        "    skip_requesting_account_id = true\n"
        f'    endpoints = {{ s3 = "{url}", sts = "{url}", iam = "{url}" }}\n'
        "  }\n}\n"
        'resource "terraform_data" "marker" {\n  input = "written through awsrun"\n}\n'
    )
    script = (
        f"cd {work} && terraform init -input=false -no-color >>init.log 2>&1 && "
        # -replace: every apply writes the state, the second one of a column run twice too.
        "terraform apply -replace=terraform_data.marker -auto-approve -input=false "
        "-no-color >>apply.log 2>&1"
    )
    argv, extra = command_line(scene, column, ["sh", "-c", script])
    before = len(scene.moto.requests())
    done = _run(scene, argv, extra)
    if done is None:
        return Outcome("FAIL", f"no answer in {CLIENT_TIMEOUT_SECONDS} s"), ""
    if done.returncode != 0:
        logs = [work / "apply.log", work / "init.log"]
        text = "\n".join(log.read_text() for log in logs if log.exists())
        errors = [line for line in text.splitlines() if "Error" in line]
        return Outcome("FAIL", (errors or [f"exit {done.returncode}"])[0][:160]), done.stderr
    roles = {str(call["access_key_id"]): str(call["arn"]) for call in scene.moto.assumed_roles()}
    signers = []
    for request in scene.moto.requests()[before:]:
        if request.get("method") != "PUT" or name not in str(request.get("url", "")):
            continue
        headers = request.get("headers")
        authorization = str(headers.get("Authorization", "")) if isinstance(headers, dict) else ""
        found = re.search(r"Credential=([A-Z0-9]+)/", authorization)
        signers.append(roles.get(found.group(1), "?") if found else "?")
    role = role_of(column)
    if not signers or not all(f":assumed-role/{role}/" in signer for signer in signers):
        return Outcome("FAIL", f"state written by {signers or 'nobody'}, not {role}"), ""
    return Outcome("ok"), done.stderr


def cell(scene: Scene, client: Client, column: str) -> Outcome:
    if client.argv is None:
        return Outcome("skip", client.why_missing)
    if mode_of(column) not in client.modes:
        return Outcome("n/a")
    name = re.sub(r"[^a-z0-9]+", "-", f"{client.name}-{column}")
    roles_before = len(scene.moto.assumed_roles())
    # A cache of its own for each cell: each cell makes its own STS calls.
    shutil.rmtree(scene.home / "cache", ignore_errors=True)
    if client.name == "terraform s3":
        outcome, stderr = terraform_cell(scene, column, name)
    else:
        command = [part.replace(ENDPOINT, scene.endpoint) for part in client.argv]
        answers = 2 if column in ("refreshed", "refresh fails") else 1
        argv, extra = command_line(scene, column, command)
        outcome, stderr = run_cell(scene, argv, extra, role_of(column), answers)
    if outcome.mark != "ok":
        return outcome
    if column == "refreshed" and len(scene.moto.assumed_roles()) - roles_before < 2:
        return Outcome("FAIL", "awsrun did not refresh between the two runs")
    if column == "refresh fails":
        said = [line for line in stderr.splitlines() if "refreshing" in line and "fails" in line]
        if len(said) != 1:
            return Outcome("FAIL", f"awsrun said {len(said)} times that refreshing fails")
    return outcome


def default_keys_are_refused(scene: Scene) -> Outcome:
    config = scene.home / ".aws" / "config"
    saved = config.read_text()
    config.write_text(
        saved.replace("[default]\n", "[default]\naws_access_key_id = AKIAINTEROPROOT00001\n", 1)
    )
    try:
        done = subprocess.run(
            [scene.awsrun, "--server", "prod", "--", "true"],
            env=scene.env,
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT_SECONDS,
        )
    finally:
        config.write_text(saved)
    if done.returncode == 125 and "aws_access_key_id" in done.stderr:
        return Outcome("ok", done.stderr.strip())
    return Outcome("FAIL", f"exit {done.returncode}: {done.stderr.strip()[:160]}")


def create_bucket(scene: Scene) -> None:
    request = urllib.request.Request(f"{scene.endpoint}/{BUCKET}", method="PUT")
    urllib.request.urlopen(request, timeout=30).close()  # moto checks no signature


def main(only: Sequence[str]) -> int:
    """`only`: names (or parts of names) of the clients to run; all of them when empty."""
    clients = [
        client
        for client in discover_clients()
        if not only or any(part in client.name for part in only)
    ]
    with tempfile.TemporaryDirectory(prefix="awsrun-interop-") as root_text:
        root = Path(root_text)
        recording = root / "moto-recording.jsonl"
        os.environ["MOTO_ENABLE_RECORDING"] = "true"
        os.environ["MOTO_RECORDER_FILEPATH"] = str(recording)
        with local_sts() as sts:
            scene = build_scene(root, Moto(sts, recording))
            create_bucket(scene)
            print("interop: clients")
            for client in clients:
                shown = client.version if client.argv else f"skipped: {client.why_missing}"
                print(f"  {client.name:<16} {shown}")
            results: dict[tuple[str, str], Outcome] = {}
            for client in clients:
                for column, _ in COLUMNS:
                    results[client.name, column] = cell(scene, client, column)
                    mark = results[client.name, column].mark
                    print(f"  {client.name} / {column}: {mark}", flush=True)
            refused = default_keys_are_refused(scene)
    print()
    print("interop matrix (ok: ran as the profile's role)")
    width = max(len(column) for column, _ in COLUMNS) + 2
    print(f"{'':<16}" + "".join(f"{column:<{width}}" for column, _ in COLUMNS))
    for client in clients:
        row = "".join(f"{results[client.name, column].mark:<{width}}" for column, _ in COLUMNS)
        print(f"{client.name:<16}{row}")
    print()
    for column, meaning in COLUMNS:
        print(f"  {column}: {meaning}")
    print(f"  [default] keys in the config file under --server: {refused.mark} ({refused.detail})")
    failures = [(key, outcome) for key, outcome in results.items() if outcome.mark == "FAIL"]
    if refused.mark == "FAIL":
        failures.append((("awsrun", "refuses [default] keys"), refused))
    for (client_name, column), outcome in failures:
        print(f"FAIL {client_name} / {column}: {outcome.detail}")
    skipped = {name for (name, _), outcome in results.items() if outcome.mark == "skip"}
    if skipped:
        print(f"skipped (not installed here): {', '.join(sorted(skipped))}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
