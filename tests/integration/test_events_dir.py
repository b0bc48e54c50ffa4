"""events/ is exactly what tests/fixtures/make_events.py writes: the files users replay and
invoke with SAM cannot drift from the payloads, headers and local secret the tests assume."""

from __future__ import annotations

from tests.fixtures.make_events import EVENTS, build, render


def test_events_dir_matches_its_generator():
    expected = {relative: render(event) for relative, event in build().items()}
    actual = {str(path.relative_to(EVENTS)): path.read_text(encoding="utf-8")
              for path in EVENTS.rglob("*.json")}
    assert sorted(actual) == sorted(expected)
    stale = [name for name in expected if actual[name] != expected[name]]
    assert not stale, f"regenerate with: .venv/bin/python tests/fixtures/make_events.py ({stale})"
