"""events/ and examples/ are exactly what tests/fixtures/make_events.py writes: the files users
replay, sign and invoke with SAM cannot drift from the payloads, headers and local secret the
tests assume."""

from __future__ import annotations

from tests.fixtures.make_events import EVENTS, EXAMPLES, build, build_examples, render


def test_events_dir_matches_its_generator():
    expected = {relative: render(event) for relative, event in build().items()}
    actual = {str(path.relative_to(EVENTS)): path.read_text(encoding="utf-8")
              for path in EVENTS.rglob("*.json")}
    assert sorted(actual) == sorted(expected)
    stale = [name for name in expected if actual[name] != expected[name]]
    assert not stale, f"regenerate with: .venv/bin/python tests/fixtures/make_events.py ({stale})"


def test_examples_dir_matches_its_generator():
    expected = build_examples()
    actual = {str(path.relative_to(EXAMPLES)): path.read_text(encoding="utf-8")
              for path in EXAMPLES.rglob("*") if path.is_file()}
    assert actual == expected, "regenerate with: .venv/bin/python tests/fixtures/make_events.py"


def test_the_example_order_is_the_body_of_the_sample_delivery():
    """`sign examples/shopify/orders_paid.json` gives what events/shopify/orders_paid.json holds."""
    import json

    from tests.support import event_file

    event = event_file("shopify/orders_paid.json")
    assert json.loads((EXAMPLES / "shopify" / "orders_paid.json").read_text()) == json.loads(event["body"])
