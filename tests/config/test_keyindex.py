"""awsrun.config.keyindex: profile names escaped for the index and for `pass` entries,
one escaped form per name, read back as they were."""

from __future__ import annotations

import os
from pathlib import Path

from awsrun.config.keyindex import StoredEntry, escaped_name, read_index, render_index

NAMES = ["prod", "a b", " AC", "€", "x/y", "../z", "[weird]", "50%", "ü.dev"]


def test_every_name_has_its_own_escaped_form() -> None:
    from awsrun.credentials.keystore import _PASS_PLAIN as pass_plain

    assert len({escaped_name(name) for name in NAMES}) == len(NAMES)
    # `€` once escaped as `%20AC`, the same as ` AC`: one pass entry for two profiles.
    assert len({escaped_name(name, pass_plain) for name in NAMES}) == len(NAMES)
    assert not any({"/", "."} & set(escaped_name(name, pass_plain)) for name in NAMES)


def test_the_index_reads_back_every_name(tmp_path: Path) -> None:
    folder = str(tmp_path)
    entries = {name: StoredEntry("file", f"AKIA{n:016d}") for n, name in enumerate(NAMES)}
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "stored-keys.ini"), "w", encoding="utf-8") as index:
        index.write(render_index(entries))

    read = read_index({"AWSRUN_DATA_DIR": folder})

    assert {name: entry.access_key_id for name, entry in read.items()} == {
        name: entry.access_key_id for name, entry in entries.items()
    }
