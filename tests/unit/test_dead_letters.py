"""Dead letters fit one SQS message (pipeline/messages.py): what is cut, and what always stays."""

from __future__ import annotations

import json

import pytest

from tiktok_relay.pipeline.messages import MAX_MESSAGE_BYTES, DeadLetter
from tiktok_relay.tiktok.models import WireRequest

SQS_MAX_BYTES = 256 * 1024
HASH = "e814ff3dc480a94c7ce9334062ec4733c75a002f4bcec0197f62ffea64059e2f"


def event(n: int, items: int = 250) -> dict:
    contents = [{"content_id": f"{n}-{i}-" + "9" * 90, "content_name": "\u00e9" * 150, "quantity": 1, "price": 1.5}
                for i in range(items)]
    return {"event": "Purchase", "event_time": 1795600000, "event_id": f"order-{n}", "user": {"email": [HASH]},
            "properties": {"contents": contents, "currency": "EUR", "value": 9.5}}


def request(*events: dict) -> WireRequest:
    return WireRequest(event_source="web", event_source_id="CPIXEL", data=list(events))


def uncut_size(letter: DeadLetter) -> int:
    return len(json.dumps(letter.to_record(), separators=(",", ":")).encode())


def test_a_letter_that_fits_is_stored_whole():
    letter = DeadLetter(reason="rejected by TikTok", code=40002, message="bad", request=request(event(1, items=3)))
    assert json.loads(letter.to_json()) == letter.to_record() and "cut" not in letter.to_record()


def test_line_items_go_first_and_the_reason_stays():
    letter = DeadLetter(reason="stale", webhook_id="wh-1", message="too old", request=request(event(1), event(2)))
    assert uncut_size(letter) > SQS_MAX_BYTES  # whole, SQS would refuse it: the letter and its reason lost
    stored = json.loads(letter.to_json())
    assert len(letter.to_json().encode()) <= MAX_MESSAGE_BYTES < SQS_MAX_BYTES
    assert (stored["reason"], stored["webhook_id"], stored["message"]) == ("stale", "wh-1", "too old")
    assert stored["cut"] == ["request.data[].properties.contents"]
    assert [e["event_id"] for e in stored["request"]["data"]] == ["order-1", "order-2"]
    assert all(e["properties"] == {"currency": "EUR", "value": 9.5} for e in stored["request"]["data"])


def test_a_near_limit_malformed_record_keeps_its_reason_and_the_start_of_its_body():
    """SQS's limit is 256 KiB; a record of 255 KiB of escaping characters becomes a larger JSON string."""
    body = '{"v": 1, "junk": "' + '"\\\u0001' * 85_000 + '"}'
    letter = DeadLetter(reason="malformed queue message: request: Field required", body=body, receive_count=1)
    assert uncut_size(letter) > SQS_MAX_BYTES
    stored = json.loads(letter.to_json())
    assert len(letter.to_json().encode()) <= MAX_MESSAGE_BYTES
    assert stored["reason"] == letter.reason and stored["receive_count"] == 1
    assert body.startswith(stored["body"]) and 0 < len(stored["body"]) < len(body)
    [cut] = stored["cut"]
    assert cut == f"body (its first {len(stored['body'])} of {len(body)} characters kept)"


@pytest.mark.parametrize("events", [2, 40])
def test_many_events_with_big_other_fields_keep_the_first_event(events):
    big = [{**event(n, items=1), "page": {"url": "https://shop.example/" + "p" * 10_000}} for n in range(events)]
    letter = DeadLetter(reason="stale", request=request(*big))
    stored = json.loads(letter.fitted(limit=20_000).model_dump_json(exclude_none=True))
    assert stored["reason"] == "stale"
    assert [e["event_id"] for e in stored["request"]["data"]] == ["order-0"]
    assert stored["cut"][-1] == f"request.data (the first of {events} events kept)"


GOOD_MESSAGE = {"v": 1, "source": "shopify", "webhook_id": "wh-1", "shop": "s.myshopify.com", "topic": "orders/paid",
                "request": {"event_source": "web", "event_source_id": "CPIXEL",
                            "data": [{"event": "Purchase", "event_time": 1795600000, "event_id": "order-1"}]}}


@pytest.mark.parametrize("body, problems", [
    ("", ["Invalid JSON: EOF while parsing a value at line 1 column 0"]),
    ("[1]", ["Input should be an object"]),
    ({**GOOD_MESSAGE, "request": [1]}, ["request: Input should be an object"]),
    ({**GOOD_MESSAGE, "request": {**GOOD_MESSAGE["request"], "data": {}}}, ["request.data: Input should be a valid array"]),
    ({**GOOD_MESSAGE, "request": {**GOOD_MESSAGE["request"], "data": [{"event": "Purchase"}]}},
     ["request.data: data.0.event_time: missing or not unix seconds"]),
])
def test_a_malformed_queue_message_is_named_in_the_json_readers_words(body, problems):
    # QueuedDelivery.parse validates parsed Python data (cheaper), and a refused message again
    # the direct way: the dead letter's reason reads as it always did.
    from tiktok_relay.errors import EventValidationError
    from tiktok_relay.pipeline.messages import QueuedDelivery

    with pytest.raises(EventValidationError) as caught:
        QueuedDelivery.parse(body if isinstance(body, str) else json.dumps(body))
    assert [str(p) for p in caught.value.problems] == problems


def test_a_queue_message_reads_back_as_it_was_written():
    from tiktok_relay.pipeline.messages import QueuedDelivery

    written = QueuedDelivery.model_validate(GOOD_MESSAGE).to_message()
    assert QueuedDelivery.parse(written).to_message() == written
    assert QueuedDelivery.parse(written.encode()) == QueuedDelivery.model_validate_json(written)
