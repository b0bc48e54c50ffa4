"""Property-based tests (hypothesis).

1. Whatever string (or JSON-like value) lands in any user/properties/contents field, the only
   exception that can come out is the library's EventValidationError.
2. The serialized request never contains a raw identifier (email, phone, external_id, names,
   zip), neither as given nor in its normalized form.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tiktok_relay.errors import EventValidationError
from tiktok_relay.tiktok.models import Content, Event, Properties, TrackRequest, User

T = 1_700_000_000
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

USER_FIELDS = sorted(User.model_fields)
PROPERTY_FIELDS = sorted(Properties.model_fields)
CONTENT_FIELDS = sorted(Content.model_fields)

# Strings that look like the real thing, plus anything at all.
phoneish = st.from_regex(r"\+?[0-9 ()./x-]{0,22}", fullmatch=True)
emailish = st.from_regex(r"[ A-Za-z0-9._%+-]{0,12}@?[A-Za-z0-9.-]{0,12}", fullmatch=True)
hexish = st.from_regex(r"[0-9a-fA-F]{62,66}", fullmatch=True)
numberish = st.from_regex(r" ?-?[0-9]{0,12}([.,][0-9]{0,4})?(e[0-9]{1,3})? ?", fullmatch=True)
dateish = st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?(Z|[+-][0-9]{2}:?[0-9]{2})?", fullmatch=True)
# Parser edge cases live in short strings made of syntax characters and odd digits ('²', Arabic-Indic).
syntaxish = st.text(alphabet="0123456789abcdefABCDEFxX:.,+-@()/# \t²٣０", max_size=40)
ipish = st.from_regex(r"[0-9a-fA-F]{0,4}(:{1,2}[0-9a-fA-F]{0,4}){0,7}(:[0-9]{1,3}(\.[0-9]{1,3}){3})?|[0-9]{1,3}(\.[0-9]{1,4}){0,4}", fullmatch=True)
any_text = st.one_of(st.text(max_size=40), syntaxish, phoneish, emailish, hexish, numberish, dateish, ipish)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), any_text)
json_values = st.one_of(json_scalars, st.lists(json_scalars, max_size=4), st.dictionaries(st.text(max_size=8), json_scalars, max_size=3))


def only_library_error(build) -> None:
    try:
        build()
    except EventValidationError:
        pass  # the one allowed failure


@FAST
@given(value=any_text, region=st.one_of(st.none(), any_text, st.sampled_from(["US", "GB", "IT"])))
def test_any_string_in_every_user_field_raises_only_the_library_error(value, region):
    # Every field gets the value in one go: pydantic runs each field's validator and collects
    # the errors, so one example exercises all of them.
    only_library_error(lambda: Event.model_validate(
        {"event": "Purchase", "event_time": T, "user": {field: value for field in USER_FIELDS}},
        context={"phone_region": region}))
    only_library_error(lambda: Event.model_validate(
        {"event": "Purchase", "event_time": T, "user": {"phone": value, "country": value}}, context={"phone_region": region}))


@FAST
@given(field=st.sampled_from(["email", "phone", "external_id"]), values=st.lists(any_text, max_size=5))
def test_any_list_of_strings_in_a_list_field_raises_only_the_library_error(field, values):
    only_library_error(lambda: User(**{field: values}))


@FAST
@given(value=any_text)
def test_any_string_in_every_properties_and_contents_field_raises_only_the_library_error(value):
    properties = {field: value for field in PROPERTY_FIELDS if field != "contents"}
    properties["contents"] = [{field: value for field in CONTENT_FIELDS}]
    only_library_error(lambda: Event(event="Purchase", event_time=T, properties=properties))
    only_library_error(lambda: Event(event="Purchase", event_time=T, properties={"contents": value}))


@FAST
@given(
    block=st.sampled_from(["user", "properties"]),
    values=st.dictionaries(st.sampled_from(USER_FIELDS + PROPERTY_FIELDS + ["valeu", "emial"]), json_values, max_size=6),
)
def test_any_json_value_anywhere_raises_only_the_library_error(block, values):
    only_library_error(lambda: Event(event="Purchase", event_time=T, **{block: values}))


@FAST
@given(event_name=any_text, event_time=st.one_of(any_text, st.integers(), st.floats()), event_id=json_scalars)
def test_any_envelope_value_raises_only_the_library_error(event_name, event_time, event_id):
    only_library_error(lambda: Event(event=event_name, event_time=event_time, event_id=event_id))


@FAST
@given(value=any_text)
def test_the_json_path_used_by_the_cli_raises_only_the_library_error(value):
    line = json.dumps({"event": "Purchase", "event_time": T, "event_id": value,
                       "user": {field: value for field in USER_FIELDS},
                       "properties": {field: value for field in PROPERTY_FIELDS}})
    only_library_error(lambda: Event.model_validate_json(line, context={"phone_region": "US"}))


# --- raw identifiers never reach the wire ---------------------------------------------------------

NON_HEX = re.compile(r"[^0-9a-f]")

first_names = st.sampled_from(["Margaret", "José", "Zoë", "Łukasz", "Siobhán", "Thandiwe", "Yuki", "Oluwaseun",
                               "Mary-Jane", "Jean Luc", "Nguyễn", "Ingrid", "Priyanka", "Wojciech", "Ximena"])
last_names = st.sampled_from(["Hamilton", "O'Brien", "van der Berg", "García Márquez", "Müller", "Kowalski",
                              "Okonkwo", "Tanaka", "Smith-Jones", "Nakamura", "Fitzgerald", "Rossi", "Dubois"])
domains = st.sampled_from(["gmail.com", "example.org", "Yahoo.co.uk", "outlook.fr", "mail.example.co.jp"])
local_parts = st.from_regex(r"[a-zA-Z][a-zA-Z0-9._+-]{4,18}[a-zA-Z0-9]", fullmatch=True)


@st.composite
def emails(draw):
    local = draw(local_parts)
    spaced = draw(st.sampled_from(["{}", " {} ", "{}\t"]))
    return spaced.format(f"{local}@{draw(domains)}")


def _valid(phone: tuple[str, str | None]) -> bool:
    """Only numbers libphonenumber calls valid are hashed (others are refused, nothing to leak)."""
    import phonenumbers

    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(*phone))
    except phonenumbers.NumberParseException:
        return False


@st.composite
def _phones(draw):
    kind = draw(st.sampled_from(["us", "gb", "fr", "de", "intl_us"]))
    d = lambda n: "".join(str(draw(st.integers(0, 9))) for _ in range(n))  # noqa: E731
    if kind == "us":
        return f"({draw(st.integers(201, 989))}) {draw(st.integers(200, 999))}-{d(4)}", "US"
    if kind == "intl_us":
        return f"+1 {draw(st.integers(201, 989))}-{draw(st.integers(200, 999))}-{d(4)}", None
    if kind == "gb":
        return f"07{draw(st.integers(100, 999))} {d(6)}", "GB"
    if kind == "fr":
        return f"06 {d(2)} {d(2)} {d(2)} {d(2)}", "FR"
    return f"+49 151 {d(8)}", None


def phones():
    return _phones().filter(_valid)


external_ids = st.from_regex(r"(cust|user|shopify)[_:-][A-Za-z0-9]{6,14}", fullmatch=True)
zips = st.one_of(
    st.from_regex(r"[0-9]{5}-[0-9]{4}", fullmatch=True),
    st.from_regex(r"[G-Z]{1,2}[0-9]{1,2}[G-Z]? [0-9][G-Z]{2}", fullmatch=True),
)


def forms(raw: str) -> set[str]:
    """The raw value, and simple normal forms a careless client might send instead of a hash."""
    out = {raw, raw.strip(), raw.strip().lower()}
    squashed = re.sub(r"[\s\-'.()]", "", raw.strip().lower())
    out.add(squashed)
    digits = re.sub(r"\D", "", raw)
    if len(digits) >= 9:
        out.add(digits)
    # A short all-hex form could turn up inside a hash by chance; only keep distinctive forms.
    return {f for f in out if f and (NON_HEX.search(f) or len(f) >= 9)}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    email=st.lists(emails(), min_size=1, max_size=3),
    phone=phones(),
    external_id=external_ids,
    first_name=first_names,
    last_name=last_names,
    zip_code=zips,
)
def test_serialized_request_never_contains_a_raw_identifier(email, phone, external_id, first_name, last_name, zip_code):
    phone_text, region = phone
    user = {"email": email, "phone": phone_text, "external_id": external_id, "first_name": first_name,
            "last_name": last_name, "zip_code": zip_code}
    if region:
        user["phone_region"] = region
    request = TrackRequest(event_source="web", event_source_id="PIXEL01", data=[
        {"event": "Purchase", "event_time": T, "event_id": "order-1", "user": user, "properties": {"value": 1}}])
    raw = request.to_json()
    text = raw.decode("utf-8")
    escaped = json.dumps(json.loads(raw))  # \\u escapes, in case a form hides that way
    # Everything that is not the user block (event_time, ids, value...) is not derived from the
    # identifiers: a form that happens to occur there (zip 70000 in 1700000000) proves nothing.
    parsed = json.loads(raw)
    skeleton = json.dumps({**parsed, "data": [{k: v for k, v in parsed["data"][0].items() if k != "user"}]})
    sent_user = json.loads(raw)["data"][0]["user"]
    # Everything hashed came out as 64 lowercase hex.
    for name in ("email", "phone", "external_id"):
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in sent_user[name])
    for name in ("first_name", "last_name", "zip_code"):
        assert re.fullmatch(r"[0-9a-f]{64}", sent_user[name])
    values = [*email, phone_text, external_id, first_name, last_name, zip_code]
    for value in values:
        for form in forms(value):
            assume(form not in skeleton)
            assert form not in text
            assert form not in escaped
    assert "phone_region" not in text


@FAST
@given(value=st.one_of(emails(), external_ids, first_names, zips))
def test_repr_of_a_user_never_contains_the_raw_identifier(value):
    for field in ("external_id", "first_name", "zip_code") + (("email",) if "@" in value else ()):
        user = User(**{field: value})
        for form in forms(value):
            assert form not in repr(user)


@pytest.mark.parametrize("field", ["email", "phone", "external_id", "first_name", "last_name", "zip_code"])
def test_generated_field_lists_are_not_empty(field):
    # Guards the property tests above: they sample from the model's own field lists.
    assert field in USER_FIELDS
    assert "value" in PROPERTY_FIELDS and "price" in CONTENT_FIELDS
