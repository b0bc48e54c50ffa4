"""Events API 2.0 models: event names, times, ids, money, sizes, unknown fields, and errors that
are the library's own and never carry the raw value."""

from __future__ import annotations

import json
import traceback
from datetime import UTC, datetime, timedelta, timezone

import pydantic
import pytest

from tiktok_relay.errors import EventValidationError, TikTokRelayError
from tiktok_relay.tiktok.models import (
    LEGACY_EVENTS,
    LEGACY_RENAMES,
    MAX_EVENTS_PER_REQUEST,
    STANDARD_EVENTS,
    Content,
    Event,
    Properties,
    TrackRequest,
    User,
)

T = 1_700_000_000  # 2023-11-14T22:13:20Z


def event(**fields) -> Event:
    return Event(**{"event": "Purchase", "event_time": T, **fields})


def problems(exc_info) -> list[str]:
    return [p.loc for p in exc_info.value.problems]


# --- event names ---------------------------------------------------------------------------------

EIGHTEEN = [
    "AddPaymentInfo", "AddToCart", "AddToWishlist", "ApplicationApproval", "CompleteRegistration", "Contact",
    "CustomizeProduct", "Download", "FindLocation", "InitiateCheckout", "Lead", "Purchase", "Schedule", "Search",
    "StartTrial", "SubmitApplication", "Subscribe", "ViewContent",
]
LEGACY = ["CompletePayment", "PlaceAnOrder", "SubmitForm", "ClickButton"]


def test_the_standard_and_legacy_lists_match_the_reference():
    assert len(EIGHTEEN) == 18
    assert STANDARD_EVENTS == set(EIGHTEEN)
    assert LEGACY_EVENTS == set(LEGACY)


@pytest.mark.parametrize("name", EIGHTEEN + LEGACY)
def test_standard_and_legacy_names_are_accepted(name):
    import warnings

    from tiktok_relay.errors import DeprecatedEventWarning

    with warnings.catch_warnings(record=True) as caught:  # the soft-deprecated ones say so
        warnings.simplefilter("always")
        built = Event(event=name, event_time=T)
    deprecated = [w for w in caught if issubclass(w.category, DeprecatedEventWarning)]
    assert len(deprecated) == (name in ("PlaceAnOrder", "ClickButton"))
    assert built.event == name
    assert built.is_standard
    assert built.wire() == {"event": name, "event_time": T}


@pytest.mark.parametrize("name", ["MyCustomEvent", "Pageview", "PageView", "newsletter_signup", "Wishlist Shared"])
def test_custom_names_are_accepted_as_given(name):
    built = Event(event=name, event_time=T)
    assert built.event == name
    assert not built.is_standard


@pytest.mark.parametrize(
    "wrong, right",
    [("purchase", "Purchase"), ("PURCHASE", "Purchase"), ("addToCart", "AddToCart"), ("viewcontent", "ViewContent"),
     ("completepayment", "CompletePayment"), ("Starttrial", "StartTrial")],
)
def test_wrong_case_standard_name_is_an_error_that_suggests_the_right_one(wrong, right):
    with pytest.raises(EventValidationError) as caught:
        Event(event=wrong, event_time=T)
    assert problems(caught) == ["event"]
    assert right in str(caught.value)


@pytest.mark.parametrize("name", ["", "   ", None, 42, ["Purchase"]])
def test_missing_or_non_string_event_name_is_an_error(name):
    with pytest.raises(EventValidationError) as caught:
        Event(event=name, event_time=T)
    assert problems(caught) == ["event"]


def test_event_name_is_trimmed():
    assert Event(event="  Purchase ", event_time=T).event == "Purchase"


# --- event_time ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        T,
        str(T),
        f" {T} ",
        float(T),
        T + 0.9,  # fractions of a second are dropped, never rounded up
        datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC),
        datetime(2023, 11, 15, 0, 13, 20, tzinfo=timezone(timedelta(hours=2))),
        datetime(2023, 11, 14, 17, 13, 20, tzinfo=timezone(timedelta(hours=-5))),
        "2023-11-14T22:13:20Z",
        "2023-11-14T22:13:20+00:00",
        "2023-11-14T23:13:20+01:00",
        "2023-11-14T22:13:20.750Z",
    ],
)
def test_event_time_from_int_datetime_or_iso_string(given):
    assert Event(event="Purchase", event_time=given).event_time == T
    assert json.loads(TrackRequest(event_source="web", event_source_id="P", data=[
        {"event": "Purchase", "event_time": given}]).to_json())["data"][0]["event_time"] == T


@pytest.mark.parametrize(
    "given, fragment",
    [
        (datetime(2023, 11, 14, 22, 13, 20), "timezone"),
        ("2023-11-14T22:13:20", "timezone"),
        (T * 1000, "milliseconds"),
        (str(T * 1000), "milliseconds"),
        (T * 1000 + 123, "milliseconds"),
        ("last tuesday", "ISO 8601"),
        ("", "ISO 8601"),
        (True, "unix seconds"),
        (12, "plausible"),
        (-T, "plausible"),
        ("0001-01-01T00:00:00+01:00", "plausible"),
        ("1970-01-01T00:00:00Z", "plausible"),
        (float("nan"), ""),
        (None, ""),
        ([T], ""),
    ],
)
def test_bad_event_time_is_an_error(given, fragment):
    with pytest.raises(EventValidationError) as caught:
        Event(event="Purchase", event_time=given)
    assert problems(caught) == ["event_time"]
    assert fragment in str(caught.value)


def test_event_time_error_never_echoes_the_input():
    # int('²') would say "invalid literal for int() with base 10: '²'".
    for weird in ("²³⁴", "1700000000²", "٣"):
        with pytest.raises(EventValidationError) as caught:
            Event(event="Purchase", event_time=weird)
        assert weird not in str(caught.value)


def test_event_time_is_required():
    with pytest.raises(EventValidationError) as caught:
        Event(event="Purchase")
    assert problems(caught) == ["event_time"]


# --- ids are strings, money is numbers --------------------------------------------------------------

BIG = 2**64 + 1  # far beyond 2^53: a float would lose it


@pytest.mark.parametrize("given, wire", [(12345, "12345"), ("order-1", "order-1"), (" a1 ", "a1"), (BIG, str(BIG)),
                                         (2**53 + 1, "9007199254740993")])
def test_ids_are_strings_on_the_wire(given, wire):
    built = event(
        event_id=given,
        properties={"order_id": given, "shop_id": given, "content_ids": [given],
                    "contents": [{"content_id": given, "price": 1, "quantity": 1}]},
        lead={"lead_id": given},
        app={"app_id": given},
        ad={"campaign_id": given, "ad_id": given, "creative_id": given},
    )
    out = json.loads(built.model_dump_json(exclude_none=True))
    assert out["event_id"] == wire
    props = out["properties"]
    assert props["order_id"] == props["shop_id"] == props["contents"][0]["content_id"] == wire
    assert props["content_ids"] == [wire]
    assert out["lead"]["lead_id"] == out["app"]["app_id"] == wire
    assert out["ad"]["campaign_id"] == out["ad"]["ad_id"] == out["ad"]["creative_id"] == wire


def test_big_int_ids_stay_exact_through_json_input():
    line = ('{"event":"Purchase","event_time":1700000000,"event_id":18446744073709551617,'
            '"properties":{"order_id":9007199254740993,"contents":[{"content_id":9007199254740993}]}}')
    built = Event.model_validate_json(line)
    raw = TrackRequest(event_source="web", event_source_id="P", data=[built]).to_json()
    assert b'"event_id":"18446744073709551617"' in raw
    assert b'"order_id":"9007199254740993"' in raw
    assert b'"content_id":"9007199254740993"' in raw


@pytest.mark.parametrize("bad", [1.5, True, {"id": 1}])
def test_non_integral_ids_are_errors(bad):
    with pytest.raises(EventValidationError) as caught:
        event(event_id=bad)
    assert problems(caught) == ["event_id"]


def test_money_and_quantities_are_numbers_on_the_wire():
    built = event(properties={
        "value": "129.90", "currency": "usd", "num_items": 3, "predicted_ltv": 10,
        "contents": [{"content_id": "a", "price": "19.99", "quantity": 2}, {"content_id": "b", "price": 90, "quantity": "1"}],
    })
    props = json.loads(built.model_dump_json(exclude_none=True))["properties"]
    assert props["value"] == 129.9 and isinstance(props["value"], float)
    assert props["currency"] == "USD"
    assert props["num_items"] == 3 and isinstance(props["num_items"], int)
    assert props["predicted_ltv"] == 10
    assert [c["price"] for c in props["contents"]] == [19.99, 90]
    assert [c["quantity"] for c in props["contents"]] == [2, 1]
    assert all(isinstance(c["quantity"], int) for c in props["contents"])


def test_zero_value_and_zero_price_are_kept():
    built = event(properties={"value": 0, "currency": "EUR", "contents": [{"content_id": "free-gift", "price": 0, "quantity": 1}]})
    props = json.loads(built.model_dump_json(exclude_none=True))["properties"]
    assert props["value"] == 0
    assert props["contents"][0]["price"] == 0
    assert props["contents"][0]["quantity"] == 1


def test_zero_quantity_is_allowed():
    assert event(properties={"contents": [{"content_id": "x", "quantity": 0}]}).properties.contents[0].quantity == 0


def test_duplicate_contents_are_allowed():
    item = {"content_id": "sku-1", "price": 10, "quantity": 1, "content_name": "Socks"}
    props = event(properties={"contents": [item, item, dict(item)]}).wire()["properties"]
    assert len(props["contents"]) == 3
    assert props["contents"][0] == props["contents"][1] == props["contents"][2]


@pytest.mark.parametrize(
    "props, loc",
    [
        ({"value": -1}, "properties.value"),
        ({"value": "12,50"}, "properties.value"),
        ({"value": "$12"}, "properties.value"),
        ({"value": "nan"}, "properties.value"),
        ({"value": "inf"}, "properties.value"),
        ({"value": float("inf")}, "properties.value"),
        ({"currency": "dollars"}, "properties.currency"),
        ({"currency": "US"}, "properties.currency"),
        ({"contents": [{"price": -0.01}]}, "properties.contents.0.price"),
        ({"contents": [{"quantity": "two"}]}, "properties.contents.0.quantity"),
        ({"contents": [{"quantity": -1}]}, "properties.contents.0.quantity"),
        ({"contents": "sku-1"}, "properties.contents"),
        ({"content_type": "products"}, "properties.content_type"),
        ({"delivery_category": "drone"}, "properties.delivery_category"),
        ({"num_items": "three"}, "properties.num_items"),
    ],
)
def test_bad_property_values_are_errors_naming_the_field(props, loc):
    with pytest.raises(EventValidationError) as caught:
        event(properties=props)
    assert problems(caught) == [loc]


def test_content_type_is_sent_at_properties_level_and_in_each_item():
    props = event(properties={"content_type": "product", "contents": [{"content_id": "a"}, {"content_id": "b", "content_type": "product_group"}]}).wire()["properties"]
    assert props["content_type"] == "product"
    assert [c["content_type"] for c in props["contents"]] == ["product", "product_group"]


# --- empty objects, request envelope ----------------------------------------------------------------


def test_empty_blocks_are_left_out():
    built = event(user={"email": ""}, properties={"contents": []}, page={}, lead={}, ad={})
    assert built.wire() == {"event": "Purchase", "event_time": T}


def test_limited_data_use_false_is_kept():
    assert event(limited_data_use=False).wire()["limited_data_use"] is False


def test_test_event_code_only_at_the_top_level():
    with pytest.raises(EventValidationError) as caught:
        event(test_event_code="TEST123")
    assert problems(caught) == ["test_event_code"]
    request = TrackRequest(event_source="web", event_source_id="PIXEL", test_event_code=" TEST123 ", data=[event()])
    body = json.loads(request.to_json())
    assert body["test_event_code"] == "TEST123"
    assert all("test_event_code" not in item for item in body["data"])


def test_blank_test_event_code_is_left_out():
    body = json.loads(TrackRequest(event_source="web", event_source_id="PIXEL", test_event_code="  ", data=[event()]).to_json())
    assert "test_event_code" not in body


@pytest.mark.parametrize("size", [1, 2, MAX_EVENTS_PER_REQUEST])
def test_data_holds_1_to_1000_events(size):
    request = TrackRequest(event_source="web", event_source_id="PIXEL", data=[event(event_id=str(i)) for i in range(size)])
    assert len(json.loads(request.to_json())["data"]) == size


@pytest.mark.parametrize("size", [0, MAX_EVENTS_PER_REQUEST + 1])
def test_data_outside_1_to_1000_is_an_error(size):
    with pytest.raises(EventValidationError) as caught:
        TrackRequest(event_source="web", event_source_id="PIXEL", data=[event() for _ in range(size)])
    assert problems(caught) == ["data"]


def test_max_is_1000():
    assert MAX_EVENTS_PER_REQUEST == 1000


@pytest.mark.parametrize(
    "override, loc",
    [
        ({"event_source": "website"}, "event_source"),
        ({"event_source": None}, "event_source"),
        ({"event_source_id": ""}, "event_source_id"),
        ({"event_source_id": "   "}, "event_source_id"),
        ({"event_source_id": 123}, "event_source_id"),
    ],
)
def test_bad_envelope_is_an_error(override, loc):
    with pytest.raises(EventValidationError) as caught:
        TrackRequest(**{"event_source": "web", "event_source_id": "PIXEL", "data": [event()], **override})
    assert problems(caught) == [loc]


@pytest.mark.parametrize("source", ["web", "app", "offline", "crm"])
def test_every_event_source_is_accepted(source):
    assert json.loads(TrackRequest(event_source=source, event_source_id="ID", data=[event()]).to_json())["event_source"] == source


# --- unknown fields and the error type ----------------------------------------------------------------


@pytest.mark.parametrize(
    "build, loc",
    [
        (lambda: event(valeu=3), "valeu"),
        (lambda: event(user={"emial": "jane@example.com"}), "user.emial"),
        (lambda: event(page={"url": "https://x.example", "title": "Home"}), "page.title"),
        (lambda: event(device={"os": "iOS"}), "device.os"),
        (lambda: TrackRequest(event_source="web", event_source_id="P",
                              data=[{"event": "Purchase", "event_time": T}, {"event": "Purchase", "event_time": T, "valeu": 1}]),
         "data.1.valeu"),
        (lambda: User(emial="a@b.co"), "emial"),
    ],
)
def test_unknown_field_is_an_error_naming_it(build, loc):
    with pytest.raises(EventValidationError) as caught:
        build()
    assert problems(caught) == [loc]
    assert f"{loc}: unknown field" in str(caught.value)
    assert "Events API 1.0" not in str(caught.value)  # no rename is suggested for a mere typo


@pytest.mark.parametrize(
    "build, loc, new",
    [
        (lambda: event(timestamp="2023-01-01T00:00:00Z"), "timestamp", "event_time"),
        (lambda: event(user={"phone_number": "+14155552671"}), "user.phone_number", "phone"),
        (lambda: event(phone_number="+14155552671"), "phone_number", "user.phone"),
        (lambda: event(context={"ip": "1.2.3.4"}), "context", "user and page"),
        (lambda: event(ip="1.2.3.4"), "ip", "user.ip"),
        (lambda: event(callback="E.C.P.x"), "callback", "user.ttclid"),
        (lambda: event(user={"callback": "E.C.P.x"}), "user.callback", "ttclid"),
        (lambda: event(pixel_code="P"), "pixel_code", "event_source_id (of the request)"),
        (lambda: TrackRequest(event_source="web", event_source_id="P", pixel_code="P", data=[event()]), "pixel_code",
         "event_source_id"),
        (lambda: TrackRequest(event_source="web", event_source_id="P",
                              data=[{"event": "Purchase", "event_time": T, "timestamp": 1}]), "data.0.timestamp", "event_time"),
        (lambda: Event.model_validate_json('{"event": "Purchase", "event_time": 1700000000, "timestamp": 1}'), "timestamp",
         "event_time"),
    ],
)
def test_an_events_api_1_name_is_an_error_that_gives_its_2_0_name(build, loc, new):
    with pytest.raises(EventValidationError) as caught:
        build()
    assert problems(caught) == [loc]
    assert f"{loc}: unknown field" in str(caught.value)
    assert f"Events API 2.0 calls it {new} (this is an Events API 1.0 name)" in str(caught.value)


def test_the_rename_table_names_blocks_the_hint_can_reach():
    assert set(LEGACY_RENAMES) == {"request", "event", "user", "page"}
    assert LEGACY_RENAMES["event"]["timestamp"] == "event_time"
    assert LEGACY_RENAMES["user"]["phone_number"] == "phone"


def test_validation_error_is_the_librarys_own_type():
    with pytest.raises(Exception) as caught:
        event(valeu=3)
    exc = caught.value
    assert type(exc) is EventValidationError
    assert isinstance(exc, TikTokRelayError)
    assert not isinstance(exc, pydantic.ValidationError)
    assert exc.__cause__ is None and exc.__suppress_context__


@pytest.mark.parametrize(
    "call",
    [
        lambda: Event.model_validate({"event": "Purchase", "event_time": "x"}),
        lambda: Event.model_validate_json('{"event": "Purchase"'),
        lambda: Event.model_validate_json('{"event": "Purchase", "event_time": 1700000000, "user": {"ip": "x"}}'),
        lambda: TrackRequest.model_validate({"event_source": "web"}),
        lambda: User(email=["a@b.co", 3.5]),
    ],
)
def test_every_entry_point_raises_the_librarys_error(call):
    with pytest.raises(EventValidationError):
        call()


def test_all_problems_are_reported_at_once():
    with pytest.raises(EventValidationError) as caught:
        Event(event="purchase", event_time="soon", user={"ip": "nope", "email": "nope"}, page={"valeu": 1})
    assert sorted(problems(caught)) == sorted(["event", "event_time", "user.ip", "user.email", "page.valeu"])


RAW_EMAIL = "margaret.hamilton.private@example.org"
RAW_PHONE = "+1 (617) 555-0142 call after 5"
RAW_NAME = "Margaret Heafield"


@pytest.mark.parametrize(
    "build",
    [
        lambda: User(email=RAW_EMAIL.replace("@", " at ")),
        lambda: User(email=[RAW_EMAIL, "not-an-address"]),
        lambda: User(phone=RAW_PHONE),
        lambda: User(phone="(617) 555-0142"),
        lambda: User(first_name=[RAW_NAME]),
        lambda: User(last_name={"name": RAW_NAME}),
        lambda: User(zip_code=["02139-4307"]),
        lambda: User(emial=RAW_EMAIL),
        lambda: User(email=RAW_EMAIL, phone=RAW_PHONE, first_name=RAW_NAME, ip="10.0.0.300"),
        lambda: Event.model_validate_json(
            '{"event":"Purchase","event_time":"soon","user":{"email":"%s","phone":"%s","firstname":"%s"}}'
            % (RAW_EMAIL, RAW_PHONE, RAW_NAME)),
        lambda: Properties(description=RAW_NAME, note=RAW_EMAIL),
        lambda: Properties(description=RAW_NAME, note=["ok", "+1 (617) 555-0142"]),
        lambda: Properties(**{RAW_EMAIL: 1}),
        lambda: Content(content_name=RAW_NAME, buyer="Margaret Heafield <margaret.hamilton.private@example.org>"),
    ],
)
def test_errors_never_contain_the_raw_value(build):
    with pytest.raises(EventValidationError) as caught:
        build()
    exc = caught.value
    texts = [str(exc), repr(exc), repr(exc.problems), "".join(traceback.format_exception_only(type(exc), exc))]
    for text in texts:
        for raw in (RAW_EMAIL, "margaret", "Margaret", "555-0142", "5550142", "Heafield", "02139", "10.0.0.300"):
            assert raw not in text


def test_reprs_never_contain_the_raw_value():
    built = Event(
        event="Purchase", event_time=T,
        user={"email": RAW_EMAIL, "phone": "+1 617 253 1000", "first_name": RAW_NAME, "last_name": "Hamilton",
              "external_id": "cust-margaret-77", "zip_code": "02139-4307"},
    )
    request = TrackRequest(event_source="web", event_source_id="P", data=[built])
    for text in (repr(built), str(built), repr(built.user), repr(request), built.model_dump_json(), request.to_json().decode()):
        for raw in (RAW_EMAIL, "margaret", "Margaret", "Hamilton", "hamilton", "617", "0142", "Heafield", "02139", "cust-"):
            assert raw not in text


@pytest.mark.parametrize("field", ["value", "price", "quantity", "num_items"])
def test_booleans_are_not_numbers(field):
    """pydantic's lax mode would read true as 1: silently corrupt money or counts."""
    from tiktok_relay.errors import EventValidationError

    properties = {"contents": [{"price": True}]} if field == "price" else \
        {"contents": [{"quantity": True}]} if field == "quantity" else {field: True}
    with pytest.raises(EventValidationError, match="boolean|must be a number"):
        Event(event="Purchase", event_time=1_704_721_970, properties=properties)
