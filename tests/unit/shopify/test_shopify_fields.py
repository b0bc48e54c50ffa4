"""Field-by-field rules of the Shopify mapping: event_time, event_id, user, properties, page."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC

import pytest

from tests.support.shopify import NOW, STOREFRONT, assert_no_pii, load, one, order, run, sha

# --- event_time ------------------------------------------------------------------------------------


def test_order_event_time_is_processed_at_in_unix_seconds():
    # processed_at 2024-05-02T10:15:31+01:00 == 09:15:31Z
    assert one("orders/paid", order())["event_time"] == 1714641331


def test_order_falls_back_to_created_at_without_a_warning():
    result = run("orders/paid", order(processed_at=None))
    assert result.events[0].event_time == 1714641330 and result.warnings == []


@pytest.mark.parametrize("bad", ["yesterday", "2024-13-45T00:00:00Z", 1714641331, ["2024-05-02"], "1999-12-31T23:59:59Z"])
def test_unusable_timestamp_tries_the_next_one_with_a_warning(bad):
    result = run("orders/paid", order(processed_at=bad))
    assert result.events[0].event_time == 1714641330
    assert any(w.startswith("processed_at ignored for event_time") for w in result.warnings)


def test_no_usable_timestamp_falls_back_to_now_with_a_warning():
    result = run("orders/paid", order(processed_at="garbage", created_at=None, updated_at="2024-05-02T10:16:02+01:00"))
    assert result.events[0].event_time == NOW
    assert any("event_time set to now" in w for w in result.warnings)


def test_update_topics_use_updated_at_and_create_topics_use_created_at():
    checkout = load("shopify_checkouts_create.json")
    checkout["created_at"] = "2024-05-01T08:00:00+00:00"
    checkout["updated_at"] = "2024-05-01T09:30:00+00:00"
    assert one("checkouts/create", checkout)["event_time"] == 1714550400
    assert one("checkouts/update", checkout)["event_time"] == 1714555800
    checkout["updated_at"] = None
    assert one("checkouts/update", checkout)["event_time"] == 1714550400
    checkout["updated_at"], checkout["created_at"] = "2024-05-01T09:30:00+00:00", None
    assert one("checkouts/create", checkout)["event_time"] == 1714555800


def test_carts_use_the_same_rule():
    cart = load("shopify_carts_create.json")
    cart["created_at"], cart["updated_at"] = "2024-05-01T08:00:00Z", "2024-05-01T08:05:00Z"
    assert one("carts/create", cart)["event_time"] == 1714550400
    assert one("carts/update", cart)["event_time"] == 1714550700


def test_far_future_timestamp_is_clamped_to_now_with_a_warning():
    result = run("orders/paid", order(processed_at="2030-01-01T00:00:00Z"))
    assert result.events[0].event_time == NOW
    assert any("future" in w for w in result.warnings)


def test_slightly_future_timestamp_within_five_minutes_is_kept():
    from datetime import datetime

    soon = datetime.fromtimestamp(NOW + 240, tz=UTC).isoformat()
    result = run("orders/paid", order(processed_at=soon))
    assert result.events[0].event_time == NOW + 240 and result.warnings == []


def test_old_timestamps_are_kept():
    wire = one("orders/paid", order(processed_at="2008-01-10T11:00:00-05:00"))
    assert wire["event_time"] == 1199980800


def test_timestamp_without_offset_is_read_as_utc_with_a_warning():
    result = run("orders/paid", order(processed_at="2024-05-02T09:15:31"))
    assert result.events[0].event_time == 1714641331
    assert "processed_at has no UTC offset; read as UTC" in result.warnings


def test_shopify_space_separated_timestamps_parse():
    assert one("orders/paid", order(processed_at="2019-01-01 00:00:00.000Z"))["event_time"] == 1546300800


# --- event_id ----------------------------------------------------------------------------------------

BIG = 820982911946154508  # > 2**53: a float would turn it into ...500


def test_big_ids_are_exact_everywhere():
    payload = json.loads(
        json.dumps(order())
        .replace("5678901234567", str(BIG))
        .replace('"id": 7012345678901', f'"id": {BIG + 1}')
        .replace('"variant_id": 45000000000000', f'"variant_id": {BIG + 2}')
    )
    assert payload["id"] == BIG and BIG > 2**53
    wire = one("orders/paid", payload)
    assert wire["event_id"] == f"shopify-order-{BIG}"
    assert wire["properties"]["order_id"] == str(BIG)
    assert wire["properties"]["contents"][0]["content_id"] == str(BIG + 2)
    assert wire["user"]["external_id"] == [sha(str(BIG + 1))]


def test_ids_given_as_strings_are_accepted():
    payload = order(id=str(BIG))
    payload["customer"]["id"] = " 7012345678901 "
    payload["line_items"][0]["variant_id"] = "45000000000000"
    wire = one("orders/paid", payload)
    assert wire["event_id"] == f"shopify-order-{BIG}" and wire["properties"]["order_id"] == str(BIG)
    assert wire["user"]["external_id"] == [sha("7012345678901")]
    assert wire["properties"]["contents"][0]["content_id"] == "45000000000000"


@pytest.mark.parametrize("bad_id", [None, "", "abc", -5, 0, True, 8.2e17, {"id": 1}, [1]])
def test_order_without_usable_id_falls_back_to_the_gid_tail(bad_id):
    payload = order(id=bad_id, admin_graphql_api_id=f"gid://shopify/Order/{BIG}")
    wire = one("orders/paid", payload)
    assert wire["event_id"] == f"shopify-order-{BIG}" and wire["properties"]["order_id"] == str(BIG)


def test_order_without_any_stable_id_is_skipped_with_a_reason():
    for gid in (None, "https://www.example.com/", "gid://shopify/Order/0", 17):
        result = run("orders/paid", order(id=None, admin_graphql_api_id=gid))
        assert result.events == [] and "no usable id" in result.reason and "counted twice" in result.reason
    # Another resource's gid says the body is not an order at all.
    result = run("orders/paid", order(id=None, admin_graphql_api_id="gid://shopify/Customer/123"))
    assert result.events == [] and "is a Shopify customer payload" in result.reason


def test_checkout_event_id_is_the_token_and_the_removed_id_is_no_fallback():
    checkout = load("shopify_checkouts_create.json")
    assert one("checkouts/create", checkout)["event_id"] == "shopify-checkout-123123123"
    checkout.update(token=None, id=981820079255243537)  # API 2026-04 removed `id` from checkout webhooks
    result = run("checkouts/create", checkout)
    assert result.events == [] and "the checkout has no usable token" in result.reason
    checkout.update(token="has spaces inside", id=None)
    result = run("checkouts/create", checkout)
    assert result.events == [] and "no usable token" in result.reason


def test_customer_event_id_falls_back_to_the_gid_tail():
    payload = load("shopify_customers_create.json")
    payload.update(state="enabled", id=None)
    assert one("customers/create", payload)["event_id"] == "shopify-customer-706405506930370084"
    payload["admin_graphql_api_id"] = None
    assert "no usable id" in run("customers/create", payload).reason


def cart(lines: list[tuple], token="c1-abc123") -> dict:
    payload = load("shopify_carts_create.json")
    template = payload["line_items"][0]
    payload["token"] = token
    payload["line_items"] = []
    for variant_id, product_id, sku, quantity in lines:
        line = copy.deepcopy(template)
        line.update(variant_id=variant_id, product_id=product_id, sku=sku, quantity=quantity)
        payload["line_items"].append(line)
    return payload


def documented_digest(pairs: list[list]) -> str:
    text = json.dumps(sorted(pairs), separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:12]


def test_cart_event_id_is_token_plus_the_documented_contents_digest():
    payload = cart([(111, 900, "A", 2), (None, 901, "B", 1), (None, None, "C-1", 3), (None, None, None, 1)])
    expected = documented_digest([["111", 2], ["901", 1], ["C-1", 3], ["", 1]])
    assert one("carts/update", payload)["event_id"] == f"shopify-cart-c1-abc123-{expected}"


def test_cart_event_id_changes_with_contents_and_not_with_order_or_redelivery():
    base = one("carts/update", cart([(111, 900, "A", 2), (222, 901, "B", 1)]))["event_id"]
    assert one("carts/update", cart([(222, 901, "B", 1), (111, 900, "A", 2)]))["event_id"] == base
    assert one("carts/update", cart([(111, 900, "A", 2), (222, 901, "B", 1)]))["event_id"] == base
    assert one("carts/update", cart([(111, 900, "A", 3), (222, 901, "B", 1)]))["event_id"] != base
    assert one("carts/update", cart([(111, 900, "A", 2)]))["event_id"] != base
    assert one("carts/update", cart([(111, 900, "A", 2), (222, 901, "B", 1)], token="other"))["event_id"] != base


def test_cart_token_with_a_key_suffix_keeps_only_the_token():
    wire = one("carts/update", cart([(111, 900, "A", 2)], token="hWN1kZ2Vh?key=secret-cart-key"))
    assert wire["event_id"].startswith("shopify-cart-hWN1kZ2Vh-") and "secret" not in wire["event_id"]


def test_cart_without_token_uses_its_id_and_without_either_is_skipped():
    payload = cart([(111, 900, "A", 2)], token=None)
    payload["id"] = "cart-id-77"
    assert one("carts/update", payload)["event_id"].startswith("shopify-cart-cart-id-77-")
    payload["id"] = None
    assert "no usable token or id" in run("carts/update", payload).reason


def test_empty_cart_is_not_an_add_to_cart():
    for lines in ([], None, "not a list"):
        payload = cart([])
        payload["line_items"] = lines
        result = run("carts/update", payload)
        assert result.events == [] and "no line items" in result.reason


# --- user ----------------------------------------------------------------------------------------------


def test_every_distinct_email_is_hashed_normalized():
    user = one("orders/paid", order())["user"]
    # email and contact_email are the same address in other case/whitespace: one hash.
    assert user["email"] == [sha("ada.lovelace@example.com"), sha("ada@analytical.example")]


def test_invalid_email_is_dropped_with_a_warning_naming_the_field():
    result = run("orders/paid", order(email="ada-at-nowhere", contact_email=12345))
    user = result.events[0].wire()["user"]
    assert user["email"] == [sha("ada@analytical.example")]
    assert any(w.startswith("email dropped") for w in result.warnings)
    assert any(w.startswith("contact_email dropped") for w in result.warnings)
    assert_no_pii(*result.warnings, extra=("ada-at-nowhere", "12345"))


def test_phones_are_e164_with_each_address_country_as_region():
    user = one("orders/paid", order())["user"]
    # billing '07911 123456' (GB) == shipping '+44 7911 123456': one number.
    assert user["phone"] == [sha("+447400123456"), sha("+447911123456"), sha("+442079460018")]


@pytest.mark.parametrize(
    "phone, country, e164",
    [
        ("07911 123456", "GB", "+447911123456"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("1-415-555-2671", "US", "+14155552671"),
        ("030 1234567", "DE", "+49301234567"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("06 1234 5678", "IT", "+390612345678"),
        ("0412 345 678", "AU", "+61412345678"),
        ("+33 6 12 34 56 78", "GB", "+33612345678"),
    ],
)
def test_national_phone_formats_with_the_billing_country(phone, country, e164):
    payload = order(phone=None, shipping_address=None, customer=None)
    payload["billing_address"].update(phone=phone, country_code=country)
    assert one("orders/paid", payload)["user"]["phone"] == [sha(e164)]


def test_top_level_phone_uses_billing_then_shipping_then_default_address_then_setting():
    payload = order(phone="07911 123456", customer=None)
    payload["billing_address"]["phone"] = payload["shipping_address"]["phone"] = None
    assert one("orders/paid", payload)["user"]["phone"] == [sha("+447911123456")]  # billing GB
    payload["billing_address"] = None
    assert one("orders/paid", payload)["user"]["phone"] == [sha("+447911123456")]  # shipping GB
    payload["shipping_address"] = None
    payload["customer"] = {"id": 1, "default_address": {"country_code": "GB"}}
    assert one("orders/paid", payload)["user"]["phone"] == [sha("+447911123456")]  # default address GB
    payload["customer"] = None
    result = run("orders/paid", payload)
    assert "phone" not in result.events[0].wire().get("user", {})
    assert any(w.startswith("phone dropped") and "country code" in w for w in result.warnings)
    assert one("orders/paid", payload, phone_region="GB")["user"]["phone"] == [sha("+447911123456")]
    payload["billing_address"] = {"country_code": "US"}  # billing wins over the setting:
    assert "phone" not in one("orders/paid", payload, phone_region="GB")["user"]  # not a US number


def test_address_phone_prefers_its_own_country():
    payload = order(phone=None, customer=None, shipping_address=None)
    payload["billing_address"].update(phone="(415) 555-2671", country_code="US")
    assert one("orders/paid", payload, phone_region="GB")["user"]["phone"] == [sha("+14155552671")]
    # Billing in GB (so GB is every other phone's region), shipping in the US: each its own.
    payload = order(phone=None, customer=None)
    payload["shipping_address"].update(phone="(415) 555-2671", country_code="US")
    assert one("orders/paid", payload)["user"]["phone"] == [sha("+447911123456"), sha("+14155552671")]


def test_invalid_phone_is_dropped_with_a_warning_and_the_rest_kept():
    payload = order(phone="call me maybe")
    payload["customer"]["phone"] = ["+447400123456"]
    result = run("orders/paid", payload)
    user = result.events[0].wire()["user"]
    assert sha("+447911123456") in user["phone"]
    assert any(w.startswith("phone dropped") for w in result.warnings)
    assert "customer.phone ignored: not a string" in result.warnings
    assert_no_pii(*result.warnings, extra=("call me maybe",))


def test_external_id_is_the_hashed_customer_id():
    assert one("orders/paid", order())["user"]["external_id"] == [sha("7012345678901")]
    payload = order()
    payload["customer"]["id"] = None
    assert one("orders/paid", payload)["user"]["external_id"] == [sha("7012345678901")]  # from the gid
    payload["customer"]["admin_graphql_api_id"] = None
    assert "external_id" not in one("orders/paid", payload)["user"]


def test_names_zip_and_place_come_from_billing():
    user = one("orders/paid", order())["user"]
    assert user["first_name"] == sha("ada") and user["last_name"] == sha("lovelace")
    assert user["zip_code"] == sha("sw1y4jh")
    assert (user["city"], user["state"], user["country"]) == ("london", "eng", "gb")


def test_names_zip_and_place_fall_back_to_shipping_then_customer_as_one_source():
    payload = order(billing_address=None)
    payload["shipping_address"].update(first_name="Grace", last_name="Hopper", zip="10001", city="New York",
                                       province_code=None, province="New York", country_code="US")
    user = one("orders/paid", payload)["user"]
    assert (user["first_name"], user["last_name"], user["zip_code"]) == (sha("grace"), sha("hopper"), sha("10001"))
    assert (user["city"], user["state"], user["country"]) == ("newyork", "ny", "us")  # a US state's code

    payload["shipping_address"] = {"first_name": None, "phone": None}  # nothing usable: next source
    payload["customer"].update(first_name="Charles", last_name="Babbage")
    payload["customer"]["default_address"].update(zip="EC1A 1BB", city="London", province_code=None,
                                                  province=None, country_code="GB")
    user = one("orders/paid", payload)["user"]
    assert (user["first_name"], user["last_name"], user["zip_code"]) == (sha("charles"), sha("babbage"), sha("ec1a1bb"))
    assert user["city"] == "london" and user["country"] == "gb" and "state" not in user


def test_ip_user_agent_and_locale():
    user = one("orders/paid", order())["user"]
    assert user["ip"] == "81.2.69.160" and user["locale"] == "en-GB"
    assert user["user_agent"].startswith("Mozilla/5.0 (iPhone")


def test_ip_falls_back_to_client_details_and_invalid_ip_is_dropped_with_a_warning():
    payload = order(browser_ip="999.1.1.1")
    payload["client_details"]["browser_ip"] = "2a00:1450:4009:080b:0000:0000:0000:200e"
    result = run("orders/paid", payload)
    assert result.events[0].wire()["user"]["ip"] == "2a00:1450:4009:80b::200e"
    assert "browser_ip dropped: not an IPv4 or IPv6 address" in result.warnings
    payload["client_details"]["browser_ip"] = "nope"
    result = run("orders/paid", payload)
    assert "ip" not in result.events[0].wire()["user"]
    assert "client_details.browser_ip dropped: not an IPv4 or IPv6 address" in result.warnings


def test_user_agent_is_truncated_to_512_characters():
    payload = order()
    payload["client_details"]["user_agent"] = "Mozilla/5.0 " + "x" * 2000
    result = run("orders/paid", payload)
    assert len(result.events[0].wire()["user"]["user_agent"]) == 512
    assert "client_details.user_agent truncated to 512 characters" in result.warnings


def test_ttclid_from_note_attributes_wins_over_landing_site():
    assert one("orders/paid", order())["user"]["ttclid"] == "E.C.P.stored-click-0002"


@pytest.mark.parametrize("name", ["ttclid", "_ttclid", "TTCLID"])
def test_ttclid_attribute_names(name):
    wire = one("orders/paid", order(note_attributes=[{"name": name, "value": " E.C.P.x1 "}], landing_site=None))
    assert wire["user"]["ttclid"] == "E.C.P.x1"


@pytest.mark.parametrize(
    "landing",
    ["/products/tea-set?utm_source=tiktok&ttclid=E.C.P.landing-click-0001",
     "/?ttclid=E.C.P.landing-click-0001",
     "https://tea-shop.example/?ttclid=E.C.P.landing-click-0001#top",
     "http://www.example.com?source=abc&ttclid=E.C.P.landing-click-0001"],
)
def test_ttclid_from_landing_site_when_not_stored(landing):
    wire = one("orders/paid", order(note_attributes=[], landing_site=landing))
    assert wire["user"]["ttclid"] == "E.C.P.landing-click-0001"


def test_empty_stored_ttclid_falls_back_to_landing_site():
    wire = one("orders/paid", order(note_attributes=[{"name": "ttclid", "value": ""}]))
    assert wire["user"]["ttclid"] == "E.C.P.landing-click-0001"


def test_no_ttclid_anywhere():
    wire = one("orders/paid", order(note_attributes=[], landing_site="/collections/all?utm_source=x"))
    assert "ttclid" not in wire["user"]


@pytest.mark.parametrize("name", ["_ttp", "ttp", "__ttp"])
def test_ttp_attribute_names(name):
    wire = one("orders/paid", order(note_attributes=[{"name": name, "value": "2F7h37YkS1j57AYSKTI7IHhJPYH"}]))
    assert wire["user"]["ttp"] == "2F7h37YkS1j57AYSKTI7IHhJPYH"


def test_note_attributes_as_a_mapping_are_accepted():
    wire = one("orders/paid", order(note_attributes={"ttclid": "E.C.P.map", "_ttp": "ttp-map"}))
    assert wire["user"]["ttclid"] == "E.C.P.map" and wire["user"]["ttp"] == "ttp-map"


def test_oversized_or_spaced_click_ids_are_dropped():
    result = run("orders/paid", order(note_attributes=[{"name": "ttclid", "value": "x" * 600},
                                                        {"name": "_ttp", "value": "a b"}], landing_site=None))
    user = result.events[0].wire()["user"]
    assert "ttclid" not in user and "ttp" not in user
    assert sum("dropped: longer than 512" in w for w in result.warnings) == 2


@pytest.mark.parametrize("topic, fixture", [("checkouts/create", "shopify_checkouts_create.json"),
                                            ("carts/update", "shopify_carts_create.json")])
def test_checkouts_and_carts_carry_no_ip_or_user_agent(topic, fixture):
    user = one(topic, load(fixture)).get("user", {})
    assert "ip" not in user and "user_agent" not in user


def test_checkout_user_comes_from_its_own_fields():
    user = one("checkouts/create", load("shopify_checkouts_create.json"))["user"]
    assert user["email"] == [sha("example@email.com"), sha("john@example.com")]
    assert user["first_name"] == sha("bob") and user["zip_code"] == sha("k2p0b0")  # billing
    assert user["external_id"] == [sha("603851970716743400")]


def test_registered_customer_user():
    payload = load("shopify_customers_create.json")
    payload.update(state="enabled", phone="+1 613 555 0123")
    user = one("customers/create", payload)["user"]
    assert user["email"] == [sha("bob@biller.com")]
    assert user["external_id"] == [sha("706405506930370000")]
    assert user["first_name"] == sha("bob") and user["last_name"] == sha("biller")
    assert user["zip_code"] == sha("k2p2l8") and user["country"] == "ca" and user["state"] == "on"
    # default_address phone '555-555-5555' (Shopify's sample) is no valid number: dropped, named
    assert user["phone"] == [sha("+16135550123")]
    assert "default_address.phone dropped: not a valid phone number" in " ".join(
        run("customers/create", payload).warnings)
    assert "ip" not in user and "user_agent" not in user


# --- properties ----------------------------------------------------------------------------------------


def test_shop_currency_value_order_id_and_contents():
    props = one("orders/paid", order())["properties"]
    assert props["currency"] == "GBP" and props["value"] == 412.5
    assert props["order_id"] == "5678901234567" and props["content_type"] == "product"
    first = props["contents"][0]
    assert first == {"content_id": "45000000000000", "content_type": "product",
                     "content_name": "Earl Grey loose leaf 250g", "brand": "Leaf & Co", "price": 7.25, "quantity": 1}
    assert len(props["contents"]) == 10 and "num_items" not in props


def test_presentment_currency_setting():
    props = one("orders/paid", order(), currency="presentment")["properties"]
    assert props["currency"] == "EUR" and props["value"] == 481.2
    assert [c["price"] for c in props["contents"]][:2] == [8.46, 16.92]


def test_presentment_setting_without_presentment_money_uses_shop_money_with_a_warning():
    result = run("orders/paid", order(total_price_set=None), currency="presentment")
    props = result.events[0].wire()["properties"]
    assert props["currency"] == "GBP" and props["value"] == 412.5 and props["contents"][0]["price"] == 7.25
    assert any("presentment" in w and "shop currency" in w for w in result.warnings)


def test_value_zero_is_valid():
    props = one("orders/paid", order(total_price="0.00"))["properties"]
    assert props["value"] == 0 and props["currency"] == "GBP"


@pytest.mark.parametrize("currency", ["XYZ", "BTC", "usd1", "", 840, None])
def test_currency_tiktok_does_not_accept_omits_value_and_currency_but_keeps_the_event(currency):
    result = run("orders/paid", order(currency=currency, presentment_currency="XTS"))
    props = result.events[0].wire()["properties"]
    assert "currency" not in props and "value" not in props and props["order_id"] == "5678901234567"
    assert any(w.startswith("value and currency omitted") for w in result.warnings)


def test_lowercase_accepted_currency_is_uppercased():
    assert one("orders/paid", order(currency=" gbp "))["properties"]["currency"] == "GBP"


@pytest.mark.parametrize("total", ["-12.00", "12,50", "abc", "NaN", "Infinity", float("nan"), float("inf"), -1,
                                   [], {"amount": "1"}, True, "1_000", "١٢٣"])
def test_bad_value_omits_value_and_currency(total):
    result = run("orders/paid", order(total_price=total))
    props = result.events[0].wire()["properties"]
    assert "value" not in props and "currency" not in props
    assert any(w.startswith("value and currency omitted: total_price") for w in result.warnings)


def test_numbers_are_accepted_for_money():
    assert one("orders/paid", order(total_price=412.5))["properties"]["value"] == 412.5
    assert one("orders/paid", order(total_price=12))["properties"]["value"] == 12


def test_content_id_preference_setting():
    payload = order()
    payload["line_items"][0]["variant_id"] = None
    ids = [c["content_id"] for c in one("orders/paid", payload)["properties"]["contents"][:2]]
    assert ids == ["8100000000000", "45000000000001"]  # variant_id, else product_id
    ids = [c["content_id"] for c in one("orders/paid", payload, content_id_fields=("sku",))["properties"]["contents"][:2]]
    assert ids == ["TEA-000", "TEA-001"]
    payload["line_items"][0].update(product_id=None)
    first = one("orders/paid", payload)["properties"]["contents"][0]
    assert first["content_id"] == "TEA-000"
    payload["line_items"][0].update(sku=None)
    assert "content_id" not in one("orders/paid", payload)["properties"]["contents"][0]


def test_content_name_falls_back_to_name_and_duplicates_are_kept():
    payload = order()
    payload["line_items"] = [copy.deepcopy(payload["line_items"][0]) for _ in range(3)]
    payload["line_items"][1]["title"] = None
    contents = one("orders/paid", payload)["properties"]["contents"]
    assert len(contents) == 3
    assert [c["content_name"] for c in contents] == ["Earl Grey loose leaf 250g",
                                                     "Earl Grey loose leaf 250g - Default",
                                                     "Earl Grey loose leaf 250g"]


def test_free_text_is_truncated():
    payload = order()
    payload["line_items"][0].update(title="T" * 400, vendor="V" * 300, variant_id=None, product_id=None, sku="S" * 300)
    result = run("orders/paid", payload)
    item = result.events[0].wire()["properties"]["contents"][0]
    assert (len(item["content_name"]), len(item["brand"]), len(item["content_id"])) == (150, 100, 100)
    assert any("truncated to 150" in w for w in result.warnings)


def test_checkout_num_items_value_and_contents():
    props = one("checkouts/create", load("shopify_checkouts_create.json"))["properties"]
    assert props["num_items"] == 2 and props["currency"] == "USD" and props["value"] == 421.88
    assert [c["content_id"] for c in props["contents"]] == ["808950810", "808950810"]
    assert "order_id" not in props


def test_cart_currency_and_value_come_from_line_money_sets():
    props = one("carts/update", load("shopify_carts_create.json"))["properties"]
    assert props["currency"] == "USD" and props["value"] == 59.97  # 3 x 19.99, summed exactly
    assert props["contents"][0]["quantity"] == 3 and "order_id" not in props


def test_cart_without_currency_codes_omits_currency_and_value():
    payload = cart([(111, 900, "A", 2)])
    for line in payload["line_items"]:
        del line["price_set"]
    result = run("carts/update", payload)
    props = result.events[0].wire()["properties"]
    assert "currency" not in props and "value" not in props and props["contents"][0]["price"] == 19.99


def test_cart_value_is_exact_decimal_sum():
    payload = cart([(111, 900, "A", 3), (222, 901, "B", 1)])
    payload["line_items"][1]["price_set"]["shop_money"]["amount"] = "0.10"
    payload["line_items"][0]["price_set"]["shop_money"]["amount"] = "0.10"
    assert one("carts/update", payload)["properties"]["value"] == 0.4


# --- page -------------------------------------------------------------------------------------------------


def test_landing_path_is_made_absolute_on_the_storefronts_own_domain():
    page = one("orders/paid", order())["page"]
    assert page == {"url": f"https://{STOREFRONT}/products/tea-set?utm_source=tiktok&ttclid=E.C.P.landing-click-0001",
                    "referrer": "https://www.tiktok.com/"}


def test_absolute_landing_site_is_kept():
    url = "https://tea-shop.example/pages/about?utm_campaign=spring"
    assert one("orders/paid", order(landing_site=url))["page"]["url"] == url


@pytest.mark.parametrize(("landing", "sent"), [
    ("/pages/welcome?email=ada%40example.com&utm_source=newsletter", "/pages/welcome?utm_source=newsletter"),
    ("/account/reset?token=abc&phone=%2B447911123456", "/account/reset"),
    ("/p?ttclid=E.C.P.x&name=Ada+Lovelace#section", "/p?ttclid=E.C.P.x"),
])
def test_page_url_keeps_only_ttclid_and_utm_parameters(landing, sent):
    """Landing URLs are sent in clear; any other parameter could hold customer data."""
    result = run("orders/paid", order(landing_site=landing))
    assert result.events[0].wire()["page"]["url"] == f"https://{STOREFRONT}{sent}"
    assert any("query parameters" in w for w in result.warnings)


def test_an_email_in_the_url_path_drops_the_url():
    result = run("orders/paid", order(landing_site="/u/ada.lovelace@example.com/orders", order_status_url=None),
                 storefront_domain=STOREFRONT)
    assert "url" not in result.events[0].wire().get("page", {})
    assert "page.url dropped: it contains what looks like an email address" in result.warnings


def test_referrer_loses_its_query_string():
    page = one("orders/paid", order(referring_site="https://www.google.com/search?q=ada+lovelace+tea"))["page"]
    assert page["referrer"] == "https://www.google.com/search"


@pytest.mark.parametrize(("where", "changes"), [
    ("note_attributes.ttclid", {"note_attributes": [{"name": "ttclid", "value": "ada.lovelace@example.com"}]}),
    ("note_attributes._ttp", {"note_attributes": [{"name": "_ttp", "value": "ada.lovelace%40example.com"}]}),
    ("client_details.user_agent",
     {"client_details": {"browser_ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (ada.lovelace@example.com)"}}),
])
def test_clear_text_fields_never_carry_an_email(where, changes):
    result = run("orders/paid", order(**changes))
    assert "ada.lovelace" not in json.dumps(result.events[0].wire()).replace("%40", "@")
    assert any(w.startswith(where) and "email" in w for w in result.warnings), result.warnings


def test_without_landing_site_the_order_status_url_is_used_without_its_access_key():
    page = one("orders/paid", order(landing_site=None))["page"]
    assert page["url"] == "https://tea-shop.example/55555/orders/abcdef0123456789/authenticate"
    assert "secret-status-key" not in json.dumps(one("orders/paid", order(landing_site=None)))


def test_urls_are_truncated_and_junk_is_dropped():
    result = run("orders/paid", order(landing_site="/p/" + "a" * 5000, referring_site="not a url"))
    page = result.events[0].wire()["page"]
    assert len(page["url"]) == 2048 and "referrer" not in page
    assert "page.url truncated to 2048 characters" in result.warnings
    assert "referring_site ignored: not an absolute URL" in result.warnings


def test_bad_shop_domain_does_not_build_a_url():
    result = run("orders/paid", order(order_status_url=None), shop="evil.com/x?")
    assert "url" not in result.events[0].wire().get("page", {})


# --- disguised emails in clear-text fields (sent unhashed) ----------------------------------------------


DISGUISED = {
    "fullwidth @": "ada.lovelace\uff20example.com",
    "small @": "ada.lovelace\ufe6bexample.com",
    "percent-encoded twice": "ada.lovelace%2540example.com",
    "HTML entity": "ada.lovelace&#64;example.com",
    "named HTML entity": "ada.lovelace&commat;example.com",
    "spelled out": "ada.lovelace(at)example(dot)com",
    "spelled out, bracketed": "ada.lovelace [at] example.com",
}


@pytest.mark.parametrize("address", DISGUISED.values(), ids=DISGUISED.keys())
@pytest.mark.parametrize(("where", "changes"), [
    ("page.url", lambda a: {"landing_site": f"https://tea-shop.example/u/{a}/welcome", "order_status_url": None}),
    ("referring_site", lambda a: {"referring_site": f"https://mail.example/{a}"}),
    ("client_details.user_agent", lambda a: {"client_details": {"browser_ip": "203.0.113.7",
                                                               "user_agent": f"Mozilla/5.0 ({a})"}}),
    ("note_attributes.ttclid", lambda a: {"note_attributes": [{"name": "ttclid", "value": a}]}),
    ("note_attributes._ttp", lambda a: {"note_attributes": [{"name": "_ttp", "value": a}]}),
    ("landing_site ttclid", lambda a: {"landing_site": f"/p?ttclid={a}", "note_attributes": []}),
])
def test_a_disguised_email_never_leaves_in_a_clear_text_field(address, where, changes):
    result = run("orders/paid", order(**changes(address)))
    wire = json.dumps(result.events[0].wire())
    assert "lovelace" not in wire.lower()  # not the address, nor its local part
    # The field is dropped with a warning naming it (a spelled-out address with spaces is
    # dropped for its spaces; the landing ttclid goes with the landing URL it came in).
    named = "page.url" if where == "landing_site ttclid" else where
    assert any(w.startswith(named) and "dropped" in w for w in result.warnings), result.warnings


@pytest.mark.parametrize("field", ["title", "vendor"])
@pytest.mark.parametrize("address", [*DISGUISED.values(), "ada.lovelace@example.com"])
def test_line_item_titles_and_vendors_with_an_email_are_dropped(field, address):
    payload = order()
    payload["line_items"][0][field] = f"Engraved mug for {address}"
    payload["line_items"][0]["name"] = "Engraved mug"  # the title's fallback
    result = run("orders/paid", payload)
    [first, *rest] = result.events[0].wire()["properties"]["contents"]
    assert "lovelace" not in json.dumps(result.events[0].wire()).lower()
    assert ("content_name" if field == "title" else "brand") not in first
    assert first["content_id"]  # the item itself is still sent
    assert all(("content_name" in item) for item in rest)
    assert any(w.startswith(f"line_items[].{field} dropped: it contains what looks like an email address")
               for w in result.warnings), result.warnings


@pytest.mark.parametrize("text", ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)",
                                  "Tea set (blue) & saucers - 100% porcelain", "E.C.P.abc123", "Caf\u00e9 at home.com"])
def test_ordinary_clear_text_is_not_taken_for_an_email(text):
    from tiktok_relay.tiktok.cleartext import has_email

    assert not has_email(text)


# --- a body that does not fit its topic ---------------------------------------------------------------


@pytest.mark.parametrize("topic", ["checkouts/create", "checkouts/update", "carts/create", "carts/update"])
def test_an_order_body_under_a_checkout_or_cart_topic_sends_nothing(topic):
    """HMAC covers the body only: a captured order body replayed under another topic would make
    InitiateCheckout or AddToCart events with new event_ids, which TikTok does not deduplicate."""
    result = run(topic, order())
    assert result.events == []
    assert result.reason.startswith("the body is a Shopify order payload (it has admin_graphql_api_id)")
    assert_no_pii(result.reason)
    without_gid = run(topic, order(admin_graphql_api_id=None))
    assert without_gid.events == [] and "it has financial_status" in without_gid.reason


@pytest.mark.parametrize(("topic", "fixture", "kind"), [
    ("orders/paid", "shopify_checkouts_create.json", "checkout"),
    ("orders/paid", "shopify_customers_create.json", "customer"),
    ("orders/paid", "shopify_refunds_create.json", "refund"),
    ("customers/create", "order_paid_gb_10_items.json", "order"),
    ("checkouts/update", "shopify_customers_create.json", "customer"),
])
def test_other_bodies_under_the_wrong_topic_send_nothing(topic, fixture, kind):
    result = run(topic, load(fixture))
    assert result.events == [] and result.reason.startswith(f"the body is a Shopify {kind} payload")


@pytest.mark.parametrize(("topic", "fixture"), [("orders/paid", "order_paid_gb_10_items.json"),
                                                ("orders/create", "shopify_orders_create.json"),
                                                ("checkouts/create", "shopify_checkouts_create.json"),
                                                ("carts/update", "shopify_carts_create.json"),
                                                ("customers/create", "shopify_customers_create.json")])
def test_bodies_that_fit_their_topic_are_not_refused_for_their_shape(topic, fixture):
    result = run(topic, load(fixture), topic_events="orders/create=Purchase")
    assert result.reason is None or "the body is a Shopify" not in result.reason


# --- numbers beyond what TikTok accepts: dropped or clamped, with a warning, never a 5xx ------------------


def test_two_4300_digit_quantities_never_make_an_unwritable_num_items():
    from tests.support.shopify import SHOPIFY_FIXTURES

    payload = json.loads((SHOPIFY_FIXTURES / "shopify_checkouts_create.json").read_text())
    for line in payload["line_items"][:2]:
        line["quantity"] = int("9" * 4300)  # the most digits Python parses from JSON
    result = run("checkouts/create", payload)
    wire = result.events[0].wire()
    json.dumps(wire)  # writable
    assert all(item.get("quantity", 0) < 2**31 for item in wire["properties"]["contents"])
    assert wire["properties"].get("num_items", 0) < 2**31
    assert any("line_items[].quantity ignored: not a whole number from 0 to 2147483647" in w for w in result.warnings)


def test_num_items_is_clamped_when_the_quantities_add_up_beyond_a_32_bit_count():
    payload = load("shopify_checkouts_create.json")
    payload["line_items"] = [{**payload["line_items"][0], "quantity": 2**31 - 1} for _ in range(3)]
    result = run("checkouts/create", payload)
    assert result.events[0].wire()["properties"]["num_items"] == 2**31 - 1
    assert "properties.num_items clamped to 2147483647: the line items' quantities add up to more" in result.warnings


@pytest.mark.parametrize("total", ["1e16", "10000000000000001", 1e300])
def test_a_value_beyond_what_tiktok_accepts_is_left_out_with_a_warning(total):
    result = run("orders/paid", order(total_price=total))
    assert "value" not in result.events[0].wire()["properties"]
    assert any("total_price beyond what TikTok accepts" in w for w in result.warnings), result.warnings
