"""Hostile payloads: nulls everywhere, wrong types, huge and odd text. Map what is valid, never raise."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.support import nulled
from tests.support.shopify import NOW, SHOP, assert_no_pii, load, one, order, run
from tiktok_relay.pipeline.messages import MAX_MESSAGE_BYTES
from tiktok_relay.sources.common.events import build_event
from tiktok_relay.sources.shopify.mapping import map_webhook, to_request_body
from tiktok_relay.sources.shopify.mapping.properties import MAX_CONTENTS
from tiktok_relay.sources.shopify.settings import ShopifySettings
from tiktok_relay.tiktok.models import Event, TrackRequest

TOPIC_FIXTURES = [
    ("orders/paid", "order_paid_gb_10_items.json"),
    ("orders/paid", "shopify_orders_create.json"),
    ("orders/paid", "shopify_orders_anonymized_exemplar.json"),
    ("checkouts/create", "shopify_checkouts_create.json"),
    ("checkouts/update", "shopify_checkouts_create.json"),
    ("carts/create", "shopify_carts_create.json"),
    ("carts/update", "shopify_carts_create.json"),
    ("customers/create", "shopify_customers_create.json"),
]
ALL_SETTINGS = [ShopifySettings(test_event_code="T1"), ShopifySettings(currency="presentment", test_event_code="T1",
                                                                        content_id_fields=("sku", "product_id"))]


def check(result, *, pii: tuple[str, ...] = ()) -> None:
    """What must hold for any result: valid events that serialize, or a reason; no values in text."""
    assert (result.events and result.reason is None) or (not result.events and result.reason)
    assert all(isinstance(w, str) for w in result.warnings)
    for event in result.events:
        assert isinstance(event, Event)
        wire = event.wire()
        json.dumps(wire)  # plain JSON (no lone surrogates, no NaN)
        event.model_dump_json()
        TrackRequest(event_source="web", event_source_id="PIXEL", data=[event])
    assert "bug" not in (result.reason or "")
    assert_no_pii(*(result.warnings + [result.reason or ""]), extra=pii)


@pytest.mark.parametrize("topic, fixture", TOPIC_FIXTURES)
def test_every_field_null(topic, fixture):
    payload = nulled(load(fixture))
    for settings in ALL_SETTINGS:
        result = map_webhook(topic, payload, SHOP, settings, now=NOW)
        check(result)
        assert result.events == []  # no id, no token: nothing stable to send


@pytest.mark.parametrize("topic, fixture", TOPIC_FIXTURES)
def test_every_field_null_except_the_keys(topic, fixture):
    source = load(fixture)
    payload = nulled(source)
    for key in ("id", "token", "state"):
        payload[key] = source.get(key)
    payload["state"] = "enabled"
    if topic.startswith("carts/"):
        payload["line_items"] = [{"variant_id": None, "quantity": None}]
    for settings in ALL_SETTINGS:
        result = map_webhook(topic, payload, SHOP, settings, now=NOW)
        check(result)
        if topic.startswith("checkouts/"):  # nobody to match: an InitiateCheckout needs an identity
            assert result.events == [] and "carries no email, phone or customer" in result.reason
            continue
        assert len(result.events) == 1
        assert result.events[0].event_time == NOW  # no usable timestamp
        assert any("event_time set to now" in w for w in result.warnings)


@pytest.mark.parametrize("topic", ["orders/paid", "checkouts/create", "carts/update", "customers/create"])
def test_empty_object(topic):
    result = run(topic, {})
    check(result)
    assert result.events == []


WRONG = [
    None, True, False, 0, -1, 1.5, float("nan"), 10**40, "", "   ", "x" * 100_000,
    "ضيف 🙂‍↔️ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\u202etxet LTR\u202c", "\x00\x01\x7f", "\ud800 lone", [], ["a", 1, None], {},
    {"nested": {"deep": [1, 2, 3]}}, [{"name": "ttclid", "value": None}],
]

ORDER_FIELDS = [
    ("id",), ("admin_graphql_api_id",), ("email",), ("contact_email",), ("phone",), ("processed_at",),
    ("created_at",), ("updated_at",), ("currency",), ("presentment_currency",), ("total_price",),
    ("total_price_set",), ("total_price_set", "presentment_money"), ("total_price_set", "presentment_money", "amount"),
    ("browser_ip",), ("client_details",), ("client_details", "browser_ip"), ("client_details", "user_agent"),
    ("customer_locale",), ("landing_site",), ("referring_site",), ("order_status_url",), ("note_attributes",),
    ("note_attributes", 1), ("note_attributes", 1, "name"), ("note_attributes", 1, "value"), ("billing_address",),
    ("billing_address", "first_name"), ("billing_address", "last_name"), ("billing_address", "zip"),
    ("billing_address", "city"), ("billing_address", "province_code"), ("billing_address", "province"),
    ("billing_address", "country_code"), ("billing_address", "phone"), ("shipping_address",),
    ("shipping_address", "phone"), ("shipping_address", "country_code"), ("customer",), ("customer", "id"),
    ("customer", "email"), ("customer", "phone"), ("customer", "first_name"), ("customer", "default_address"),
    ("customer", "default_address", "zip"), ("customer", "default_address", "phone"), ("line_items",),
    ("line_items", 0), ("line_items", 0, "variant_id"), ("line_items", 0, "product_id"), ("line_items", 0, "sku"),
    ("line_items", 0, "title"), ("line_items", 0, "name"), ("line_items", 0, "price"), ("line_items", 0, "price_set"),
    ("line_items", 0, "price_set", "presentment_money"), ("line_items", 0, "quantity"), ("line_items", 0, "vendor"),
    ("test",),
]


def with_value(payload: dict, path: tuple, value) -> dict:
    payload = copy.deepcopy(payload)
    node = payload
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return payload


@pytest.mark.parametrize("path", ORDER_FIELDS, ids=lambda p: ".".join(map(str, p)))
def test_wrong_types_in_every_mapped_order_field(path):
    base = order()
    for value in WRONG:
        for settings in ALL_SETTINGS:
            result = map_webhook("orders/paid", with_value(base, path, value), SHOP, settings, now=NOW)
            check(result)
            if path[0] not in ("id", "test"):
                assert len(result.events) == 1, (path, value, result.reason)


@pytest.mark.parametrize("path", [("token",), ("id",), ("email",), ("customer",), ("billing_address",),
                                  ("line_items",), ("line_items", 0, "quantity"), ("currency",), ("total_price",),
                                  ("note_attributes",), ("landing_site",)], ids=str)
def test_wrong_types_in_checkout_fields(path):
    base = load("shopify_checkouts_create.json")
    for value in WRONG:
        check(run("checkouts/update", with_value(base, path, value)))


@pytest.mark.parametrize("path", [("token",), ("id",), ("line_items",), ("line_items", 0),
                                  ("line_items", 0, "price_set"), ("line_items", 0, "price_set", "shop_money"),
                                  ("line_items", 0, "price_set", "shop_money", "currency_code"),
                                  ("line_items", 0, "quantity"), ("line_items", 0, "variant_id"),
                                  ("updated_at",)], ids=str)
def test_wrong_types_in_cart_fields(path):
    base = load("shopify_carts_create.json")
    for value in WRONG:
        check(run("carts/update", with_value(base, path, value)))


@pytest.mark.parametrize("path", [("id",), ("state",), ("email",), ("phone",), ("first_name",), ("default_address",),
                                  ("default_address", "country_code"), ("default_address", "phone"),
                                  ("admin_graphql_api_id",), ("created_at",)], ids=str)
def test_wrong_types_in_customer_fields(path):
    base = load("shopify_customers_create.json")
    base["state"] = "enabled"
    for value in WRONG:
        check(run("customers/create", with_value(base, path, value)), pii=("bob", "biller"))


def test_pii_in_unexpected_places_never_reaches_warnings():
    email, phone, name = "leaky.person@example.org", "+44 7911 999888", "Zebulon Quackenbush"
    payload = order(
        email=[email], contact_email={"v": email}, phone=phone * 50, customer_locale=email, currency=email,
        total_price=phone, browser_ip=email, landing_site=name, referring_site=email, processed_at=email,
        note_attributes=[{"name": "ttclid", "value": name + " x" * 300}, {"name": "_ttp", "value": [email]}],
    )
    payload["billing_address"].update(country_code=name, zip=[name], first_name={"n": name}, city=[email],
                                      phone=email)
    payload["client_details"]["user_agent"] = {"ua": email}
    payload["line_items"][0].update(price=email, quantity=phone, title=["x"], vendor={"v": name})
    result = run("orders/paid", payload)
    check(result, pii=(email, "leaky", "7911 999888", "Zebulon", "Quackenbush"))
    assert len(result.warnings) >= 10


# --- size limits -----------------------------------------------------------------------------------------


def many_items(count: int, **line_changes) -> dict:
    payload = order()
    template = payload["line_items"][0]
    payload["line_items"] = []
    for index in range(count):
        line = copy.deepcopy(template)
        line.update({"variant_id": 45000000000000 + index, **line_changes})
        payload["line_items"].append(line)
    return payload


def test_250_line_items_all_sent():
    result = run("orders/paid", many_items(250))
    assert len(result.events[0].properties.contents) == 250
    assert not any("properties.contents" in w for w in result.warnings)


def test_1000_line_items_capped_at_250_with_a_warning_naming_the_count():
    result = run("orders/paid", many_items(1000))
    contents = result.events[0].properties.contents
    assert len(contents) == MAX_CONTENTS == 250
    assert contents[-1].content_id == str(45000000000000 + 249)
    assert "properties.contents: 1000 line items, sent the first 250 (the 250-item limit)" in result.warnings


def test_checkout_num_items_counts_every_line_even_beyond_the_cap():
    payload = load("shopify_checkouts_create.json")
    payload["line_items"] = payload["line_items"][:1] * 300
    props = one("checkouts/create", payload)["properties"]
    assert len(props["contents"]) == 250 and props["num_items"] == 300


def test_worst_case_delivery_fits_one_queue_message():
    # 1000 lines of maximal non-ASCII text, plus every other free-text field at its limit.
    emoji = "🍵" * 400
    payload = many_items(1000, title=emoji, vendor=emoji, sku=emoji, variant_id=None, product_id=None)
    payload.update(landing_site="/" + "é" * 5000, referring_site="https://x.example/" + "é" * 5000,
                   note_attributes=[{"name": "ttclid", "value": "é" * 512}, {"name": "_ttp", "value": "é" * 512}])
    payload["client_details"]["user_agent"] = "é" * 5000
    payload["billing_address"].update(city="é" * 5000, province_code="é" * 5000)
    result = run("orders/paid", payload, content_id_fields=("sku",))
    body = to_request_body(result, pixel_id="C" * 20, test_event_code="TEST12345")
    # The receiver serializes with json.dumps (ASCII-escaped): the worst case for non-ASCII text.
    size = len(json.dumps(body).encode())
    assert size < MAX_MESSAGE_BYTES - 2_000, size
    assert 0 < len(result.events[0].properties.contents) < 250
    assert any("(the size limit)" in w for w in result.warnings)


def test_emoji_and_rtl_text_is_kept_in_clear_fields_and_hashed_in_names():
    payload = order()
    payload["line_items"][0]["title"] = "شاي أخضر 🍵 with 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"
    payload["billing_address"].update(first_name="Zoë 🙂", last_name="אבגד", city="Zürich")
    wire = one("orders/paid", payload)
    assert wire["properties"]["contents"][0]["content_name"] == "شاي أخضر 🍵 with 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"
    from tests.support.shopify import sha

    assert wire["user"]["first_name"] == sha("zoë") and wire["user"]["last_name"] == sha("אבגד")
    assert wire["user"]["city"] == "zürich"


def test_lone_surrogates_never_break_serialization():
    payload = order(email="a\ud800@example.com", customer_locale="\udfff")
    payload["line_items"][0]["title"] = "tea \ud83d"
    payload["client_details"]["user_agent"] = "UA \udc00"
    payload["billing_address"]["first_name"] = "\ud800"
    result = run("orders/paid", payload)
    check(result)
    assert result.events[0].properties.contents[0].content_name == "tea ?"


# --- the validation safety net ------------------------------------------------------------------------


def test_build_event_drops_an_invalid_leaf_and_keeps_the_rest():
    warnings: list[str] = []
    data = {"event": "Purchase", "event_time": NOW, "event_id": "e1",
            "user": {"ip": "not-an-ip", "ttclid": "E.C.P.ok"},
            "properties": {"currency": "usd$", "value": 5, "contents": [{"content_id": "1", "price": -3}]},
            "page": {"url": "https://x.example/"}}
    event, reason = build_event(data, warnings)
    assert reason is None and event is not None
    wire = event.wire()
    assert wire["user"] == {"ttclid": "E.C.P.ok"} and wire["page"] == {"url": "https://x.example/"}
    assert wire["properties"] == {"value": 5, "contents": [{"content_id": "1"}]}
    assert any(w.startswith("user.ip dropped") for w in warnings)
    assert any(w.startswith("properties.currency dropped") for w in warnings)
    assert any(w.startswith("properties.contents.0.price dropped") for w in warnings)


def test_build_event_drops_a_whole_block_when_the_leaf_cannot_go():
    warnings: list[str] = []
    data = {"event": "Purchase", "event_time": NOW, "event_id": "e1", "user": ["not", "an", "object"]}
    event, reason = build_event(data, warnings)
    assert event is not None and event.user is None and any(w.startswith("user dropped") for w in warnings)


def test_build_event_gives_a_reason_when_a_required_field_is_invalid():
    event, reason = build_event({"event": "Purchase", "event_time": 12, "event_id": "e1"}, [])
    assert event is None and "event_time" in reason


def test_now_outside_the_plausible_range_is_a_reason_not_an_exception():
    result = map_webhook("orders/paid", order(processed_at=None, created_at=None), SHOP, ShopifySettings(), now=5)
    assert result.events == [] and "event_time" in result.reason


# --- property-based: any JSON-shaped values in the mapped fields ---------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
MAPPED_KEYS = sorted({path[0] for path in ORDER_FIELDS} | {"token", "state", "default_address", "first_name",
                                                          "last_name", "zip"})


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    topic=st.sampled_from(["orders/paid", "checkouts/update", "carts/update", "customers/create"]),
    overrides=st.dictionaries(st.sampled_from(MAPPED_KEYS), json_values, max_size=8),
    presentment=st.booleans(),
)
def test_any_values_in_mapped_fields_never_raise(topic, overrides, presentment):
    base = {"orders/paid": "order_paid_gb_10_items.json", "checkouts/update": "shopify_checkouts_create.json",
            "carts/update": "shopify_carts_create.json", "customers/create": "shopify_customers_create.json"}[topic]
    payload = load(base)
    payload.update(overrides)
    settings = ShopifySettings(currency="presentment" if presentment else "shop", test_event_code="T")
    check(map_webhook(topic, payload, SHOP, settings, now=NOW))


@hsettings(max_examples=150, deadline=None)
@given(line=st.dictionaries(st.sampled_from(["variant_id", "product_id", "sku", "title", "name", "price",
                                             "price_set", "quantity", "vendor"]), json_values, max_size=9))
def test_any_line_item_never_raises(line):
    payload = order(line_items=[line, line])
    check(run("orders/paid", payload))
    cart_payload = load("shopify_carts_create.json")
    cart_payload["line_items"] = [line]
    check(run("carts/update", cart_payload))
