"""Why a delivery sends nothing, as a category a report counts (MappingResult.ignored): the
coverage report of `reconcile` groups ignored orders by it, so each refusal must land in its own."""

from __future__ import annotations

import pytest

from tests.support.shopify import NOW, SHOP, load, order, run, settings
from tiktok_relay.sources.common.result import IGNORED_REASONS
from tiktok_relay.sources.shopify.mapping import map_webhook

DENIED = [{"name": "_tt_marketing", "value": "denied"}]


@pytest.mark.parametrize(("topic", "payload", "overrides", "category"), [
    ("orders/paid", order(test=True), {}, "test"),
    ("orders/paid", order(source_name="pos"), {}, "channel"),
    ("orders/paid", order(source_name="shopify_draft_order"), {}, "channel"),
    ("orders/paid", order(source_name="tiktok"), {}, "channel"),
    ("orders/paid", order(source_name="2604537"), {"source_channels": {"2604537": "none"}}, "channel"),
    ("orders/paid", order(note_attributes=DENIED), {}, "consent"),
    ("orders/paid", order(), {"consent": "require"}, "consent"),
    ("orders/create", order(), {}, "no_event_for_topic"),
    ("orders/paid", order(), {"topic_events": "orders/paid=none"}, "no_event_for_topic"),
    ("products/update", order(), {}, "no_event_for_topic"),
    ("orders/paid", order(id=None, admin_graphql_api_id=None), {}, "unmappable"),
    ("orders/paid", load("shopify_checkouts_create.json"), {}, "unmappable"),
    ("customers/create", load("shopify_customers_create.json"), {}, "other"),
])
def test_each_refusal_lands_in_its_category(topic, payload, overrides, category):
    result = run(topic, payload, **overrides)
    assert result.events == [] and result.reason
    assert result.ignored == category


def test_a_sent_delivery_has_no_category():
    result = run("orders/paid", order())
    assert result.events and result.ignored is None


def test_a_test_order_with_a_test_event_code_is_sent_not_ignored():
    result = run("orders/paid", order(test=True), test_event_code="TEST123")
    assert result.events and result.ignored is None


def test_a_cart_with_nothing_added_is_other_and_still_remembered():
    cart = load("shopify_carts_create.json")
    first = run("carts/update", cart)
    second = map_webhook("carts/update", cart, SHOP, settings(), now=NOW, previous_state=first.state)
    assert first.events and second.events == []
    assert second.ignored == "other" and second.state == first.state


def test_the_categories_are_the_documented_ones():
    assert IGNORED_REASONS == ("test", "channel", "consent", "no_event_for_topic", "unmappable", "other")
