"""How `awsrun env` writes the child's variables for each consumer. Pure.

One small class per format: a line to set a variable, a line to unset some, and how the
lines are joined. Values are quoted so that anything round-trips through the shell.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence


class Format:
    def render(self, variables: Mapping[str, str], removed: Sequence[str]) -> str:
        raise NotImplementedError


def _sh_quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


class ShFormat(Format):
    """bash, zsh, dash: `eval "$(awsrun env PROFILE)"`."""

    def render(self, variables: Mapping[str, str], removed: Sequence[str]) -> str:
        lines = [f"unset {' '.join(removed)}"] if removed else []
        lines += [f"export {name}={_sh_quote(value)}" for name, value in variables.items()]
        return "\n".join(lines) + "\n"


class FishFormat(Format):
    """fish: `awsrun env PROFILE --format fish | source`."""

    def render(self, variables: Mapping[str, str], removed: Sequence[str]) -> str:
        def quote(value: str) -> str:
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

        lines = [f"set -e {name}" for name in removed]
        lines += [f"set -gx {name} {quote(value)}" for name, value in variables.items()]
        return "\n".join(lines) + "\n"


class PowerShellFormat(Format):
    """PowerShell: `awsrun env PROFILE --format powershell | Invoke-Expression`."""

    def render(self, variables: Mapping[str, str], removed: Sequence[str]) -> str:
        lines = [f"Remove-Item Env:{name} -ErrorAction SilentlyContinue" for name in removed]
        lines += [
            f"$Env:{name} = '{value.replace(chr(39), chr(39) * 2)}'"
            for name, value in variables.items()
        ]
        return "\n".join(lines) + "\n"


class CmdFormat(Format):
    """Windows cmd.exe: `set NAME=value` lines for a batch file."""

    def render(self, variables: Mapping[str, str], removed: Sequence[str]) -> str:
        lines = [f"set {name}=" for name in removed]
        lines += [f"set {name}={value}" for name, value in variables.items()]
        return "\r\n".join(lines) + "\r\n"


class DotenvFormat(Format):
    """`docker run --env-file`: NAME=value, verbatim (docker does not unquote)."""

    def render(self, variables: Mapping[str, str], removed: Sequence[str]) -> str:
        return "".join(f"{name}={value}\n" for name, value in variables.items())


class JsonFormat(Format):
    """One JSON object, name to value, for scripts."""

    def render(self, variables: Mapping[str, str], removed: Sequence[str]) -> str:
        return json.dumps(dict(variables), indent=2) + "\n"


FORMATS: dict[str, Format] = {
    "sh": ShFormat(),
    "fish": FishFormat(),
    "powershell": PowerShellFormat(),
    "cmd": CmdFormat(),
    "dotenv": DotenvFormat(),
    "json": JsonFormat(),
}


def credential_process_document(
    access_key_id: str, secret_access_key: str, session_token: str | None, expiration: str | None
) -> str:
    """The AWS `credential_process` contract: Version 1, and the expiry when there is one."""
    document: dict[str, object] = {
        "Version": 1,
        "AccessKeyId": access_key_id,
        "SecretAccessKey": secret_access_key,
    }
    if session_token:
        document["SessionToken"] = session_token
    if expiration:
        document["Expiration"] = expiration
    return json.dumps(document) + "\n"


__all__ = ["FORMATS", "Format", "credential_process_document"]
