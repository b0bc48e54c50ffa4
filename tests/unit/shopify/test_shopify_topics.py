"""Which topics send what: the topic table, overrides, test orders, registered customers."""

from __future__ import annotations

import pytest

from tests.support.shopify import NOW, assert_no_pii, load, one, order, run
from tiktok_relay.sources.shopify.mapping import MappingResult
from tiktok_relay.tiktok.models import Event


@pytest.mark.parametrize(
    "topic, fixture, event, event_id",
    [
        ("orders/paid", "order_paid_gb_10_items.json", "Purchase", "shopify-order-5678901234567"),
        ("checkouts/create", "shopify_checkouts_create.json", "InitiateCheckout", "shopify-checkout-123123123"),
        ("checkouts/update", "shopify_checkouts_create.json", "InitiateCheckout", "shopify-checkout-123123123"),
        ("carts/create", "shopify_carts_create.json", "AddToCart", None),
        ("carts/update", "shopify_carts_create.json", "AddToCart", None),
    ],
)
def test_mapped_topics(topic, fixture, event, event_id):
    result = run(topic, load(fixture))
    assert result.reason is None and len(result.events) == 1
    assert isinstance(result.events[0], Event)
    wire = result.events[0].wire()
    assert wire["event"] == event
    if event_id:
        assert wire["event_id"] == event_id
    else:
        assert wire["event_id"].startswith("shopify-cart-exampleCartId-")


def test_public_orders_sample_maps_when_test_orders_are_allowed():
    # Shopify's published orders/paid example is a test order with 18-digit ids.
    wire = one("orders/paid", load("shopify_orders_create.json"), test_event_code="TEST123")
    assert wire["event"] == "Purchase"
    assert wire["event_id"] == "shopify-order-820982911946154500"
    assert wire["properties"]["order_id"] == "820982911946154500"
    assert wire["properties"]["currency"] == "USD" and wire["properties"]["value"] == 404.95


def test_orders_create_sends_nothing_by_default_and_says_how_to_enable_it():
    result = run("orders/create", order())
    assert result.events == [] and not result.sent
    assert "orders/create" in result.reason and "not mapped" in result.reason
    assert "SHOPIFY_TOPIC_EVENTS=orders/create=Purchase" in result.reason
    assert "PlaceAnOrder" not in result.reason  # soft-deprecated by TikTok: never suggested


@pytest.mark.parametrize("event", ["Purchase", "PlaceAnOrder"])
def test_orders_create_override(event):
    wire = one("orders/create", order(), topic_events=f"orders/create={event}")
    assert wire["event"] == event
    # Same event_id as orders/paid: TikTok keeps one Purchase if both topics send it.
    assert wire["event_id"] == one("orders/paid", order())["event_id"]


def test_orders_paid_can_be_switched_off():
    result = run("orders/paid", order(), topic_events="orders/paid=none")
    assert result.events == [] and "orders/paid" in result.reason


@pytest.mark.parametrize(
    "topic", ["refunds/create", "orders/cancelled", "orders/updated", "orders/fulfilled", "products/create",
              "app/uninstalled", "customers/update", "something-else"]
)
def test_unmapped_topics_send_nothing_and_say_the_topic_is_not_mapped(topic):
    payload = load("shopify_refunds_create.json") if topic == "refunds/create" else order()
    result = run(topic, payload)
    assert result.events == []
    assert "not mapped" in result.reason and topic in result.reason


def test_topic_is_matched_case_and_whitespace_insensitively_and_in_graphql_form():
    for topic in (" Orders/Paid ", "ORDERS/PAID", "ORDERS_PAID", "orders_paid"):
        assert one(topic, order())["event"] == "Purchase"
    assert one("CARTS_UPDATE", load("shopify_carts_create.json"))["event"] == "AddToCart"


@pytest.mark.parametrize("topic", [None, "", "   ", 42, ["orders/paid"]])
def test_missing_or_odd_topic_is_a_reason_not_an_exception(topic):
    result = run(topic, order())  # type: ignore[arg-type]
    assert result.events == [] and "topic" in result.reason


def test_hostile_topic_is_quoted_safely_and_bounded():
    topic = "x" * 5000 + "\n\x00<script>"
    result = run(topic, order())
    assert result.events == [] and len(result.reason) < 300 and "\n" not in result.reason and "\x00" not in result.reason


@pytest.mark.parametrize("payload", [None, [], "order", 5, ["id", 1]])
def test_non_object_payload_is_a_reason(payload):
    result = run("orders/paid", payload)  # type: ignore[arg-type]
    assert result.events == [] and "not a JSON object" in result.reason


# --- test orders ------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", [True, "true", "TRUE"])
def test_test_orders_are_skipped_without_a_test_event_code(flag):
    result = run("orders/paid", order(test=flag))
    assert result.events == []
    assert "test order" in result.reason and "TIKTOK_TEST_EVENT_CODE" in result.reason


def test_test_orders_are_sent_with_a_test_event_code():
    result = run("orders/paid", order(test=True), test_event_code="TEST04030")
    assert len(result.events) == 1
    # The code goes at request level (to_request_body), never inside the event.
    assert "test_event_code" not in result.events[0].wire()


@pytest.mark.parametrize("flag", [False, None, "false", 0])
def test_real_orders_are_sent(flag):
    assert len(run("orders/paid", order(test=flag)).events) == 1


# --- customers/create --------------------------------------------------------------------------------


def customer(**changes) -> dict:
    payload = load("shopify_customers_create.json")
    payload.update(changes)
    return payload


def test_enabled_customer_is_a_complete_registration():
    wire = one("customers/create", customer(state="enabled"))
    assert wire["event"] == "CompleteRegistration"
    assert wire["event_id"] == "shopify-customer-706405506930370000"
    assert wire["event_time"] == 1640995200  # created_at 2021-12-31T19:00:00-05:00
    assert "properties" not in wire and "page" not in wire


@pytest.mark.parametrize("state", ["disabled", "invited", "declined"])
def test_guest_and_unregistered_customers_are_not_sent_and_the_reason_names_the_state(state):
    result = run("customers/create", customer(state=state))
    assert result.events == []
    assert repr(state) in result.reason and "enabled" in result.reason


@pytest.mark.parametrize("state", [None, "", "ENABLED", 1, ["enabled"], "bob@biller.com"])
def test_missing_or_unknown_state_is_not_sent_and_never_echoed(state):
    payload = customer(state=state)
    if state is None:
        del payload["state"]
    result = run("customers/create", payload)
    assert result.events == [] and "missing or unknown" in result.reason
    assert_no_pii(result.reason)


def test_public_customer_sample_is_a_guest():
    result = run("customers/create", load("shopify_customers_create.json"))
    assert result.events == [] and "'disabled'" in result.reason


def test_result_is_a_frozen_dataclass():
    result = run("orders/paid", order())
    assert isinstance(result, MappingResult) and result.sent
    with pytest.raises(AttributeError):
        result.reason = "changed"  # type: ignore[misc]


def test_mapping_is_deterministic_and_does_not_touch_its_input():
    payload = order()
    snapshot = repr(payload)
    first = run("orders/paid", payload, now=NOW)
    second = run("orders/paid", payload, now=NOW)
    assert [e.wire() for e in first.events] == [e.wire() for e in second.events]
    assert first.warnings == second.warnings
    assert repr(payload) == snapshot
