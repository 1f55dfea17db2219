"""awsrun.config.writer: removing a profile's key lines changes nothing else, for any file
the INI reader takes: the result reads as the original less those settings."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from awsrun.config.ini import IniError, parse_ini
from awsrun.config.writer import KEY_SETTINGS, without_settings

_SECTIONS = st.sampled_from(["bob", "carol", "profile bob", "default"])
_KEYS = st.sampled_from([*KEY_SETTINGS, "region", "AWS_Access_Key_ID", "output"])
_VALUES = st.text(alphabet="abcXYZ019/+= ", min_size=0, max_size=8)
_ENDINGS = st.sampled_from(["\n", "\r\n"])


@st.composite
def config_files(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        lines.append(f"[{draw(_SECTIONS)}]{draw(_ENDINGS)}")
        for _ in range(draw(st.integers(0, 5))):
            kind = draw(st.sampled_from(["setting", "comment", "blank", "continued"]))
            ending = draw(_ENDINGS)
            if kind == "comment":
                lines.append(f"{draw(st.sampled_from(['#', ';', '  #']))} note{ending}")
            elif kind == "blank":
                lines.append(ending)
            else:
                delimiter = draw(st.sampled_from([" = ", "=", " : "]))
                lines.append(f"{draw(_KEYS)}{delimiter}{draw(_VALUES)}{ending}")
                if kind == "continued":
                    lines.append(f"    more{ending}")
    text = "".join(lines)
    return text[:-1] if draw(st.booleans()) and text.endswith("\n") else text


def _lines(text: str) -> list[str]:
    return [line for line in re.split(r"(?<=\n)", text) if line]


@settings(max_examples=300, deadline=None)
@given(config_files())
def test_only_the_targets_key_settings_go(text: str) -> None:
    try:
        before = parse_ini(text)
    except IniError:
        return  # the reader refuses it (a section twice): so does every command

    after_text, removed = without_settings(text, lambda section: section == "bob", KEY_SETTINGS)

    expected = {
        name: {k: v for k, v in values.items() if name != "bob" or k not in KEY_SETTINGS}
        for name, values in before.items()
    }
    assert parse_ini(after_text) == expected
    assert removed == sum(1 for key in before.get("bob", {}) if key in KEY_SETTINGS)
    # Nothing was added or reordered: the result is the text less whole lines (each with
    # its own line end).
    remaining = iter(_lines(text))
    assert all(any(line == kept for kept in remaining) for line in _lines(after_text))


def test_line_ends_and_a_last_line_without_one_are_kept() -> None:
    text = "[bob]\r\naws_access_key_id = A\r\nregion = r\r\n[carol]\naws_secret_access_key=S"

    after, removed = without_settings(text, lambda section: section == "bob", KEY_SETTINGS)

    assert (after, removed) == ("[bob]\r\nregion = r\r\n[carol]\naws_secret_access_key=S", 1)


def test_a_blank_line_before_a_comment_stays_before_it() -> None:
    # Found by the property test: the blank line after a removed setting was put back
    # after the comment that followed it.
    text = "[bob]\naws_access_key_id = \n\n# note\n"

    assert without_settings(text, lambda section: section == "bob", KEY_SETTINGS) == (
        "[bob]\n\n# note\n",
        1,
    )
