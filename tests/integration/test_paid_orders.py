"""Paid orders from the GraphQL Admin API (the fake, over real HTTP), in the shape of the
orders/paid webhook: the same mapping gives the same events as the webhook of the same order
(real payloads), the window and the paid statuses select them, pages, line items beyond the
first page, Shopify's cost limit, throttling and its error answers are handled."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from tests.support.shopify import NOW, SHOP, load, run
from tiktok_relay.sources.shopify.admin import ShopifyAdminClient, ShopifyAdminError, ShopifyGraphQLError
from tiktok_relay.sources.shopify.orders import ORDER_LINES, ORDERS_PAGE, paid_orders
from tiktok_relay.testing.fake_shopify_admin import FakeShopifyAdmin

SINCE = datetime(2000, 1, 1, tzinfo=UTC)
UNTIL = datetime(2030, 1, 1, tzinfo=UTC)
# Real order bodies whose id and admin_graphql_api_id agree (shopify_orders_create.json's id lost
# precision in its scrape, README of tests/fixtures/shopify: a real order never disagrees).
REAL_ORDERS = ["order_paid_gb_10_items.json", "shopify_orders_anonymized_exemplar.json",
               "realworld/02_orders-create_web-bogus-test-order-2024.json", "realworld/13_orders-create_rudderstack-2024.json",
               "realworld/15_orders-paid_gadget-anonymized-2024-01.json",
               "realworld/16_orders-paid_gadget-anonymized-2025-04.json",
               "realworld/34_orders-create_draft-pln-second-customer-2024.json"]


def paid(name: str, **changes) -> dict:
    """A real body as a paid order; one trimmed of processed_at (never null in the Admin API:
    processedAt is DateTime!) gets its created_at."""
    order = copy.deepcopy(load(name))
    order.update({"financial_status": "paid", **changes})
    order.setdefault("processed_at", order.get("created_at"))
    return order


def fetched(fake: FakeShopifyAdmin, *, since=SINCE, until=UNTIL, sleeps: list | None = None, **client) -> list[dict]:
    admin = ShopifyAdminClient(SHOP, fake.access_token, base_url=fake.base_url,
                               sleep=(sleeps.append if sleeps is not None else lambda s: None), **client)
    return list(paid_orders(admin, since, until))


def without_user_agent(wire: dict) -> dict:
    user = {k: v for k, v in wire.get("user", {}).items() if k != "user_agent"}
    return {**wire, "user": user} if user else {k: v for k, v in wire.items() if k != "user"}


@pytest.mark.parametrize("name", REAL_ORDERS)
def test_a_reconciled_order_maps_to_the_webhooks_event_but_its_user_agent(name):
    webhook = paid(name)
    with FakeShopifyAdmin(orders=[webhook], shop=SHOP) as fake:
        [reconciled] = fetched(fake)

    by_webhook = run("orders/paid", webhook, test_event_code="TEST1")  # test orders too: every field compared
    by_reconcile = run("orders/paid", reconciled, test_event_code="TEST1")
    assert (by_reconcile.reason, by_reconcile.ignored, by_reconcile.event_source) == \
        (by_webhook.reason, by_webhook.ignored, by_webhook.event_source)
    assert [without_user_agent(e.wire()) for e in by_reconcile.events] == \
        [without_user_agent(e.wire()) for e in by_webhook.events]
    for rule in ({}, {"consent": "require"}):  # and the same refusals
        assert run("orders/paid", reconciled, **rule).ignored == run("orders/paid", webhook, **rule).ignored


def test_the_gb_order_keeps_every_match_key_the_webhook_has_but_the_user_agent():
    webhook = paid("order_paid_gb_10_items.json")
    with FakeShopifyAdmin(orders=[webhook], shop=SHOP) as fake:
        [reconciled] = fetched(fake)
    event = run("orders/paid", reconciled).events[0].wire()
    assert event["event_id"] == "shopify-order-5678901234567"
    assert set(run("orders/paid", webhook).events[0].wire()["user"]) - set(event["user"]) == {"user_agent"}
    assert {"email", "phone", "external_id", "ip", "ttclid", "ttp"} <= set(event["user"])
    assert len(event["properties"]["contents"]) == 10 and event["page"]["url"].startswith("https://tea-shop.example/")


def order_at(n: int, when: str, status: str = "paid", lines: int = 1) -> dict:
    return {"id": 1000 + n, "financial_status": status, "processed_at": when, "currency": "GBP", "total_price": "9.50",
            "source_name": "web", "email": f"buyer{n}@example.com",
            "line_items": [{"id": 50_000 + n * 100 + i, "variant_id": 7000 + i, "quantity": 1, "price": "9.50",
                            "title": f"Tea {i}"} for i in range(lines)]}


def test_the_window_and_the_paid_statuses_select_the_orders_oldest_first():
    orders = [order_at(1, "2026-12-01T09:59:59Z"), order_at(2, "2026-12-01T10:00:00Z"),  # since: inclusive
              order_at(3, "2026-12-01T11:00:00+01:00"),  # 10:00Z, another offset
              order_at(4, "2026-12-01T12:00:00Z", "partially_refunded"), order_at(5, "2026-12-01T13:00:00Z", "refunded"),
              order_at(6, "2026-12-01T14:00:00Z", "pending"), order_at(7, "2026-12-01T14:00:00Z", "authorized"),
              order_at(8, "2026-12-01T15:00:00Z", "partially_paid"), order_at(9, "2026-12-01T16:00:00Z")]  # until: out
    with FakeShopifyAdmin(orders=orders) as fake:
        got = fetched(fake, since=datetime(2026, 12, 1, 10, tzinfo=UTC), until=datetime(2026, 12, 1, 16, tzinfo=UTC))
        [call] = fake.calls_of("orders")
    assert [o["id"] for o in got] == ["1002", "1003", "1004", "1005"]
    assert call.variables["query"] == ("processed_at:>=2026-12-01T10:00:00Z AND processed_at:<2026-12-01T16:00:00Z AND "
                                       "(financial_status:paid OR financial_status:partially_refunded OR "
                                       "financial_status:refunded)")


def test_every_page_is_read_and_an_order_with_more_lines_gets_the_rest():
    orders = [order_at(n, f"2026-12-01T10:{n:02d}:00Z") for n in range(25)]
    orders[3] = order_at(3, "2026-12-01T10:03:00Z", lines=ORDER_LINES + 105)
    with FakeShopifyAdmin(orders=orders) as fake:
        got = fetched(fake)
        pages, more = fake.calls_of("orders"), fake.calls_of("order")
    assert [o["id"] for o in got] == [str(1000 + n) for n in range(25)]
    assert len(pages) == 3 and [c.variables["first"] for c in pages] == [ORDERS_PAGE] * 3
    assert [c.variables["after"] is None for c in pages] == [True, False, False]
    assert len(more) == 2  # 10 came with the order, then 100 and 5
    assert [line["title"] for line in got[3]["line_items"]] == [f"Tea {i}" for i in range(ORDER_LINES + 105)]
    assert run("orders/paid", got[3]).events[0].wire()["properties"]["contents"][114]["content_name"] == "Tea 114"


def test_a_query_shopify_finds_too_costly_is_asked_again_with_fewer_orders():
    orders = [order_at(n, f"2026-12-01T10:{n:02d}:00Z") for n in range(12)]
    with FakeShopifyAdmin(orders=orders, max_query_cost=500) as fake:
        got = fetched(fake)
        firsts = [c.variables["first"] for c in fake.calls_of("orders")]
    assert len(got) == 12
    assert firsts == [10, 5, 5, 5]  # 2 + 10 x 86 = 862 points is too many; 5 x 86 fits, and stays


def test_throttling_is_waited_out_and_the_bucket_paces_the_next_page():
    orders = [order_at(n, f"2026-12-01T10:{n:02d}:00Z") for n in range(15)]
    sleeps: list[float] = []
    with FakeShopifyAdmin(orders=orders) as fake:
        fake.fail_next("throttled", None, "internal_error")
        fake.book.currently_available = 162.0  # after the first page: 700 short of its 862 points
        got = fetched(fake, sleeps=sleeps)
    assert len(got) == 15
    # THROTTLED (12 points wanted, 10 there, 100 a second), then the 7 s the bucket needs to hold the
    # first page's 862 points again before page 2, then the backoff after INTERNAL_SERVER_ERROR.
    assert sleeps == [pytest.approx(0.02), pytest.approx(7.0), 1.0]
    assert [c.fault for c in fake.calls] == ["throttled", None, "internal_error", None]


def test_a_token_without_read_orders_is_refused_naming_the_scope():
    with FakeShopifyAdmin(scopes=["read_customers"]) as fake, pytest.raises(ShopifyGraphQLError) as refused:
        fetched(fake)
    assert refused.value.refused and "ACCESS_DENIED" in refused.value.codes
    assert "`read_orders` access scope" in str(refused.value)
    assert fake.access_token not in str(refused.value)


def test_a_shop_that_keeps_failing_is_an_error_that_may_pass():
    with FakeShopifyAdmin() as fake, pytest.raises(ShopifyAdminError) as failing:
        fake.fail_next("http503", "http503", "http503")
        fetched(fake)
    assert failing.value.status == 503 and not failing.value.refused


def test_a_server_repeating_its_cursor_is_an_error_not_an_endless_loop(monkeypatch):
    from tiktok_relay.testing import fake_shopify_orders

    stuck = fake_shopify_orders._cursor(0)
    monkeypatch.setattr(fake_shopify_orders, "_cursor", lambda position: stuck)  # the first page's, always
    orders = [order_at(n, f"2026-12-01T10:{n:02d}:00Z") for n in range(25)]
    with FakeShopifyAdmin(orders=orders) as fake, pytest.raises(ShopifyAdminError, match="gave no new cursor"):
        fetched(fake)


def test_nothing_paid_in_the_window_is_no_order():
    with FakeShopifyAdmin(orders=[order_at(1, "2020-01-01T00:00:00Z")]) as fake:
        assert fetched(fake, since=datetime.fromtimestamp(NOW, UTC), until=UNTIL) == []
