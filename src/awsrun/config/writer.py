"""Edits to the AWS config files that change only what they must: every other byte (comments,
order, other sections, spacing, line ends, a last line without a newline) stays as it was.

Lines are told apart by the rules awsrun.config.ini reads them with, so an edit removes
the setting botocore would read, and with it the indented lines that continue its value.
"""

from __future__ import annotations

TYPE_CHECKING = False  # annotations only
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping

# The settings that make up a profile's keys in either file.
KEY_SETTINGS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token",
                "aws_security_token")  # fmt: skip


def without_settings(
    text: str, is_target: Callable[[str], bool], names: Collection[str]
) -> tuple[str, int]:
    """`text` less the lines that set `names` in the section(s) `is_target` picks (by
    section name), and their continuation lines; and how many settings were removed."""
    kept: list[str] = []
    removed = 0
    in_target = False
    dropping = False  # the lines that continue a removed setting's value go with it
    indent_level = 0
    blanks: list[str] = []  # blank lines are a value's only if an indented line follows
    for line in _lines(text):
        value = line.strip()
        if not value and dropping:
            blanks.append(line)
            continue
        if not value or value[0] in "#;":
            kept += blanks  # in their place: a comment is no part of a value
            blanks = []
            kept.append(line)
            continue
        indent = len(line) - len(line.lstrip())
        if dropping and indent > indent_level:
            blanks = []
            continue
        kept += blanks
        blanks = []
        dropping = False
        indent_level = indent
        if value[0] == "[" and (end := value.rfind("]")) >= 2:
            in_target = is_target(value[1:end])
        elif in_target:
            at = _delimiter(value)
            key = (value[:at] if at >= 0 else value).strip().lower()
            if key in names:
                removed += 1
                dropping = True
                continue
        kept.append(line)
    return "".join(kept + blanks), removed


def with_values(
    text: str, is_target: Callable[[str], bool], values: Mapping[str, str]
) -> tuple[str, int]:
    """`text` with the settings `values` names given new values in the target section(s):
    only what follows each one's delimiter changes (its spacing and line end stay); and how
    many settings were changed. Settings whose value goes on over more lines are left."""
    out: list[str] = []
    changed = 0
    in_target = False
    for line in _lines(text):
        value = line.strip()
        section = section_header(line)
        if section is not None:
            in_target = is_target(section)
        elif in_target and value and value[0] not in "#;" and line[0] not in " \t":
            at = _delimiter(line)
            key = line[:at].strip().lower() if at >= 0 else ""
            if key in values:
                body = line.rstrip("\r\n")
                ending = line[len(body) :]
                spacing = body[at + 1 :][: len(body[at + 1 :]) - len(body[at + 1 :].lstrip())]
                line = f"{body[: at + 1]}{spacing}{values[key]}{ending}"
                changed += 1
        out.append(line)
    return "".join(out), changed


def section_header(line: str) -> str | None:
    """The name of the section a line opens from its first column (`[name]`), or None."""
    value = line.strip()
    if line[:1] == "[" and (end := value.rfind("]")) >= 2:
        return value[1:end]
    return None


def _delimiter(text: str) -> int:
    """Where a `key = value` or `key: value` line splits: the first `=` or `:`, or -1."""
    found = [at for at in (text.find("="), text.find(":")) if at >= 0]
    return min(found, default=-1)


def _lines(text: str) -> list[str]:
    """The lines of `text`, each with its own ending (`\\n`, `\\r\\n`, or none at the end);
    only `\\n` ends a line, as when the file is read."""
    lines = text.split("\n")
    ended = [line + "\n" for line in lines[:-1]]
    return [*ended, lines[-1]] if lines[-1] else ended


__all__ = ["KEY_SETTINGS", "section_header", "with_values", "without_settings"]
