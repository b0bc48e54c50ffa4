"""Real stores, on real bodies (tests/fixtures/shopify/realworld, provenance in its SOURCES.md) and
messier ones of our own: each channel, checkouts that become identified, carts that grow and
shrink, click ids in line items, the currency fallback, non-public IPs, invalid phones, the
storefront's host, and the deprecated event names."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path

import pytest

from tests.support.shopify import SHOP, assert_no_pii, one, order, run, settings, sha
from tiktok_relay.errors import ConfigurationError
from tiktok_relay.sources.shopify.mapping import map_webhook, state_key, to_request_body
from tiktok_relay.sources.shopify.settings import ShopifySettings, parse_source_channels

REALWORLD = Path(__file__).resolve().parents[2] / "fixtures" / "shopify" / "realworld"
NOW = 1_750_000_000  # after every fixture
OFFLINE_SET = "OFFLINESET0000000001"


def real(name: str) -> dict:
    [path] = REALWORLD.glob(f"{name}_*.json")
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_copied_body_has_its_provenance_recorded():
    sources = (REALWORLD / "SOURCES.md").read_text(encoding="utf-8")
    for path in REALWORLD.glob("*.json"):
        assert f"`{path.name}`" in sources


# --- channels ---------------------------------------------------------------------------------------------


def test_a_web_order_is_a_web_event_with_the_buyers_browser():
    result = map_webhook("orders/paid", {**real("02"), "test": False}, SHOP, ShopifySettings(), now=NOW)
    assert result.event_source == "web" and len(result.events) == 1
    user = result.events[0].wire()["user"]
    assert user["ip"] == "14.97.78.130" and "user_agent" in user


def test_a_draft_order_without_an_offline_event_set_is_ignored_with_a_reason():
    result = map_webhook("orders/paid", real("34"), SHOP, ShopifySettings(), now=NOW)
    assert result.events == []
    assert "a draft order (made by staff) is an offline sale" in result.reason
    assert "TIKTOK_OFFLINE_EVENT_SET_ID is not set" in result.reason


def test_a_draft_order_with_an_offline_event_set_is_an_offline_event_without_the_staffs_browser():
    result = map_webhook("orders/paid", real("34"), SHOP, ShopifySettings(offline_event_set_id=OFFLINE_SET), now=NOW)
    assert result.event_source == "offline"
    wire = result.events[0].wire()
    assert "ip" not in wire["user"] and "user_agent" not in wire["user"] and "page" not in wire
    assert wire["user"]["email"] and wire["properties"]["currency"] == "PLN"
    body = to_request_body(result, pixel_id="CPIXEL", test_event_code=None, offline_event_set_id=OFFLINE_SET)
    assert body["event_source"] == "offline" and body["event_source_id"] == OFFLINE_SET


@pytest.mark.parametrize("source", ["pos", "POS"])
def test_a_pos_order_is_offline(source):
    payload = order(source_name=source, location_id=123456)
    result = run("orders/paid", payload, offline_event_set_id=OFFLINE_SET)
    assert result.event_source == "offline" and "ip" not in result.events[0].wire()["user"]
    reason = run("orders/paid", payload).reason
    assert "a Point of Sale (in-store) order is an offline sale" in reason


@pytest.mark.parametrize("changes", [
    {"source_name": "tiktok"}, {"source_name": "TikTok Shop"}, {"source_name": "tiktok_shop_connector"},
    {"source_name": "4383523", "tags": "TikTok, wholesale"}, {"source_name": "4383523", "tags": ["TikTokShop"]},
    {"source_name": "2604537", "email": "buyer123@tiktok.com"},
])
def test_an_order_from_tiktok_shop_is_never_sent(changes):
    result = run("orders/paid", order(**changes), offline_event_set_id=OFFLINE_SET)
    assert result.events == [] and result.reason.startswith("an order from TikTok Shop: TikTok already has it")


@pytest.mark.parametrize("changes", [{"source_name": "web", "tags": "tiktok-ad"}, {"source_name": "web",
                                     "email": "someone@tiktok.com"}, {"source_name": "2604537", "tags": "wholesale"}])
def test_online_store_orders_and_unmarked_app_orders_stay_web(changes):
    assert run("orders/paid", order(**changes)).event_source == "web"


def test_source_channels_override_the_defaults_by_source_name_or_app_id():
    table = parse_source_channels("pos=none, shopify_draft_order=web,2604537=none, TikTok=web")
    assert table == {"pos": "none", "shopify_draft_order": "web", "2604537": "none", "tiktok": "web"}
    custom = {"source_channels": table, "offline_event_set_id": OFFLINE_SET}
    assert run("orders/paid", order(source_name="pos"), **custom).reason == \
        "orders with source 'pos' are not sent (SHOPIFY_SOURCE_CHANNELS)"
    assert run("orders/paid", real("34"), **custom).event_source == "web"  # drafts made web on purpose
    assert run("orders/paid", order(source_name="x", app_id=2604537), **custom).events == []  # by app id
    assert run("orders/paid", order(source_name="tiktok"), **custom).event_source == "web"  # an override wins


@pytest.mark.parametrize(("text", "named"), [
    ("pos", "'pos' is not source=channel"), ("pos=store", "the channel must be web, offline, none"),
    ("=web", "is not source=channel"), ("a b=web", "is not a source_name or an app id"),
])
def test_a_bad_source_channels_pair_is_named(text, named):
    with pytest.raises(ConfigurationError, match="SHOPIFY_SOURCE_CHANNELS") as caught:
        parse_source_channels(text)
    assert named in str(caught.value)


def test_settings_read_the_offline_event_set_and_the_storefront_from_the_environment():
    loaded = ShopifySettings.from_env({"TIKTOK_OFFLINE_EVENT_SET_ID": " ESET123 ", "SHOPIFY_SOURCE_CHANNELS": "pos=web",
                                       "SHOPIFY_STOREFRONT_DOMAIN": "https://Tea.Example/"})
    assert (loaded.offline_event_set_id, loaded.source_channels, loaded.storefront_domain) == (
        "ESET123", {"pos": "web"}, "tea.example")
    for env in ({"TIKTOK_OFFLINE_EVENT_SET_ID": "not an id!"}, {"SHOPIFY_STOREFRONT_DOMAIN": "localhost"}):
        with pytest.raises(ConfigurationError) as caught:
            ShopifySettings.from_env(env)
        assert next(iter(env)) in str(caught.value) and next(iter(env.values())) not in str(caught.value)


# --- checkouts ---------------------------------------------------------------------------------------------


def test_an_anonymous_checkout_is_ignored_and_the_identified_update_is_sent_under_the_same_event_id():
    anonymous = real("23")  # a real checkouts/create: no email, no customer yet
    anonymous["token"] = "c1a2b3"
    first = map_webhook("checkouts/create", anonymous, SHOP, ShopifySettings(), now=NOW)
    assert first.events == [] and first.reason.startswith("the checkout carries no email, phone or customer yet")
    identified = {**anonymous, "email": "buyer@example.com"}
    later = map_webhook("checkouts/update", identified, SHOP, ShopifySettings(), now=NOW)
    [event] = later.events
    assert event.event == "InitiateCheckout" and event.event_id == "shopify-checkout-c1a2b3"
    assert event.user.email == [sha("buyer@example.com")]


def test_a_checkout_with_only_an_invalid_phone_has_no_identity():
    checkout = real("21")
    checkout.update(email=None, customer=None)
    checkout["phone"] = "555-555-5555"
    result = map_webhook("checkouts/update", checkout, SHOP, ShopifySettings(), now=NOW)
    assert result.events == [] and "carries no email, phone or customer" in result.reason
    assert any(w.startswith("phone dropped: not a valid phone number") for w in result.warnings)


def test_an_indian_mobile_is_not_read_as_a_us_number():
    checkout = real("21")  # customer.phone 9901109922 with a US address: +1 990... is no valid number
    result = map_webhook("checkouts/update", checkout, SHOP, ShopifySettings(), now=NOW)
    user = result.events[0].wire()["user"]
    assert sha("+19901109922") not in user.get("phone", [])
    assert "customer.phone dropped: not a valid phone number (no such number range in libphonenumber's metadata)" \
        in result.warnings


# --- carts --------------------------------------------------------------------------------------------------


def cart(*lines: tuple[int, int, str]) -> dict:
    """A cart after a change: (variant_id, quantity, unit price) per line, in USD."""
    base = copy.deepcopy(real("26"))
    template = base["line_items"][0]
    base["line_items"] = [
        {**copy.deepcopy(template), "variant_id": variant, "id": variant, "product_id": 100 + variant,
         "quantity": quantity, "price": price,
         "price_set": {"shop_money": {"amount": price, "currency_code": "USD"},
                       "presentment_money": {"amount": price, "currency_code": "USD"}}}
        for variant, quantity, price in lines]
    return base


def deliver(payload: dict, state: dict | None):
    result = map_webhook("carts/update", payload, SHOP, ShopifySettings(), now=NOW, previous_state=state)
    return result, result.state


def test_a_cart_growing_then_shrinking_then_growing_again():
    first, state = deliver(cart((1, 1, "19.99")), None)  # the first delivery: the whole cart
    assert first.events[0].properties.value == 19.99
    grown, state = deliver(cart((1, 3, "19.99"), (2, 2, "29.99")), state)  # 2 more of 1, and 2 of a new one
    props = grown.events[0].wire()["properties"]
    assert props["value"] == pytest.approx(2 * 19.99 + 2 * 29.99)
    assert [(c["content_id"], c["quantity"]) for c in props["contents"]] == [("1", 2), ("2", 2)]
    shrunk, state = deliver(cart((1, 2, "19.99")), state)  # 99.95 -> 39.98: nothing was added
    assert shrunk.events == [] and shrunk.reason.startswith("this cart delivery adds nothing")
    assert state == {"lines": {"1": 2}}  # remembered all the same
    regrown, state = deliver(cart((1, 2, "19.99"), (2, 1, "29.99")), state)
    assert regrown.events[0].wire()["properties"]["value"] == 29.99


def test_the_real_sample_cart_as_a_first_delivery_carries_the_whole_cart():
    result, state = deliver(real("26"), None)
    props = result.events[0].wire()["properties"]
    assert props["value"] == pytest.approx(59.97) and props["contents"][0]["quantity"] == 3
    assert state == {"lines": {"704912205188288575": 3}}
    again, _ = deliver(real("26"), state)  # the same cart once more (an unchanged update)
    assert again.events == [] and again.reason.startswith("this cart delivery adds nothing")


def test_an_emptied_real_cart_is_ignored_and_remembered_empty():
    result, state = deliver(real("24"), {"lines": {"1": 2}})
    assert result.events == [] and result.reason == "the cart has no line items: nothing was added"
    assert state == {"lines": {}}


@pytest.mark.parametrize("state", [{"lines": {"1": "two"}}, {"lines": ["1"]}, {"other": 1}, {"lines": {"1": -1}}])
def test_an_unreadable_remembered_state_reads_the_cart_as_new(state):
    result, _ = deliver(cart((1, 1, "5.00")), state)
    assert result.events[0].properties.value == 5.0
    assert "the remembered state of this cart is unreadable" in " ".join(result.warnings)


def test_the_state_key_is_per_shop_and_cart_token_and_only_for_mapped_cart_topics():
    payload = real("26")
    assert state_key("carts/update", payload, "Tea.myshopify.com", ShopifySettings()) == \
        "shopify:tea.myshopify.com:cart:eeafa272cebfd4b22385bc4b645e762c"
    assert state_key("CARTS_CREATE", payload, SHOP, ShopifySettings()) is not None
    assert state_key("orders/paid", order(), SHOP, ShopifySettings()) is None
    assert state_key("carts/update", payload, SHOP, settings(topic_events="carts/update=none")) is None
    assert state_key("carts/update", {"line_items": []}, SHOP, ShopifySettings()) is None


def test_the_event_id_still_follows_the_whole_carts_contents():
    first, state = deliver(cart((1, 1, "1.00")), None)
    again, _ = deliver(cart((1, 1, "1.00"), (2, 1, "1.00")), state)
    assert first.events[0].event_id != again.events[0].event_id
    assert again.events[0].event_id == deliver(cart((1, 1, "1.00"), (2, 1, "1.00")), None)[0].events[0].event_id


# --- match keys and values -------------------------------------------------------------------------------------


@pytest.mark.parametrize("properties", [
    [{"name": "ttclid", "value": "E.C.P.line-item-click"}, {"name": "_ttp", "value": "ttp-from-line"}],
    {"ttclid": "E.C.P.line-item-click", "ttp": "ttp-from-line"},
])
def test_click_ids_are_read_from_line_item_properties(properties):
    payload = order(note_attributes=[], landing_site="/products/tea-set")
    payload["line_items"][3]["properties"] = properties
    user = one("orders/paid", payload)["user"]
    assert (user["ttclid"], user["ttp"]) == ("E.C.P.line-item-click", "ttp-from-line")


def test_cart_attributes_win_over_line_item_properties():
    payload = order()
    payload["line_items"][0]["properties"] = [{"name": "ttclid", "value": "E.C.P.older"}]
    assert one("orders/paid", payload)["user"]["ttclid"] != "E.C.P.older"


def test_value_comes_from_presentment_money_when_the_shop_currency_is_not_accepted():
    payload = order(currency="XAF")  # not one TikTok accepts; the buyer paid in EUR
    result = run("orders/paid", payload)
    props = result.events[0].wire()["properties"]
    assert props["currency"] == "EUR" and props["value"] == float(payload["total_price_set"]["presentment_money"]["amount"])
    assert props["contents"][0]["price"] == float(payload["line_items"][0]["price_set"]["presentment_money"]["amount"])
    assert any(w.startswith("currency is not one TikTok accepts: value and currency from presentment") for w in
               result.warnings)


def test_a_cart_in_an_unaccepted_shop_currency_is_valued_in_the_buyers():
    payload = cart((1, 2, "10.00"))
    for line in payload["line_items"]:
        line["price_set"]["shop_money"]["currency_code"] = "XAF"
        line["price_set"]["presentment_money"] = {"amount": "16.00", "currency_code": "EUR"}
    result, _ = deliver(payload, None)
    props = result.events[0].wire()["properties"]
    assert (props["currency"], props["value"], props["contents"][0]["price"]) == ("EUR", 32.0, 16.0)


@pytest.mark.parametrize("address", ["192.168.0.1", "127.0.0.1", "10.0.0.8", "169.254.3.4", "192.0.2.1", "::1",
                                     "fe80::1"])
def test_non_public_ips_are_not_sent(address):
    result = run("orders/paid", order(browser_ip=address, client_details={"user_agent": "UA"}))
    assert "ip" not in result.events[0].wire()["user"]
    assert "browser_ip dropped: not a public IP address (private, loopback, link-local, reserved or documentation " \
           "range)" in result.warnings


def test_the_anonymized_real_order_with_a_private_ip_sends_no_ip():
    result = map_webhook("orders/paid", real("15"), SHOP, ShopifySettings(), now=NOW)
    assert "ip" not in result.events[0].wire().get("user", {})


def test_china_is_hashed_without_its_country_code_in_the_mapping_too():
    payload = order(phone="+86 138 0013 8000")
    assert sha("13800138000") in one("orders/paid", payload)["user"]["phone"]


def test_page_url_is_on_the_storefront_never_on_myshopify():
    real_order = {**real("13"), "test": False}  # order_status_url on pixel-testing-rs.myshopify.com
    with_domain = map_webhook("orders/paid", {**real_order, "landing_site": "/collections/all"}, SHOP,
                              ShopifySettings(storefront_domain="shop.example.com"), now=NOW)
    assert with_domain.events[0].wire()["page"]["url"] == "https://shop.example.com/collections/all"
    without = map_webhook("orders/paid", {**real_order, "landing_site": "/collections/all"}, SHOP, ShopifySettings(),
                          now=NOW)
    url = without.events[0].wire().get("page", {}).get("url", "")
    assert "/collections/all" not in url  # never made absolute on a myshopify.com host...
    assert url.split("?")[0].endswith("/authenticate")  # ...the order status page (Shopify's own link) instead
    assert any("set SHOPIFY_STOREFRONT_DOMAIN" in w for w in without.warnings)


def test_the_checkout_link_gives_the_storefront_host_of_a_checkout():
    checkout = real("21")
    checkout.update(landing_site="/products/x", abandoned_checkout_url="https://shop.example.org/checkouts/abc/recover")
    page = map_webhook("checkouts/update", checkout, SHOP, ShopifySettings(), now=NOW).events[0].wire()["page"]
    assert page["url"] == "https://shop.example.org/products/x"


# --- deprecated names ---------------------------------------------------------------------------------------------


def test_place_an_order_is_sent_with_a_deprecation_warning_in_the_result_and_none_from_python():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the mapping says it in its warnings, not as a Python warning
        result = run("orders/create", order(), topic_events="orders/create=PlaceAnOrder")
    assert result.events[0].event == "PlaceAnOrder"
    assert any("soft-deprecated the event 'PlaceAnOrder'" in w and "use Purchase" in w for w in result.warnings)


def test_nothing_in_the_results_quotes_a_customer_value():
    texts = []
    for name in ("02", "13", "15", "16", "21", "22", "23", "34"):
        payload = real(name)
        for topic in ("orders/paid", "checkouts/update"):
            result = map_webhook(topic, payload, SHOP, ShopifySettings(offline_event_set_id=OFFLINE_SET), now=NOW)
            texts += [result.reason or "", *result.warnings]
    assert_no_pii(*texts, extra=("testuser101", "9901109922", "14.97.78.130", "37.157.207.175"))
