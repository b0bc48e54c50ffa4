"""tiktok/encode.py, the path `build` takes without pydantic, held to the models.

The rule under test: for any line, the fast path either declines (None) or gives exactly what
the models give (`Event.model_validate_json` + serialization without nulls), the same event_id
and the same bytes; a line the models refuse is always declined. Checked on realistic events
(which it must take: that is its point), on the edge of every rule, and on generated events
mixing valid and hostile values, with both JSON codecs (json's for a few lines, pydantic-core's
for many).
"""

from __future__ import annotations

import base64
import copy
import datetime
import decimal
import enum
import json
import random
import warnings
from typing import Any

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import FIXTURES
from tiktok_relay.errors import DeprecatedEventWarning
from tiktok_relay.tiktok import encode
from tiktok_relay.tiktok.models import (
    Ad,
    App,
    BrandVersion,
    Content,
    Device,
    Envelope,
    Event,
    Lead,
    Page,
    Properties,
    TrackRequest,
    User,
)

T = 1_700_000_000
FEW, MANY = 1, encode.MANY_EVENTS  # the json codec, pydantic-core's
CODECS = pytest.mark.parametrize("events", [FEW, MANY], ids=["json", "pydantic-core"])
SHA = "a" * 64


def by_models(line: str | bytes, region: str | None = None) -> tuple[str | None, bytes] | None:
    try:
        event = Event.model_validate_json(line, context={"phone_region": region})
    except pydantic.ValidationError:
        raise AssertionError("StrictModel raises EventValidationError, not pydantic's") from None
    except ValueError:  # EventValidationError
        return None
    return event.event_id, event.__pydantic_serializer__.to_json(event, exclude_none=True)


def assert_same_as_models(line: str | bytes, region: str | None = None, events: int = FEW) -> bool:
    """The rule; True when the fast path took the line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecatedEventWarning)
        fast = encode.event_encoder(region, events=events)(line)
        expected = by_models(line, region)
    if fast is None:
        return False
    assert expected is not None, f"the fast path took a line the models refuse: {line!r}"
    assert fast == expected, line
    return True


def dumps(item: Any) -> str:
    return json.dumps(item, ensure_ascii=False)


def event(**fields: Any) -> dict[str, Any]:
    return {"event": "Purchase", "event_time": T, **fields}


# --- the tables are the models' -------------------------------------------------------------------


@pytest.mark.parametrize("block, model", [
    (encode._EVENT, Event), (encode._USER, User), (encode._PROPERTIES, Properties), (encode._CONTENT, Content),
    (encode._PAGE, Page), (encode._DEVICE, Device), (encode._BRAND_VERSION, BrandVersion), (encode._LEAD, Lead),
    (encode._APP, App), (encode._AD, Ad),
])
def test_each_block_names_the_models_fields_in_their_order(block, model):
    # A field added to a model without a rule here would only be declined (slower, not wrong);
    # this makes sure nobody forgets, and that the output keeps the models' order.
    assert list(block.rules) == list(model.model_fields)
    assert block.custom == (model.model_config.get("extra") == "allow")
    assert block.required == {name for name, field in model.model_fields.items() if field.is_required()}


# --- realistic events are taken ---------------------------------------------------------------------


def generated_orders(count: int, seed: int = 7) -> list[str]:
    """Orders as a store's export gives them: raw identifiers typed in several ways."""
    rng = random.Random(seed)
    phones = ["+1 415-555-2671", "+1 (312) 761-3795", "+14155552671", "+44 7911 123456", "+44 (0)20 7946 0018",
              "+49 1512 3456789", "+55 11 96123-4567", "+33 6 12 34 56 78", "+81 90-1234-5678"]
    lines = []
    for n in range(count):
        items = [{"content_id": f"SKU-{k}", "content_name": rng.choice(["Tee", "Café crème", "Tasse ☕"]),
                  "content_category": "Apparel > Shirts", "price": rng.choice([19.0, 24.5, 0.99, 1200, "12.50"]),
                  "quantity": rng.choice([1, 2, "3"]), **({"brand": "Acme"} if k % 2 else {})}
                 for k in range(rng.randint(0, 4))]
        user: dict[str, Any] = {"email": rng.choice(["Jane.Doe@Example.com", " jo@b.co ", ["a@b.co", "A@B.CO"]]),
                                "phone": rng.choice(phones), "external_id": rng.choice([f"cust-{n}", n]),
                                "ttclid": "E.C.P.abc", "ttp": " 2Yq3 ", "ip": rng.choice(["81.2.69.160", "2001:db8::1"]),
                                "user_agent": "Mozilla/5.0"}
        if n % 3 == 0:
            user.update(country=rng.choice(["US", "United Kingdom", "de"]), state="California", city="San Francisco",
                        first_name="Zoë", last_name="O'Brien", zip_code=rng.choice(["94103-1234", "SW1A 1AA"]))
        if n % 5 == 0:
            user.update(phone="(415) 555-2671", phone_region="US")
        properties: dict[str, Any] = {"currency": rng.choice(["USD", "eur", " GBP "]), "value": 43.5,
                                      "content_type": "product", "contents": items, "order_id": 1000 + n}
        if n % 4 == 0:
            properties.update(num_items=len(items), content_ids=[f"SKU-{k}" for k in range(len(items))],
                              gtm_version="2.1", on_sale=True, tags=["a", 1, 2.5])
        lines.append(dumps(event(event=rng.choice(["Purchase", "CompletePayment", "AddToCart", "MyCustom"]),
                                 event_time=rng.choice([T + n, str(T + n), "2024-05-01T12:00:00+02:00"]),
                                 event_id=f"order-{n}", user=user, properties=properties,
                                 page={"url": "https://shop.example/checkouts/1?utm=x", "referrer": "https://t.co/"},
                                 limited_data_use=n % 2 == 0)))
    return lines


def mapped_shopify_events() -> list[str]:
    """What the mapping makes of the real Shopify payloads, as data[] items (hashes given)."""
    from tiktok_relay.sources.shopify.mapping import map_webhook
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    lines = []
    paths = sorted((FIXTURES / "shopify").glob("*.json")) + sorted((FIXTURES / "shopify" / "realworld").glob("*.json"))
    for path in paths:
        payload = json.loads(path.read_bytes())
        for topic in ("orders/paid", "checkouts/create", "carts/update", "customers/create", "refunds/create"):
            result = map_webhook(topic, payload, "shop.myshopify.com", ShopifySettings(), now=T)
            lines += [dumps(e.wire()) for e in result.events]
    return lines


@CODECS
def test_realistic_events_take_the_fast_path_with_the_models_bytes(events):
    lines = generated_orders(300) + mapped_shopify_events()
    assert len(lines) > 300
    declined = [line for line in lines if not assert_same_as_models(line, events=events)]
    assert declined == []


def test_the_default_phone_region_reaches_the_fast_path():
    line = dumps(event(user={"phone": "06 12 34 56 78"}))
    assert assert_same_as_models(line, "NL")
    assert encode.event_encoder(None)(line) is None and by_models(line) is None  # no region: refused


# --- the edge of every rule -------------------------------------------------------------------------

EDGES = [
    # JSON the fast path must not read differently from pydantic's parser
    '{"event":"Purchase","event_time":1700000000,"page":{"url":"\\ud800"}}',
    '{"event":"Purchase","event_time":1700000000,"page":{"url":"\\ud83d\\ude00 ok"}}',
    '{"event":"Purchase","event_time":NaN}', '{"event":"Purchase","event_time":1e400}',
    '{"event":"Purchase","event_time":1700000000,"properties":{"value":Infinity}}',
    '{"event":"Lead","event":"Purchase","event_time":1700000000}',
    '\ufeff{"event":"Purchase","event_time":1700000000}', '{"event":"Purchase","event_time":1700000000} x',
    '[1]', '"Purchase"', 'null', '{}', '{"event":"Purchase"}', '{"event_time":1700000000}',
    '{"event":"Purchase","event_time":1700000000,"user":{"email":"a@b.co"}}  ',
    '{"event":"Purchase","event_time":1700000000,"properties":{"value":123456789012345678901234567890}}',
    '{"event":"Purchase","event_time":1700000000,"properties":{"contents":[{"quantity":1' + '0' * 30 + '}]}}',
    '{"event":"Purchase","event_time":1700000000,"properties":{"x":' + '[' * 3000 + ']' * 3000 + '}}',
    b'{"event":"Purchase","event_time":1700000000,"page":{"url":"\xff"}}',
    b'{"event":"Purchase","event_time":1700000000,"page":{"url":"caf\xc3\xa9 \xe2\x80\xa8 \x7f"}}',
]
EDGE_EVENTS = [
    event(event=" Purchase "), event(event="purchase"), event(event=""), event(event=5), event(event="PlaceAnOrder"),
    event(event_time="1700000000"), event(event_time=1700000000.7), event(event_time=True), event(event_time="17e8"),
    event(event_time="2023-11-14T22:13:20Z"), event(event_time="2023-11-14T22:13:20"), event(event_time=1700000000000),
    event(event_time=None), event(event_id="  "), event(event_id=" e1 "), event(event_id=12), event(event_id=1.5),
    event(event_id=True), event(event_id=None), event(limited_data_use=1), event(limited_data_use=False),
    event(unknown=1), event(timestamp=T), event(user=None), event(user={}), event(user=[]),
    event(user={"email": None}), event(user={"email": []}), event(user={"email": ["a@b.co", "A@B.co ", None]}),
    event(user={"email": "not-an-email"}), event(user={"email": SHA.upper()}), event(user={"email": 5}),
    event(user={"phone": "+1 555 555 5555"}), event(user={"phone": "+44 7911 123456", "country": "us"}),
    event(user={"phone": "07911 123456", "country": "gb"}), event(user={"phone": "07911 123456", "phone_region": "GB"}),
    event(user={"phone": "07911 123456", "phone_region": "XX"}), event(user={"phone": "07911 123456", "phone_region": ""}),
    event(user={"phone": "+86 138 0000 0000"}), event(user={"phone": ["+14155552671", "+1 415 555 2671"]}),
    event(user={"country": " ", "email": "a@b.co"}), event(user={"country": "Narnia"}), event(user={"country": None}),
    event(user={"state": "NY", "country": "gb"}), event(user={"state": "!!"}), event(user={"city": "???"}),
    event(user={"first_name": "!!!", "ip": "81.2.69.160"}), event(user={"zip_code": "941031234", "country": "us"}),
    event(user={"zip_code": 94103}), event(user={"ip": "081.2.69.160"}), event(user={"ip": "::ffff:1.2.3.4"}),
    event(user={"ip": "999.0.0.1"}), event(user={"ttclid": "  "}), event(user={"ttclid": 5}),
    event(user={"att_status": "DENIED"}), event(user={"att_status": "denied"}), event(user={"phone_number": "+1"}),
    event(properties={"value": 0.00001}), event(properties={"value": 0.0001}), event(properties={"value": 0}),
    event(properties={"value": -0.0}), event(properties={"value": -1}), event(properties={"value": 1e15}),
    event(properties={"value": 1.5e15}), event(properties={"value": 2**53 + 1}), event(properties={"value": "1,5"}),
    event(properties={"value": " 19.90 "}), event(properties={"value": True}), event(properties={"value": None}),
    event(properties={"num_items": 2.0}), event(properties={"num_items": "2"}), event(properties={"num_items": 2**31}),
    event(properties={"currency": " "}), event(properties={"currency": "usd"}), event(properties={"currency": "XYZ"}),
    event(properties={"currency": 840}), event(properties={"content_ids": "x"}), event(properties={"content_ids": 7}),
    event(properties={"content_ids": ["  "]}), event(properties={"content_ids": []}), event(properties={"x": 1}),
    event(properties={"contents": []}), event(properties={"contents": [{}]}), event(properties={"contents": {}}),
    event(properties={"content_type": "product", "contents": [{"content_id": "a"}, {"content_type": "product_group"},
                                                              {"price": 1}]}),
    event(properties={"contents": [{"quantity": -1}]}), event(properties={"contents": [{"quantity": 1.5}]}),
    event(properties={"contents": [{"quantity": "1e-7"}]}), event(properties={"contents": [{"quantity": True}]}),
    event(properties={"contents": [{"price": 1, "color": "red", "sizes": [1, 2.0, "x"]}]}),
    event(properties={"contents": [{"price": 1, "note": "write to jane@example.com"}]}),
    event(properties={"contents": [{"price": 1, "jane@example.com": 1}]}),
    event(properties={"value": 1, "tiny": 1e-7}), event(properties={"value": 1, "nested": {"a": 1}}),
    event(properties={"value": 1, "nested": [[1]]}), event(properties={"value": 1, "none": None}),
    event(properties={"value": 1, "call": "+44 7911 123456"}), event(properties={"value": 1, "order_id": 2**70}),
    event(properties={"value": 1, "delivery_category": "curbside"}), event(properties={"delivery_category": "drone"}),
    event(page={}), event(page={"url": 5}), event(page={"url": " x "}), event(page={"page_url": "x"}),
    event(device={"mobile": True, "browser_version_list": [{"brand": "Chromium"}, {}]}), event(device={"mobile": 1}),
    event(device={"browser_version_list": []}), event(device={"browser_version_list": [{"x": 1}]}), event(device={}),
    event(lead={"lead_id": 5}), event(lead={}), event(app={"app_id": 5, "app_name": "A"}), event(app={"app_name": "A"}),
    event(app={"app_id": " "}), event(app={}), event(ad={"is_retargeting": False, "campaign_id": 7}), event(ad={}),
    event(ad={"attributed": "yes"}),
]


@CODECS
@pytest.mark.parametrize("line", EDGES + [dumps(e) for e in EDGE_EVENTS])
def test_edges_of_every_rule_match_the_models(line, events):
    assert_same_as_models(line, events=events)


@pytest.mark.parametrize("line, takes", [
    (dumps(event(properties={"value": 0.00001})), False),  # json would write 1e-05, pydantic-core 0.00001
    (dumps(event(user={"email": "a@b.co"}, properties={"value": 0.0001, "contents": [{"price": 19.0}]})), True),
    (dumps(event(limited_data_use=1)), False),  # pydantic's lax bool: its business
    ('{"event":"Purchase","event_time":1700000000,"page":{"url":"\\ud800"}}', False),
])
def test_what_the_fast_path_leaves_to_the_models(line, takes):
    assert (encode.event_encoder()(line) is not None) is takes


def test_a_deprecated_name_warns_once_and_only_when_the_fast_path_takes_the_event():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert encode.event_encoder()(dumps(event(event="PlaceAnOrder"))) is not None
        assert encode.event_encoder()(dumps(event(event="PlaceAnOrder", user={"ip": "x"}))) is None
    assert [type(w.message) for w in caught] == [DeprecatedEventWarning]


# --- generated events ---------------------------------------------------------------------------------
# Mostly plausible values for each field (so that many events are taken and compared), now and
# then anything at all (so that the fast path has to decline correctly).

texts = st.one_of(st.sampled_from(["", " ", "x", " Purchase ", "a@b.co", "+1 415 555 2671", "07911 123456", SHA,
                                   "US", "gb", "product", "1700000000", "2024-05-01T00:00:00Z", "81.2.69.160",
                                   "19.99", "1e-7", "DENIED", "California", "ZX9 9ZZ"]),
                  st.text(max_size=12))
numbers = st.one_of(st.integers(min_value=-3, max_value=2**54), st.sampled_from([0.0, 1e-5, 19.99, 1e15, 2**31, T]),
                    st.floats(allow_nan=False, allow_infinity=False))
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(texts, scalars, max_size=2))

NAMES = ["Zoë", "O'Brien", "  Jean-Luc ", "李", SHA, SHA.upper(), " ", None]
IDS = ["o-1", " o-2 ", 7, 2**70, None]
TEXT = ["x", " y ", "Café ☕", "", None]
CUSTOM = {"gtm_version": ["2.1", 2], "on_sale": [True, False], "tags": [["a", 1, 2.5], []], "score": [2.5, 0.0001, 10**20],
          "availability": ["in stock", "call +1 415 555 2671"]}
POOLS: dict[type, dict[str, list[Any]]] = {
    User: {"phone_region": ["US", "GB", "", None, " de "], "country": ["US", "us", "United Kingdom", "Côte d'Ivoire",
                                                                     " ", None],
           "state": ["CA", "California", "Bavaria", "ny", None], "city": ["San Francisco", "München", "", None],
           "email": ["a@b.co", " Jane@Example.COM ", SHA, "ｊａｎｅ＠example.com", "mailto:x@y.z?subject=hi",
                     ["a@b.co", "A@B.CO", None], [], None],
           "phone": ["+1 415 555 2671", "+44 7911 123456", "(415) 555-2671", "020 7946 0018", "+86 138 0000 0000",
                     "+49 1512 3456789", ["+14155552671", "+1 415-555-2671"], SHA, None],
           "external_id": ["cust-1", 42, " x ", SHA, ["a", "b", "a"], None], "first_name": NAMES, "last_name": NAMES,
           "zip_code": ["94103", "94103-1234", "941031234", "SW1A 1AA", 94103, SHA, None],
           "ttclid": ["E.C.P.abc", " y ", "", None], "ttp": ["2Yq3", None],
           "ip": ["81.2.69.160", "2001:db8::1", "::ffff:1.2.3.4", "2A00:1450::1", None],
           "user_agent": ["Mozilla/5.0", None], "locale": ["en-US"], "idfa": ["x"], "idfv": ["y"], "gaid": ["z"],
           "att_status": ["AUTHORIZED", "NOT_APPLICABLE", None]},
    Properties: {"content_type": ["product", "product_group", None], "content_ids": ["a", ["a", 1], 7, [], None],
                 "currency": ["USD", "eur", " GBP ", "", None], "value": [0, 19.99, " 19.90 ", 1e15, 0.0001, 5, None],
                 "num_items": [0, 3, 2**31 - 1, None], "order_id": IDS, "shop_id": IDS, "query": TEXT,
                 "search_string": TEXT, "description": TEXT, "status": TEXT,
                 "delivery_category": ["in_store", "home_delivery", None], "predicted_ltv": [1.5, "2", None], **CUSTOM},
    Content: {"content_id": IDS, "content_type": ["product", "product_group", None], "content_category": TEXT,
              "content_name": TEXT, "brand": TEXT, "price": [19.0, 0.99, "12.50", 1200, 0, None],
              "quantity": [1, 2, "3", 1.5, 0, None], "status": TEXT, **CUSTOM},
    Page: {"url": ["https://shop.example/p?x=1", "", None], "referrer": ["https://t.co/", None]},
    Ad: {"callback": ["cb"], "campaign_id": IDS, "ad_id": IDS, "creative_id": IDS, "is_retargeting": [True, None],
         "attributed": [False], "attribution_type": TEXT, "attribution_provider": TEXT},
    App: {"app_id": ["com.example", 77, " a "], "app_name": TEXT, "app_version": TEXT},
    Lead: {"lead_id": IDS, "lead_event_source": TEXT},
}


def plausible(pool: list[Any]) -> st.SearchStrategy:
    """A value of `pool` seven times out of eight, anything at all the eighth."""
    return st.integers(min_value=0, max_value=7).flatmap(lambda k: values if k == 7 else st.sampled_from(pool))


def block_of(model: type) -> st.SearchStrategy:
    pools = POOLS[model]
    required = {name: plausible(pools[name]) for name, field in model.model_fields.items() if field.is_required()}
    return st.fixed_dictionaries(required, optional={name: plausible(pool) for name, pool in pools.items()
                                                     if name not in required})


contents = st.lists(block_of(Content), max_size=3)
properties = st.builds(lambda p, c: {**p, **({"contents": c} if c is not None else {})}, block_of(Properties),
                       st.one_of(st.none(), contents, contents, values))
events_strategy = st.fixed_dictionaries(
    {"event": plausible(["Purchase", "CompletePayment", "PlaceAnOrder", "custom_event", " Lead "]),
     "event_time": plausible([T, str(T), "2024-05-01T00:00:00Z", "2024-05-01T02:00:00+02:00", T + 0.5])},
    optional={"event_id": plausible(IDS), "user": block_of(User), "properties": properties,
              "page": block_of(Page), "limited_data_use": plausible([True, False, None]),
              "app": block_of(App), "ad": block_of(Ad), "lead": block_of(Lead)})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item=events_strategy, region=st.sampled_from([None, "US", "GB", "XX"]), many=st.booleans())
def test_generated_events_match_the_models(item, region, many):
    assert_same_as_models(json.dumps(item), region, events=MANY if many else FEW)


# --- the envelope ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("envelope", [
    ("web", "CPIXEL1", None, None), ("app", " CPIXEL1 ", " TEST1 ", "Partner"), ("crm", "C1", "", "  "),
    ("offline", "C1", "é", None),
])
def test_the_envelope_prefix_is_the_models(envelope):
    source, source_id, test_code, partner = envelope
    expected = Envelope(event_source=source, event_source_id=source_id, test_event_code=test_code,
                        partner_name=partner).body_prefix()
    assert encode.envelope_prefix(*envelope) == expected
    body = expected + b'{"event":"Purchase","event_time":1700000000}]}'
    track = TrackRequest(event_source=source, event_source_id=source_id, test_event_code=test_code,
                         partner_name=partner, data=[event()])
    assert body == track.to_json()


@pytest.mark.parametrize("envelope", [("website", "C1"), ("web", "  "), ("web", None), ("web", 5), ("web", "C1", 7),
                                      ("web", "C1", "\ud800")])
def test_an_unusual_envelope_is_left_to_the_models(envelope):
    assert encode.envelope_prefix(*envelope) is None
    assert encode.envelope_header(*envelope) is None


@settings(max_examples=300, deadline=None)
@given(source=st.one_of(st.sampled_from(["web", "app", "offline", "crm", "website", ""]), st.none(), st.integers()),
       texts=st.lists(st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["  ", " C1 ", "\ud800"]),
                                st.integers(), st.booleans()), min_size=3, max_size=3))
def test_the_envelope_header_is_the_models_or_left_to_them(source, texts):
    # The receiver's envelope (sources/common/events.py envelope_for) in wire shape without the
    # models: exactly Envelope(...).header(), or None when the models must decide (and may refuse).
    header = encode.envelope_header(source, *texts)
    if header is None:
        return
    source_id, test_code, partner = texts
    assert header == Envelope(event_source=source, event_source_id=source_id, test_event_code=test_code,
                              partner_name=partner).header()
    assert list(header) == [name for name in Envelope.FIELDS if name in header]


# --- Python data: what the mappings validate (encode.wire_event) -------------------------------------
# The same rule for an event's fields as Python data: None, or exactly `Event(**data).wire()`
# (compared as JSON text too, so that 1 and 1.0 differ). The mappings build their events this way
# (sources/common/events.py mapped_event); `data` is never changed.


def wire_by_models(data: Any) -> dict[str, Any] | None:
    try:
        return Event(**data).wire()
    except pydantic.ValidationError:
        raise AssertionError("StrictModel raises EventValidationError, not pydantic's") from None
    except (ValueError, TypeError):  # EventValidationError; Event(**data) of a key that is not a str
        return None


def assert_wire_same_as_models(data: Any) -> bool:
    """The rule for Python data; True when the fast path took it."""
    before = copy.deepcopy(data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fast = encode.wire_event(data)
    assert caught == []  # never warns: the mapping says so in its own words
    assert data == before
    if fast is None:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecatedEventWarning)
        expected = wire_by_models(data)
    assert expected is not None, f"the fast path took data the models refuse: {data!r}"
    assert json.dumps(fast) == json.dumps(expected) and fast == expected, data
    return True


def test_realistic_python_events_take_the_fast_path_with_the_models_wire_shape():
    items = [json.loads(line) for line in generated_orders(300) + mapped_shopify_events()]
    assert [item for item in items if not assert_wire_same_as_models(item)] == []


def python_data(lines: list[str | bytes]) -> list[Any]:
    """The edge lines json.loads reads (it reads NaN, Infinity and lone surrogates too)."""
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except (ValueError, RecursionError):
            continue
    return out


@pytest.mark.parametrize("item", EDGE_EVENTS + python_data(EDGES))
def test_edges_of_every_rule_match_the_models_as_python_data(item):
    assert_wire_same_as_models(item)


class Colour(enum.IntEnum):
    RED = 1


class Size(str, enum.Enum):
    S = "s"


PYTHON_ONLY = [
    # what json.loads never gives: declined (the models decide, as before)
    event(properties={"value": decimal.Decimal("1.5")}), event(properties={"contents": ({"price": 1.0},)}),
    event(properties={"value": 1, "tags": ("a", "b")}), event(properties={"value": 1, 7: "x"}),
    event(properties={"value": 1, "colour": Colour.RED}), event(properties={"value": 1, "size": Size.S}),
    event(properties={"value": 1, "sizes": [Size.S]}), event(user={"email": ("a@b.co",)}),
    event(event_time=datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC)),
    event(event_time=datetime.datetime(2024, 5, 1)), event(event_time=float("nan")), event(event_time=1e300),
    event(properties={"value": float("inf")}), event(properties={"value": 1, "x": float("nan")}),
    event(properties={"value": 1, "x": [float("-inf")]}), event(properties={"contents": [{"quantity": float("inf")}]}),
    event(page={"url": b"https://x.example/"}), event(event=b"Purchase"), event(event_id=b"e1"),
    # text with lone surrogates (json.loads gives them for \ud800 escapes): taken, as the models take it
    event(page={"url": "\ud800"}), event(properties={"value": 1, "contents": [{"content_name": "a\udc00"}]}),
    event(user={"email": "\ud800@example.com"}), event(event="Custom\ud800"),
]


@pytest.mark.parametrize("item", PYTHON_ONLY)
def test_python_only_values_are_declined_or_match_the_models(item):
    assert_wire_same_as_models(item)


def test_lone_surrogates_in_text_take_the_fast_path():
    assert assert_wire_same_as_models(event(page={"url": "\ud800"}))


python_values = st.one_of(values, st.tuples(scalars), st.decimals(allow_nan=False, places=2),
                          st.sampled_from([float("nan"), float("inf"), Colour.RED, Size.S, b"x", "\ud800"]))


def python_plausible(pool: list[Any]) -> st.SearchStrategy:
    return st.integers(min_value=0, max_value=7).flatmap(lambda k: python_values if k == 7 else st.sampled_from(pool))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item=events_strategy)
def test_generated_python_events_match_the_models(item):
    assert_wire_same_as_models(item)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item=events_strategy, field=st.sampled_from(["event", "event_time", "event_id", "limited_data_use"]),
       value=python_plausible([None]), block=st.sampled_from(["user", "properties", "page"]), key=st.text(max_size=8),
       nested=python_plausible([None]))
def test_generated_events_with_python_only_values_match_the_models(item, field, value, block, key, nested):
    item = {**item, field: value}
    if isinstance(item.get(block), dict):
        item[block] = {**item[block], key: nested}
    assert_wire_same_as_models(item)


def corpus_payloads() -> list[tuple[str, Any]]:
    """(topic, payload) of the real Shopify payloads, under every topic, and of the hostile corpus."""
    from tests.fixtures.hostile_corpus import CASES, WEBHOOK_SECRET

    out = []
    paths = sorted((FIXTURES / "shopify").glob("*.json")) + sorted((FIXTURES / "shopify" / "realworld").glob("*.json"))
    for path in paths:
        payload = json.loads(path.read_bytes())
        out += [(topic, payload) for topic in ("orders/paid", "checkouts/create", "carts/update", "customers/create",
                                               "refunds/create")]
    for case in CASES:
        delivered = case.build(WEBHOOK_SECRET)
        topic = {k.lower(): v for k, v in (delivered.get("headers") or {}).items()}.get("x-shopify-topic")
        try:
            payload = json.loads(base64.b64decode(delivered["body"]) if delivered.get("isBase64Encoded")
                                 else delivered["body"])
        except (TypeError, ValueError, RecursionError):
            continue
        if isinstance(payload, dict) and isinstance(topic, str):
            out.append((topic, payload))
    return out


def test_mapped_payloads_hold_the_wire_shape_the_models_give():
    """What the mappings queue (MappingResult.wire_events, not built by the models) is what the
    models give for the same fields (MappingResult.events), on real and hostile payloads."""
    from tiktok_relay.sources.shopify.mapping import map_webhook
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    compared = 0
    for topic, payload in corpus_payloads():
        result = map_webhook(topic, payload, "shop.myshopify.com", ShopifySettings(), now=T)
        wire = copy.deepcopy(result.wire_events)
        models = [e.wire() for e in result.events]
        assert json.dumps(wire) == json.dumps(models), topic
        assert result.wire_events == wire  # building the models changed nothing
        compared += len(wire)
    assert compared > 75
