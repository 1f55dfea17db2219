"""awsrun's INI reader against configparser, which botocore uses: the same result, or an
error from both, for any text."""

from __future__ import annotations

import configparser
import shlex

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from awsrun.config.files import section_words
from awsrun.config.ini import IniError, parse_ini


def configparser_reads(text: str) -> dict[str, dict[str, str]] | None:
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return {section: dict(parser.items(section)) for section in parser.sections()}


def awsrun_reads(text: str) -> dict[str, dict[str, str]] | None:
    try:
        return parse_ini(text)
    except IniError:
        return None


# Lines built from the pieces that matter to the grammar, so that most generated files
# are near-valid and exercise continuation, comments, defaults and duplicates.
_NAMES = st.sampled_from(["default", "profile a", "profile b", "DEFAULT", "sso-session s", "x"])
_KEYS = st.sampled_from(["region", "Role_Arn", "source_profile", "s3", "k", "", "a b"])
_VALUES = st.text(alphabet=" ab=:#;[]\t\u00a0é", max_size=8)
_LINE = st.one_of(
    _NAMES.map(lambda name: f"[{name}]"),
    st.tuples(_KEYS, st.sampled_from(["=", ":", " = ", " : ", "=="]), _VALUES).map("".join),
    st.tuples(st.sampled_from([" ", "  ", "\t", ""]), _VALUES).map("".join),
    st.sampled_from(
        [
            "",
            "# comment",
            "; comment",
            "  # indented comment",
            "[]",
            "[[x]]",
            "[a] trailing",
            "garbage",
            "\u00a0 nbsp-indented = 1",
        ]
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_LINE, max_size=14).map("\n".join))
@example("[default]\nregion = eu-west-1\ns3 =\n  max_concurrent_requests = 10\n\n  x = 1\n\n")
@example("[DEFAULT]\nregion = a\n[profile a]\nk = b\n")
@example("k = v\n[a]")
@example("[a]\nk = 1\n[a]\n")
@example("[a]\nk = 1\nK = 2\n")
def test_same_reading_as_configparser(text: str) -> None:
    assert awsrun_reads(text) == configparser_reads(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_same_reading_of_arbitrary_text(text: str) -> None:
    assert awsrun_reads(text) == configparser_reads(text)


def test_errors_name_the_line() -> None:
    with pytest.raises(IniError, match="line 3"):
        parse_ini("[a]\nk = 1\nnot an option\n")


def shlex_words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return []


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("profile ab\t\r\n\x0b\u00a0\"'\\#é")), max_size=20))
@example('profile "my team"')
@example("profile  spaced   out")
def test_section_words_are_botocores(text: str) -> None:
    assert section_words(text) == shlex_words(text)
