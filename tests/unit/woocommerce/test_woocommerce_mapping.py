"""WooCommerce orders to Purchases: which deliveries count, the event_id, and every field of the
mapping, on the public REST example and on a realistic checkout order of our own."""

from __future__ import annotations

import pytest

from tests.support.shopify import sha
from tests.support.stores import NOW, STORE, assert_no_pii, load, wire, woo, woo_order
from tiktok_relay.sources.woocommerce.mapping import state_key
from tiktok_relay.sources.woocommerce.settings import WooCommerceSettings

PUBLIC = "woocommerce/woocommerce_order_created.json"


def test_the_public_rest_example_is_a_purchase_with_what_it_holds():
    result = woo(load(PUBLIC), store="example.com")
    event = wire(result)
    assert event["event"] == "Purchase" and event["event_id"] == "woocommerce-example.com-order-727"
    assert event["event_time"] == 1490210888  # date_paid_gmt 2017-03-22T19:28:08, UTC
    user = event["user"]
    assert user["email"] == [sha("john.doe@example.com")]
    assert user["first_name"] == sha("john") and user["last_name"] == sha("doe")
    assert (user["city"], user["state"], user["country"]) == ("sanfrancisco", "ca", "us")
    assert user["zip_code"] == sha("94103")
    assert "external_id" not in user  # customer_id 0: a guest
    assert "ip" not in user and "user_agent" not in user  # a REST-created order records none
    # "(555) 555-5555" is no real number: left out, and said so without the number.
    assert "phone" not in user and "billing.phone dropped: not a valid phone number" in result.warnings[0]
    props = event["properties"]
    assert (props["currency"], props["value"], props["order_id"]) == ("USD", 29.35, "727")
    assert props["contents"] == [
        {"content_id": "93", "content_type": "product", "content_name": "Woo Single #1", "price": 3.0, "quantity": 2},
        # variation id before product id; the name as the shopper saw it (&ndash; is an en dash)
        {"content_id": "23", "content_type": "product", "content_name": "Ship Your Idea \u2013 Color: Black, Size: M Test",
         "price": 12.0, "quantity": 1},
    ]


def test_a_checkout_order_carries_every_match_key_the_store_had():
    result = woo(woo_order())
    event = wire(result)
    user = event["user"]
    assert user["email"] == [sha("ada.lovelace@example.com")]
    # Billing and shipping phones, national and international, each with its country's region.
    assert user["phone"] == [sha("+447400900123"), sha("+447400900789")]
    assert user["external_id"] == [sha("311")]
    assert (user["ip"], user["user_agent"].startswith("Mozilla/5.0 (iPhone")) == ("81.2.69.160", True)
    assert user["ttclid"] == "E.C.P.CvQBwooClickIdFromTikTokAd2026" and user["ttp"] == "2pQx7wooTtpCookieValue0001"
    assert (user["city"], user["country"], user["zip_code"]) == ("london", "gb", sha("sw1a1aa"))
    assert event["event_id"] == f"woocommerce-{STORE}-order-4817"
    # The attribution's landing page, without the query parameter that holds an email; the referrer bare.
    assert event["page"] == {"url": "https://tea.example.co.uk/product/earl-grey/?ttclid="
                                    "E.C.P.CvQBwooClickIdFromTikTokAd2026&utm_source=tiktok",
                             "referrer": "https://www.tiktok.com/"}
    props = event["properties"]
    assert (props["currency"], props["value"]) == ("GBP", 46.9)
    assert [c.get("content_id") for c in props["contents"]] == ["815", "820", "GIFT NOTE"]
    assert props["contents"][0]["content_name"] == "Earl Grey Loose Leaf \u2013 250 g"
    assert "content_name" not in props["contents"][2]  # it holds an email address: never sent in clear
    assert any(w.startswith("line_items[].name dropped: it contains what looks like an email") for w in result.warnings)
    assert_no_pii(*result.warnings, str(result.reason))


@pytest.mark.parametrize("status", ["processing", "completed", "wc-processing", " Completed "])
def test_a_paid_status_sends_the_purchase(status):
    assert woo(woo_order(status=status)).sent


@pytest.mark.parametrize("status", ["pending", "on-hold", "failed", "cancelled", "refunded", "checkout-draft",
                                    "trash", None, 7, ""])
def test_an_unpaid_or_refunded_order_sends_nothing_and_says_why(status):
    result = woo(woo_order(status=status))
    assert not result.sent and "WOOCOMMERCE_PAID_STATUSES" in result.reason


def test_the_paid_statuses_are_configurable():
    assert woo(woo_order(status="on-hold"), paid_statuses=("on-hold", "processing")).sent
    assert not woo(woo_order(status="completed"), paid_statuses=("processing",)).sent


def test_once_per_order_the_first_paid_delivery_counts_and_later_ones_send_nothing():
    first = woo(woo_order(), "order.created")
    assert first.sent and first.state == {"purchase": "sent"}
    later = woo(woo_order(status="completed"), "order.updated", previous_state=first.state)
    assert not later.sent and "already sent" in later.reason
    # created and updated deliveries of one order name the same event_id and the same remembered key,
    # so TikTok deduplicates the two should they race past the remembered state.
    updated = woo(woo_order(), "order.updated")
    assert wire(updated)["event_id"] == wire(first)["event_id"]
    assert state_key("order.created", woo_order(), STORE) == state_key("order.updated", woo_order(), STORE) \
        == f"woocommerce:{STORE}:order:4817"


def test_an_unpaid_delivery_remembers_nothing_so_the_paid_one_still_counts():
    pending = woo(woo_order(status="pending"))
    assert pending.state is None


def test_the_event_id_names_the_store_so_two_stores_orders_never_collide():
    a = wire(woo(woo_order(_links={}), store="tea.example.co.uk"))
    b = wire(woo(woo_order(_links={}), store="example.com/shop"))
    assert a["event_id"] != b["event_id"] and b["event_id"] == "woocommerce-example.com/shop-order-4817"


def test_a_body_whose_own_link_names_another_store_is_not_counted_again():
    result = woo(woo_order(), store="other-store.example")
    assert not result.sent and "_links.self" in result.reason
    assert woo(woo_order(), store="www.tea.example.co.uk").sent  # www. is the same site


@pytest.mark.parametrize("topic", ["order.deleted", "product.updated", "customer.created", "action.woocommerce_x",
                                   "coupon.created", "orders/paid"])
def test_topics_other_than_order_created_and_updated_send_nothing(topic):
    result = woo(woo_order(), topic)
    assert not result.sent and "is not mapped" in result.reason


def test_a_product_body_under_an_order_topic_sends_nothing():
    product = {"id": 812, "name": "Earl Grey", "status": "publish", "price": "9.50"}
    result = woo(product, "order.updated", paid_statuses=("publish",))
    assert not result.sent and "not a WooCommerce order" in result.reason


def test_an_order_without_a_usable_id_sends_nothing():
    result = woo(woo_order(id="abc"))
    assert not result.sent and "no usable id" in result.reason


def test_a_guest_order_with_no_billing_details_still_counts_with_what_there_is():
    payload = woo_order(customer_id=0, billing={"email": "", "phone": "", "country": ""}, shipping=[],
                        customer_ip_address="", meta_data=[])
    result = woo(payload)
    event = wire(result)
    assert "user" not in event or set(event["user"]) <= {"user_agent"}
    assert event["properties"]["value"] == 46.9
    assert "shipping ignored: not an object" in result.warnings


def test_missing_billing_falls_back_to_the_shipping_address():
    user = wire(woo(woo_order(billing=None)))["user"]
    assert user["first_name"] == sha("ada") and user["phone"] == [sha("+447400900789")] and "email" not in user


def test_the_phone_region_is_the_billing_country_else_the_configured_one():
    us = woo_order(billing={"phone": "(415) 555-2671", "country": "US"}, shipping=None)
    assert wire(woo(us))["user"]["phone"] == [sha("+14155552671")]
    unknown = woo_order(billing={"phone": "(415) 555-2671", "country": ""}, shipping=None)
    assert "phone" not in wire(woo(unknown))["user"]
    assert wire(woo(unknown, phone_region="US"))["user"]["phone"] == [sha("+14155552671")]


def test_content_ids_follow_the_configured_fields():
    contents = wire(woo(woo_order(), content_id_fields=("sku", "product_id")))["properties"]["contents"]
    assert [c["content_id"] for c in contents] == ["TEA-EARL-250", "MUG-BRASS-01", "GIFT NOTE"]


def test_click_ids_from_other_meta_names_and_else_the_landing_page():
    meta = [{"key": "ttclid", "value": "E.C.P.fromPlainKey"}, {"key": "__ttp", "value": "ttpFromPrivateKey"}]
    user = wire(woo(woo_order(meta_data=meta)))["user"]
    assert (user["ttclid"], user["ttp"]) == ("E.C.P.fromPlainKey", "ttpFromPrivateKey")
    entry = [{"key": "_wc_order_attribution_session_entry", "value": "https://tea.example.co.uk/?ttclid=E.C.P.landed"}]
    assert wire(woo(woo_order(meta_data=entry)))["user"]["ttclid"] == "E.C.P.landed"


def test_a_click_id_holding_an_email_is_never_sent():
    meta = [{"key": "_ttclid", "value": "ada.lovelace@example.com"}]
    result = woo(woo_order(meta_data=meta))
    assert "ttclid" not in wire(result)["user"]
    assert "meta_data._ttclid dropped: it contains what looks like an email address" in result.warnings
    assert_no_pii(*result.warnings)


def test_an_admin_order_is_an_offline_sale_without_the_staff_browser():
    assert "TIKTOK_OFFLINE_EVENT_SET_ID" in woo(woo_order(created_via="admin")).reason
    result = woo(woo_order(created_via="admin"), offline_event_set_id="OFFLINE1")
    event = wire(result)
    assert result.event_source == "offline"
    assert "ip" not in event["user"] and "user_agent" not in event["user"] and "page" not in event


def test_a_zero_decimal_currency_total_is_read_as_it_is():
    props = wire(woo(woo_order(currency="JPY", total="4690", _links={})))["properties"]
    assert (props["currency"], props["value"]) == ("JPY", 4690.0)


def test_an_unusable_total_or_currency_leaves_value_out_and_says_which():
    result = woo(woo_order(total="forty", currency="XYZ"))
    assert "value" not in wire(result)["properties"]
    assert "value and currency omitted: currency not a currency TikTok accepts; total not a number" in result.warnings


def test_event_time_is_when_paid_else_created_else_now():
    assert wire(woo(woo_order()))["event_time"] == 1795168689  # date_paid_gmt, 2026-11-20T09:58:09 UTC
    assert wire(woo(woo_order(date_paid_gmt=None)))["event_time"] == 1795168682  # date_created_gmt
    result = woo(woo_order(date_paid_gmt=None, date_created_gmt="yesterday"))
    assert wire(result)["event_time"] == NOW


def test_default_settings_are_documented_ones():
    settings = WooCommerceSettings()
    assert settings.paid_statuses == ("processing", "completed")
    assert settings.content_id_fields == ("variation_id", "product_id", "sku")
