"""pipeline/messages.py queue_message, the receiver's writer of a queue message, held to the models.

The rule: for any delivery fields, envelope header and wire events, queue_message gives exactly
`QueuedDelivery(..., request=WireRequest(**header, data=data)).to_message()`, or raises what
that raises; the sender's reader (QueuedDelivery.parse) reads back what was written. Checked
on the events the mappings make of the real and hostile payloads, and on generated values.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.test_encode_fast_path import T, corpus_payloads
from tiktok_relay.errors import EventValidationError
from tiktok_relay.pipeline.messages import QueuedDelivery, queue_message, without_contents
from tiktok_relay.tiktok.models import Envelope, WireRequest


def mapped_events() -> list[dict[str, Any]]:
    from tiktok_relay.sources.shopify.mapping import map_webhook
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    out = []
    for topic, payload in corpus_payloads():
        out += map_webhook(topic, payload, "shop.myshopify.com", ShopifySettings(), now=T).wire_events
    return out


EVENTS = mapped_events()


def by_models(header: Any, data: Any, **delivery: Any) -> str:
    return QueuedDelivery(**delivery, request=WireRequest(**header, data=data)).to_message()


def assert_same_as_models(header: Any, data: Any, **delivery: Any) -> None:
    try:
        expected = by_models(header, data, **delivery)
    except EventValidationError as exc:
        with pytest.raises(EventValidationError) as raised:
            queue_message(header=header, data=data, **delivery)
        assert str(raised.value) == str(exc)
        return
    written = queue_message(header=header, data=data, **delivery)
    assert written == expected
    if "\\ud" not in written:  # (a lone surrogate, which the reader refuses: as the models write it too)
        parsed = QueuedDelivery.parse(written)
        assert parsed.request.data == json.loads(written)["request"]["data"]


DELIVERY = {"source": "shopify", "webhook_id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", "shop": "shop.myshopify.com",
            "topic": "orders/paid", "tenant": None}
HEADER = {"event_source": "web", "event_source_id": "CPIXEL1"}


def test_the_mapped_events_of_real_and_hostile_payloads_are_written_as_the_models_write_them():
    assert len(EVENTS) > 75
    for event in EVENTS:
        assert_same_as_models(HEADER, [event], **DELIVERY)
    assert_same_as_models(HEADER, EVENTS[:1000], **DELIVERY)


texts = st.one_of(st.sampled_from(["", " ", "shopify", "orders/paid", "shop.myshopify.com", "Café ☕", "\ud800",
                                   "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", "\u2028", '"\\']),
                  st.text(max_size=10))
headers = st.builds(
    lambda source, source_id, code, partner: Envelope(event_source=source, event_source_id=source_id,
                                                      test_event_code=code, partner_name=partner).header(),
    st.sampled_from(["web", "offline", "app", "crm"]), st.sampled_from(["CPIXEL1", " C2 ", "7", "é"]),
    st.sampled_from([None, "TEST123", " T "]), st.sampled_from([None, "Partner"]))
odd_headers = st.one_of(headers, st.dictionaries(st.sampled_from(list(Envelope.FIELDS) + ["x"]),
                                                 st.one_of(st.none(), texts, st.integers()), max_size=5))
odd_events = st.fixed_dictionaries({}, optional={"event": st.one_of(texts, st.integers(), st.none()),
                                                 "event_time": st.one_of(st.integers(), st.booleans(), texts),
                                                 "event_id": st.one_of(texts, st.integers(), st.none())})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=headers, data=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=5), source=texts,
       webhook_id=texts, shop=texts, topic=texts, tenant=st.one_of(st.none(), texts))
def test_generated_deliveries_are_written_as_the_models_write_them(header, data, source, webhook_id, shop, topic,
                                                                   tenant):
    assert_same_as_models(header, data, source=source, webhook_id=webhook_id, shop=shop, topic=topic, tenant=tenant)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=odd_headers, data=st.one_of(st.lists(st.one_of(st.sampled_from(EVENTS), odd_events), max_size=3),
                                          st.just([{"event": "Purchase", "event_time": T}] * 1001)),
       webhook_id=st.one_of(texts, st.integers(), st.none()))
def test_what_the_models_refuse_is_refused_with_their_words(header, data, webhook_id):
    assert_same_as_models(header, data, **{**DELIVERY, "webhook_id": webhook_id})


def test_without_contents_drops_only_the_line_items_and_leaves_the_events_as_they_were():
    events = [e for e in EVENTS if "contents" in e.get("properties", {})][:3] + [{"event": "Lead", "event_time": T}]
    before = json.dumps(events)
    cut = without_contents(events)
    assert json.dumps(events) == before
    assert [e.get("properties", {}).get("contents") for e in cut] == [None] * len(events)
    assert [{k: v for k, v in e.get("properties", {}).items() if k != "contents"} for e in events] == \
        [e.get("properties", {}) for e in cut]


@pytest.mark.parametrize("header", [
    {"event_source": "web", "event_source_id": "C\ud800"},  # a lone surrogate: the models refuse it
    {"event_source": "web", "event_source_id": "C1", "test_event_code": "T\udfff"},
    {"event_source_id": "C1", "event_source": "web"},  # not in the envelope's order
    {"event_source": "web", "event_source_id": " C1 "},  # not yet trimmed
])
def test_a_header_the_envelope_rules_would_change_or_refuse_is_written_by_the_models(header):
    assert_same_as_models(header, EVENTS[:1], **DELIVERY)
