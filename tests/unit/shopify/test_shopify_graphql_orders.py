"""The GraphQL order -> webhook fields adapter (sources/shopify/orders.py): what it renames, and
that no answer Shopify could give (hostile values in every field it reads) makes it raise, or
makes the mapping of its result raise."""

from __future__ import annotations

from datetime import UTC

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.shopify import run
from tiktok_relay.sources.shopify.orders import rest_order, search_query

FIELDS = ["id", "name", "test", "processedAt", "createdAt", "sourceName", "email", "phone", "tags", "customerLocale",
          "clientIp", "displayFinancialStatus", "currencyCode", "presentmentCurrencyCode", "statusPageUrl", "app",
          "customAttributes", "totalPriceSet", "customer", "billingAddress", "shippingAddress",
          "customerJourneySummary", "lineItems"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=12),
                    st.just("gid://shopify/Order/12"), st.just("https://shop.myshopify.com/x?y=1"))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                      max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(FIELDS), values, max_size=10))
def test_any_answer_becomes_a_webhook_body_the_mapping_takes_without_raising(node):
    order = rest_order(node)
    assert isinstance(order, dict)
    run("orders/paid", order)


def test_the_fields_are_renamed_as_the_webhook_has_them():
    node = {
        "id": "gid://shopify/Order/42", "test": False, "processedAt": "2026-12-01T10:00:00Z", "sourceName": "web",
        "app": {"id": "gid://shopify/App/580111"}, "tags": ["vip", "TikTok"], "clientIp": "203.0.113.9",
        "displayFinancialStatus": "PARTIALLY_REFUNDED", "customAttributes": [{"key": "_ttp", "value": "abc"}],
        "totalPriceSet": {"shopMoney": {"amount": "12.5", "currencyCode": "GBP"},
                          "presentmentMoney": {"amount": "14.0", "currencyCode": "EUR"}},
        "customer": {"id": "gid://shopify/Customer/7", "defaultEmailAddress": {"emailAddress": "a@example.com"},
                     "defaultPhoneNumber": None, "defaultAddress": {"countryCodeV2": "GB", "zip": "SW1A 1AA"}},
        "customerJourneySummary": {"lastVisit": {"landingPage": "https://tea.myshopify.com/p?ttclid=x#top",
                                                 "referrerUrl": "https://www.tiktok.com/"}},
        "lineItems": {"nodes": [{"id": "gid://shopify/LineItem/9", "variant": {"id": "gid://shopify/ProductVariant/3"},
                                 "product": None, "quantity": 2, "customAttributes": [{"key": "engraving", "value": "A"}],
                                 "originalUnitPriceSet": {"shopMoney": {"amount": "6.25", "currencyCode": "GBP"}}}]},
    }
    order = rest_order(node)
    assert order["id"] == "42" and order["admin_graphql_api_id"] == "gid://shopify/Order/42"
    assert order["app_id"] == "580111" and order["tags"] == "vip, TikTok" and order["browser_ip"] == "203.0.113.9"
    assert order["financial_status"] == "partially_refunded"
    assert order["note_attributes"] == [{"name": "_ttp", "value": "abc"}]
    assert order["total_price"] == "12.5" and order["total_price_set"]["presentment_money"] == {
        "amount": "14.0", "currency_code": "EUR"}
    assert order["customer"] == {"id": "7", "admin_graphql_api_id": "gid://shopify/Customer/7",
                                 "email": "a@example.com", "default_address": {"country_code": "GB", "zip": "SW1A 1AA"}}
    assert order["landing_site"] == "/p?ttclid=x#top"  # on myshopify.com: its path, as the webhook has it
    assert order["referring_site"] == "https://www.tiktok.com/"
    assert order["line_items"] == [{"id": "9", "variant_id": "3", "quantity": 2, "price": "6.25",
                                    "price_set": {"shop_money": {"amount": "6.25", "currency_code": "GBP"}},
                                    "properties": [{"name": "engraving", "value": "A"}]}]
    assert "user_agent" not in str(order)  # the Admin API has none


def test_a_landing_page_on_the_storefronts_own_domain_is_kept_whole():
    node = {"id": "gid://shopify/Order/1", "customerJourneySummary": {"lastVisit": {"landingPage": "https://tea.example/"}}}
    assert rest_order(node)["landing_site"] == "https://tea.example/"


def test_the_search_query_is_in_utc_whatever_the_offset():
    from datetime import datetime, timedelta, timezone

    since = datetime(2026, 12, 1, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    until = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    assert search_query(since, until).startswith("processed_at:>=2026-12-01T10:00:00Z AND processed_at:<2026-12-02T10")
