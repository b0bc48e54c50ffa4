"""The README, read the way the tests that keep its promises need it."""

from __future__ import annotations

import re

from tests.support import ROOT

README_PATH = ROOT / "README.md"


def readme() -> str:
    return README_PATH.read_text(encoding="utf-8")


def section(title: str, text: str | None = None) -> str:
    """The `## title` section (to the next `## `), its heading included."""
    text = readme() if text is None else text
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start: end if end != -1 else None]


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def library_example() -> str:
    """The first Python block of "Using the library on its own": what users copy first."""
    return code_blocks(section("Using the library on its own"), "python")[0]
