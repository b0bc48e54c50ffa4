"""`TrackRequest.to_json()`: compact JSON bytes in the exact wire shape, compared with a golden body.

The expected body below is written by hand, its hashes computed here with hashlib from
normalized strings spelled out in the test. The golden file pins the exact bytes (key order,
number format, compactness) of that same body.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tiktok_relay.tiktok.models import Event, TrackRequest

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden_track_request.json"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


FULL_INPUT = {
    "event_source": "web",
    "event_source_id": " CM1I1K3C77U8ABCDEFGH ",
    "test_event_code": "TEST04030",
    "data": [
        {
            "event": "Purchase",
            "event_time": "2024-01-08T13:52:50Z",
            "event_id": 1001,
            "user": {
                "email": ["  CoreyTest1231@Gmail.com ", "second@example.com", "coreytest1231@gmail.com"],
                "phone": "+1213-373-4253",
                "external_id": "testid123",
                "first_name": "  Corey ",
                "last_name": "O'Test-Smith",
                "zip_code": "94107-1234",
                "city": "San Francisco",
                "state": "CA",
                "country": "US",
                "ip": "2001:0DB8:0000:0000:0000:0000:0000:0001",
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
                "ttclid": "E.C.P.abc123",
                "ttp": "2F7h37YkS1j57AYSKTI7IHhJPYH",
                "locale": "en-US",
            },
            "properties": {
                "contents": [
                    {"price": "100", "quantity": 2, "content_category": "Air Force One (Size S)", "content_id": 123,
                     "content_name": "pname1", "brand": "Brand X"},
                    {"price": 0, "quantity": 1, "content_id": "gift-1"},
                ],
                "content_type": "product",
                "currency": "usd",
                "value": 200,
                "query": "shoes",
                "order_id": 9007199254740993,
            },
            "page": {"url": "https://shop.example/checkout", "referrer": "https://google.com/"},
            "limited_data_use": False,
        },
        {"event": "ViewContent", "event_time": 1704721970, "event_id": "view-1", "user": {"ttp": "abc"}},
        {"event": "MyCustomEvent", "event_time": 1704721971, "user": {"email": ""}, "properties": {}},
    ],
}

EXPECTED_BODY = {
    "event_source": "web",
    "event_source_id": "CM1I1K3C77U8ABCDEFGH",
    "test_event_code": "TEST04030",
    "data": [
        {
            "event": "Purchase",
            "event_time": 1704721970,
            "event_id": "1001",
            "user": {
                "country": "us",
                "state": "ca",
                "city": "sanfrancisco",
                "email": [sha("coreytest1231@gmail.com"), sha("second@example.com")],
                "phone": [sha("+12133734253")],
                "external_id": [sha("testid123")],
                "first_name": sha("corey"),
                "last_name": sha("otestsmith"),
                "zip_code": sha("94107"),  # a US ZIP+4 is hashed as its first five digits
                "ttclid": "E.C.P.abc123",
                "ttp": "2F7h37YkS1j57AYSKTI7IHhJPYH",
                "ip": "2001:db8::1",
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
                "locale": "en-US",
            },
            "properties": {
                "contents": [
                    {"content_id": "123", "content_type": "product", "content_category": "Air Force One (Size S)",
                     "content_name": "pname1", "brand": "Brand X", "price": 100, "quantity": 2},
                    {"content_id": "gift-1", "content_type": "product", "price": 0, "quantity": 1},
                ],
                "content_type": "product",
                "currency": "USD",
                "value": 200,
                "order_id": "9007199254740993",
                "query": "shoes",
            },
            "page": {"url": "https://shop.example/checkout", "referrer": "https://google.com/"},
            "limited_data_use": False,
        },
        {"event": "ViewContent", "event_time": 1704721970, "event_id": "view-1", "user": {"ttp": "abc"}},
        {"event": "MyCustomEvent", "event_time": 1704721971},
    ],
}


@pytest.fixture
def full_request() -> TrackRequest:
    return TrackRequest.model_validate(FULL_INPUT)


def test_to_json_returns_bytes(full_request):
    assert isinstance(full_request.to_json(), bytes)


def test_full_request_has_the_exact_wire_content(full_request):
    assert json.loads(full_request.to_json()) == EXPECTED_BODY
    assert full_request.wire() == json.loads(full_request.to_json())


def test_full_request_matches_the_golden_bytes(full_request):
    golden = GOLDEN.read_bytes().rstrip(b"\n")
    assert json.loads(golden) == EXPECTED_BODY  # the golden file itself says what the test says
    assert full_request.to_json() == golden


def test_output_is_compact(full_request):
    raw = full_request.to_json()
    assert b"\n" not in raw
    assert raw == json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert raw.startswith(b'{"event_source":"web","event_source_id":')


def test_no_nulls_and_no_empty_objects(full_request):
    raw = full_request.to_json()
    assert b"null" not in raw
    assert b"{}" not in raw
    assert b"[]" not in raw

    def walk(node):
        if isinstance(node, dict):
            assert node, "empty object on the wire"
            for value in node.values():
                assert value is not None
                walk(value)
        elif isinstance(node, list):
            assert node, "empty list on the wire"
            for value in node:
                walk(value)

    walk(json.loads(raw))


def test_types_on_the_wire(full_request):
    body = json.loads(full_request.to_json())
    first = body["data"][0]
    assert isinstance(first["event_time"], int)
    assert isinstance(first["event_id"], str)
    assert isinstance(first["properties"]["value"], (int, float)) and not isinstance(first["properties"]["value"], bool)
    for item in first["properties"]["contents"]:
        assert isinstance(item["content_id"], str)
        assert isinstance(item["price"], (int, float))
        assert isinstance(item["quantity"], int)
    assert isinstance(first["properties"]["order_id"], str)
    assert first["limited_data_use"] is False


def test_non_ascii_text_is_utf8_not_escaped():
    request = TrackRequest(event_source="web", event_source_id="P", data=[
        Event(event="Purchase", event_time=1704721970, properties={"description": "Crème brûlée ✓"})])
    raw = request.to_json()
    assert "Crème brûlée ✓".encode() in raw
    assert json.loads(raw)["data"][0]["properties"]["description"] == "Crème brûlée ✓"


def test_phone_region_hint_never_reaches_the_wire():
    request = TrackRequest(event_source="web", event_source_id="P", data=[
        {"event": "Purchase", "event_time": 1704721970, "user": {"phone": "(415) 555-2671", "phone_region": "US"}}])
    body = json.loads(request.to_json())
    assert body["data"][0]["user"] == {"phone": [sha("+14155552671")]}
    assert b"phone_region" not in request.to_json()


@pytest.mark.parametrize("header", [
    {"event_source": "web", "event_source_id": "PIXEL01"},
    {"event_source": "crm", "event_source_id": "SET 9", "test_event_code": "TEST1", "partner_name": "Ünïcode"},
])
def test_the_client_posts_exactly_the_bytes_of_track_request_to_json(header):
    """The client assembles bodies from per-event JSON (so queued, already validated events are
    not validated again); the bytes must be the ones TrackRequest.to_json() gives."""
    from tiktok_relay.tiktok.client import _dict_json, _event_json
    from tiktok_relay.tiktok.models import Envelope, Event, TrackRequest

    events = [Event(event="Purchase", event_time=1_704_721_970, event_id=str(n), user={"email": f"a{n}@b.co"},
                    properties={"value": 12.5, "currency": "eur", "contents": [{"content_id": 7, "price": "1.0"}]})
              for n in range(3)]
    expected = TrackRequest(**header, data=events).to_json()
    prefix = Envelope(**header).body_prefix()
    from_models = prefix + b",".join(_event_json(e) for e in events) + b"]}"
    from_wire = prefix + b",".join(_dict_json(e.wire()) for e in events) + b"]}"
    assert from_models == expected
    assert from_wire == expected
