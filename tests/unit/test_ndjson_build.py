"""NDJSON lines -> validated events -> request bodies of at most 1000 events (tiktok/ndjson.py)."""

from __future__ import annotations

import hashlib
import json

import pytest

from tiktok_relay.errors import EventValidationError
from tiktok_relay.tiktok import encode
from tiktok_relay.tiktok.models import Event, TrackRequest
from tiktok_relay.tiktok.ndjson import encode_lines, request_bodies


def line(i: int, **extra) -> str:
    return json.dumps({"event": "Purchase", "event_time": 1_700_000_000 + i, "event_id": f"e{i}", **extra})


def test_encode_lines_validates_and_hashes_each_line():
    parsed = encode_lines([line(1, user={"email": "A@B.co"}), line(2).encode()])
    assert parsed.problems == []
    assert parsed.event_ids == ["e1", "e2"]
    assert json.loads(parsed.events[0])["user"]["email"] == [hashlib.sha256(b"a@b.co").hexdigest()]
    assert parsed.line_numbers == [1, 2]


def test_blank_lines_are_skipped_but_counted():
    parsed = encode_lines(["", line(1), "   ", b"\t", line(2)])
    assert parsed.line_numbers == [2, 5]


def test_every_bad_line_is_reported_with_its_number_and_field():
    lines = [
        line(1),
        line(2, page={"valeu": 1}),
        "not json at all",
        line(4),
        line(5, user={"ip": "999.0.0.1"}, event="purchase"),
    ]
    parsed = encode_lines(lines)
    found = [(p.line, p.problem.loc) for p in parsed.problems]
    assert (2, "page.valeu") in found
    assert any(n == 3 for n, _ in found)
    assert (5, "user.ip") in found and (5, "event") in found
    assert {n for n, _ in found} == {2, 3, 5}
    assert parsed.line_numbers == [1, 4]
    assert str(parsed.problems[0]).startswith("line 2: page.valeu: unknown field")


@pytest.mark.parametrize("many", [False, True], ids=["json", "pydantic-core"])
def test_lines_the_fast_path_leaves_to_the_models_give_the_models_bytes_in_place(many):
    # A small float and a lax boolean are the models' business; their events keep their places.
    lines = [line(1, properties={"value": 0.00001}), line(2), line(3, limited_data_use=1)]
    lines += [line(n) for n in range(4, encode.MANY_EVENTS + 1)] if many else []
    assert encode.event_encoder(events=len(lines))(lines[0]) is None
    parsed = encode_lines(lines)
    expected = [Event.model_validate_json(text) for text in lines]
    assert parsed.events == [e.__pydantic_serializer__.to_json(e, exclude_none=True) for e in expected]
    assert parsed.event_ids == [e.event_id for e in expected]
    assert json.loads(parsed.events[0])["properties"] == {"value": 1e-05}
    assert json.loads(parsed.events[2])["limited_data_use"] is True


@pytest.mark.parametrize("count, sizes", [(0, []), (1, [1]), (999, [999]), (1000, [1000]), (1001, [1000, 1]),
                                          (2500, [1000, 1000, 500])])
def test_request_bodies_hold_at_most_1000_events_in_order(count, sizes):
    parsed = encode_lines([line(i) for i in range(count)])
    bodies = request_bodies(parsed.events, event_source="web", event_source_id="PIX", test_event_code="TEST1")
    assert [len(json.loads(b)["data"]) for b in bodies] == sizes
    ids = [e["event_id"] for b in bodies for e in json.loads(b)["data"]]
    assert ids == [f"e{i}" for i in range(count)]  # order kept, nothing lost or repeated
    for body in bodies:
        decoded = json.loads(body)
        assert decoded["event_source"] == "web" and decoded["event_source_id"] == "PIX"
        assert decoded["test_event_code"] == "TEST1"


def test_a_request_body_is_the_bytes_of_the_track_request_model():
    texts = [line(1, user={"email": "a@b.co", "phone": "+1 415 555 2671"}, properties={"value": 5, "currency": "usd"}),
             line(2, page={"url": "https://shop.example/é"})]
    parsed = encode_lines(texts)
    [body] = request_bodies(parsed.events, event_source="app", event_source_id=" PIX ", partner_name="Acme")
    track = TrackRequest(event_source="app", event_source_id=" PIX ", partner_name="Acme",
                         data=[Event.model_validate_json(text) for text in texts])
    assert body == track.to_json()


def test_request_bodies_check_the_envelope():
    events = encode_lines([line(1)]).events
    with pytest.raises(EventValidationError) as caught:
        request_bodies(events, event_source="web", event_source_id="  ")
    assert [p.loc for p in caught.value.problems] == ["event_source_id"]
    with pytest.raises(EventValidationError):
        request_bodies(events, event_source="website", event_source_id="PIX")
    with pytest.raises(EventValidationError):
        request_bodies([], event_source="website", event_source_id="PIX")  # even with no events
