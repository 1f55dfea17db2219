"""The README and docs/: every relative link resolves (to a file, and to a heading where it
names one), the README stays short, and the contributor's guide names every module and the
exact cache-hit path the import guard holds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import HIT_PATH, TESTS

ROOT = TESTS.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def outside_code(text: str) -> str:
    """The text with fenced blocks and inline code removed: links there are examples."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lowercased, punctuation dropped, spaces to hyphens."""
    found = set()
    for line in outside_code(page.read_text()).splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def relative_links(page: Path) -> list[str]:
    links = LINK.findall(outside_code(page.read_text()))
    return [link for link in links if not re.match(r"[a-z]+:", link)]


def test_there_are_pages_and_links_to_check() -> None:
    assert len(PAGES) >= 8
    assert sum(len(relative_links(page)) for page in PAGES) >= 10


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for link in relative_links(page):
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(f"{link}: no such file")
        elif anchor and target.suffix == ".md" and anchor not in anchors(target):
            broken.append(f"{link}: no such heading in {target.name}")
    assert broken == []


def test_the_readme_fits_on_a_screen_or_two() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {link.partition("#")[0] for link in relative_links(ROOT / "README.md")}
    pages = {f"docs/{page.name}" for page in PAGES if page.parent.name == "docs"}
    assert pages - linked == set()


def test_the_contributors_guide_lists_the_hit_path_the_guard_holds() -> None:
    guide = (ROOT / "docs" / "contributing.md").read_text()
    block = guide.split("<!-- hit-path -->", 1)[1].split("```")[1]

    assert set(block.split()) - {"text"} == HIT_PATH


def test_the_contributors_guide_maps_every_module() -> None:
    guide = (ROOT / "docs" / "contributing.md").read_text()
    package = ROOT / "src" / "awsrun"
    modules = [
        path.relative_to(package)
        for path in package.rglob("*.py")
        if path.name not in ("__init__.py", "__main__.py")
    ]
    assert len(modules) > 30
    missing = [str(module) for module in modules if f" {module.name} " not in guide]
    assert missing == []
