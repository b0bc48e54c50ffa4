"""NDJSON lines -> validated events -> request bodies of at most 1000 events (tiktok/ndjson.py)."""

from __future__ import annotations

import hashlib
import json

import pytest

from tiktok_relay.errors import EventValidationError
from tiktok_relay.tiktok.models import Event
from tiktok_relay.tiktok.ndjson import build_requests, parse_events


def line(i: int, **extra) -> str:
    return json.dumps({"event": "Purchase", "event_time": 1_700_000_000 + i, "event_id": f"e{i}", **extra})


def test_parse_events_validates_and_hashes_each_line():
    parsed = parse_events([line(1, user={"email": "A@B.co"}), line(2).encode()])
    assert parsed.problems == []
    assert [e.event_id for e in parsed.events] == ["e1", "e2"]
    assert parsed.events[0].user.email == [hashlib.sha256(b"a@b.co").hexdigest()]
    assert parsed.line_numbers == [1, 2]


def test_blank_lines_are_skipped_but_counted():
    parsed = parse_events(["", line(1), "   ", b"\t", line(2)])
    assert parsed.line_numbers == [2, 5]


def test_every_bad_line_is_reported_with_its_number_and_field():
    lines = [
        line(1),
        line(2, page={"valeu": 1}),
        "not json at all",
        line(4),
        line(5, user={"ip": "999.0.0.1"}, event="purchase"),
    ]
    parsed = parse_events(lines)
    found = [(p.line, p.problem.loc) for p in parsed.problems]
    assert (2, "page.valeu") in found
    assert any(n == 3 for n, _ in found)
    assert (5, "user.ip") in found and (5, "event") in found
    assert {n for n, _ in found} == {2, 3, 5}
    assert parsed.line_numbers == [1, 4]
    assert str(parsed.problems[0]).startswith("line 2: page.valeu: unknown field")


@pytest.mark.parametrize("count, sizes", [(0, []), (1, [1]), (999, [999]), (1000, [1000]), (1001, [1000, 1]),
                                          (2500, [1000, 1000, 500])])
def test_build_requests_chunks_by_1000(count, sizes):
    events = [Event(event="Purchase", event_time=1_700_000_000, event_id=str(i)) for i in range(count)]
    requests = build_requests(events, event_source="web", event_source_id="PIX", test_event_code="TEST1")
    assert [len(r.data) for r in requests] == sizes
    ids = [e["event_id"] for r in requests for e in json.loads(r.to_json())["data"]]
    assert ids == [str(i) for i in range(count)]  # order kept, nothing lost or repeated
    for request in requests:
        body = json.loads(request.to_json())
        assert body["event_source"] == "web" and body["event_source_id"] == "PIX" and body["test_event_code"] == "TEST1"


def test_build_requests_checks_the_envelope():
    events = [Event(event="Purchase", event_time=1_700_000_000)]
    with pytest.raises(EventValidationError) as caught:
        build_requests(events, event_source="web", event_source_id="  ")
    assert [p.loc for p in caught.value.problems] == ["event_source_id"]
    with pytest.raises(EventValidationError):
        build_requests(events, event_source="website", event_source_id="PIX")
