"""How `awsrun env` writes the child's variables for each consumer. Pure.

One small class per format: a line to set a variable, a line to unset some, and how the
lines are joined. Values are quoted so that anything round-trips through the shell.
"""

from __future__ import annotations

from awsrun.errors import ConfigError

# `awsrun env` runs in prompt hooks and direnv: like exec, its cache hit imports neither
# json (with re and enum) nor collections; json is imported where a format needs it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence


class Format:
    def text(self, variables: Mapping[str, str], removed: Sequence[str]) -> str:
        """The variables in this format; a value no format can carry safely is refused."""
        for name, value in variables.items():
            if _unsafe(value, self.refused):
                raise ConfigError(
                    f"{name} would hold a line break or another character that --format "
                    f"{self.name} cannot write safely; fix where it comes from "
                    f"({_SOURCES.get(name, 'the credentials')})"
                )
        return self.render(variables, removed)

    # Characters the format cannot quote, besides control characters.
    refused = ""
    name = ""

    def render(self, variables: Mapping[str, str], removed: Sequence[str]) -> str:
        raise NotImplementedError

    def failure(self, names: Sequence[str]) -> str:
        """What `eval` gets when awsrun fails: the variables it would have set are unset
        and the evaluation fails, so `eval "$(awsrun env p)" && cmd` never runs `cmd` with
        credentials left over from before. Empty where the format has no such command."""
        return ""


# Where the values that are not credentials come from, for the refusal above.
_SOURCES = {
    "AWS_REGION": "--region, AWS_DEFAULT_REGION or the profile's region",
    "AWS_DEFAULT_REGION": "--region, AWS_DEFAULT_REGION or the profile's region",
    "AWSRUN_PROFILE": "the profile name",
}


def _unsafe(value: str, refused: str) -> bool:
    # C0 controls, DEL, C1 controls and the Unicode line and paragraph separators.
    return any(
        ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029" or c in refused
        for c in value
    )


def _sh_quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


class ShFormat(Format):
    """bash, zsh, dash: `eval "$(awsrun env PROFILE)"`."""

    name = "sh"

    def failure(self, names: Sequence[str]) -> str:
        return f"unset {' '.join(names)}\nfalse\n"

    def render(self, variables: Mapping[str, str], removed: Sequence[str]) -> str:
        lines = [f"unset {' '.join(removed)}"] if removed else []
        lines += [f"export {name}={_sh_quote(value)}" for name, value in variables.items()]
        return "\n".join(lines) + "\n"


class FishFormat(Format):
    """fish: `awsrun env PROFILE --format fish | source`."""

    name = "fish"

    def failure(self, names: Sequence[str]) -> str:
        return "".join(f"set -e {name}\n" for name in names) + "false\n"

    def render(self, variables: Mapping[str, str], removed: Sequence[str]) -> str:
        def quote(value: str) -> str:
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

        lines = [f"set -e {name}" for name in removed]
        lines += [f"set -gx {name} {quote(value)}" for name, value in variables.items()]
        return "\n".join(lines) + "\n"


# PowerShell ends a single-quoted string at any of these, and reads each one doubled as one.
_POWERSHELL_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")


class PowerShellFormat(Format):
    """PowerShell: `awsrun env PROFILE --format powershell | Invoke-Expression`."""

    name = "powershell"

    def render(self, variables: Mapping[str, str], removed: Sequence[str]) -> str:
        def quote(value: str) -> str:
            for mark in _POWERSHELL_QUOTES:
                value = value.replace(mark, mark * 2)
            return f"'{value}'"

        lines = [f"Remove-Item Env:{name} -ErrorAction SilentlyContinue" for name in removed]
        lines += [f"$Env:{name} = {quote(value)}" for name, value in variables.items()]
        return "\n".join(lines) + "\n"

    def failure(self, names: Sequence[str]) -> str:
        lines = [f"Remove-Item Env:{name} -ErrorAction SilentlyContinue" for name in names]
        return "\n".join([*lines, "throw 'awsrun env failed: see its message above'"]) + "\n"


class CmdFormat(Format):
    """Windows cmd.exe: `set "NAME=value"` lines for a batch file. The quotes keep `& | < >
    ^` literal; `%` is doubled, as a batch file reads it; a `"` or `!` cannot be written."""

    name = "cmd"
    refused = '"!'

    def render(self, variables: Mapping[str, str], removed: Sequence[str]) -> str:
        lines = [f'set "{name}="' for name in removed]
        lines += [f'set "{name}={value.replace("%", "%%")}"' for name, value in variables.items()]
        return "\r\n".join(lines) + "\r\n"

    def failure(self, names: Sequence[str]) -> str:
        return "".join(f'set "{name}="\r\n' for name in names) + "exit /b 1\r\n"


class DotenvFormat(Format):
    """`docker run --env-file`: NAME=value, verbatim (docker does not unquote)."""

    name = "dotenv"

    def render(self, variables: Mapping[str, str], removed: Sequence[str]) -> str:
        return "".join(f"{name}={value}\n" for name, value in variables.items())


class JsonFormat(Format):
    """One JSON object, name to value, for scripts."""

    name = "json"

    def render(self, variables: Mapping[str, str], removed: Sequence[str]) -> str:
        import json

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
    fields = {"AccessKeyId": access_key_id, "SecretAccessKey": secret_access_key}
    if session_token:
        fields["SessionToken"] = session_token
    if expiration:
        fields["Expiration"] = expiration
    quote = _json_string_quoter()
    members = "".join(f", {quote(name)}: {quote(value)}" for name, value in fields.items())
    return '{"Version": 1' + members + "}\n"


def _json_string_quoter() -> Callable[[str], str]:
    """json's own string encoder: SDKs run credential_process on every refresh, and the
    `json` package would import `re` and `enum` for four strings."""
    try:
        from _json import encode_basestring_ascii  # the C function json.dumps uses

        quote: Callable[[str], str] = encode_basestring_ascii
    except ImportError:  # another Python implementation
        import json

        quote = json.dumps
    return quote


__all__ = ["FORMATS", "Format", "credential_process_document"]
