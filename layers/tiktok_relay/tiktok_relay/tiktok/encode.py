"""One `data[]` item (a line of JSON) to its wire JSON, without pydantic, for input in the usual shape.

`event_encoder(phone_region)` gives a function that turns a line into exactly the bytes the
models give for it (`Event.model_validate_json(line, context={"phone_region": ...})`, then the
event serialized without nulls, as `TrackRequest.to_json()` writes it), or None for anything it
is not sure of: a line that is not plain JSON, a field or type it does not know, a value some
rule refuses, a number json.dumps and pydantic-core would write differently. None hands the line
to the models, which give the result or the errors; so a line this path accepts is one the
models accept, with the same bytes. It applies the models' own rules (tiktok/fields.py,
tiktok/normalize.py) and checks the types pydantic checks after them;
tests/unit/test_encode_fast_path.py holds the two paths together on the test corpus, hostile
values and generated events.

Why: importing pydantic and building the models take ~150 ms before the first event, several
times what the rest of a one-event `build` takes; per event this path costs less than the models
(README "Performance").
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from tiktok_relay.tiktok import fields, normalize
from tiktok_relay.tiktok.fields import MAX_AMOUNT, MAX_COUNT

# Below 1e-4 json.dumps writes 1e-05 where pydantic-core writes 0.00001; from there up (and 0)
# both write the shortest repr, checked over a million random doubles. Such a number takes the
# models' path.
_SMALLEST_SAME_FLOAT = 1e-4
# pydantic-core turns an int into a float exactly up to here (beyond, leave it to the models).
_EXACT_INT_AS_FLOAT = 2**53
# A \uD800-\uDFFF escape: pydantic's JSON parser refuses a lone surrogate, json.loads does not.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class _Decline(Exception):
    """Not for this path: the models decide."""


def _refuse_constant(name: str) -> Any:
    raise _Decline  # NaN, Infinity, -Infinity: not JSON, and pydantic refuses them


# A custom parameter's value (or item) as JSON reads it: float is checked on its own.
_JSON_SCALARS = (str, int, bool)

_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
# What the rules raise for a value they refuse (ValueError, as do both JSON readers for what is not
# JSON), and what odd input makes anything raise (a missing required field, a dict where a str
# belongs, JSON nested too deep).
_NOT_MINE = (_Decline, ValueError, TypeError, LookupError, ArithmeticError, RecursionError)


# From this many events on, the JSON is read and written by pydantic-core (what the models use):
# ~6 us an event (a 1-3 item order) rather than json's ~25, but importing it costs ~20 ms.
MANY_EVENTS = 1000

Encoded = tuple["str | None", bytes]  # an event's event_id and its wire JSON


def event_encoder(phone_region: str | None = None, *, events: int = 1) -> Callable[[str | bytes], Encoded | None]:
    """A function from one data[] item to (event_id, wire JSON), or None: the models' business.
    `events`: how many lines are coming (MANY_EVENTS or more: pydantic-core's JSON)."""
    loads: Callable[[str | bytes], Any] = _stdlib_loads
    dumps: Callable[[dict[str, Any]], bytes] = _stdlib_dumps
    if events >= MANY_EVENTS:
        import pydantic_core

        # The parser pydantic's validate_json uses: it refuses what the models' reading refuses.
        loads, dumps = functools.partial(pydantic_core.from_json, allow_inf_nan=False), pydantic_core.to_json

    def encode(line: str | bytes) -> Encoded | None:
        try:
            event = _EVENT.read(loads(line), phone_region)
            body = dumps(event)
        except _NOT_MINE:
            return None
        fields.warn_if_deprecated(event["event"])  # once, and only for an event this path took
        return event.get("event_id"), body

    return encode


def wire_event(data: Any, phone_region: str | None = None) -> dict[str, Any] | None:
    """What `Event.model_validate(data, context={"phone_region": phone_region}).wire()` gives for
    an event's fields as Python data (a mapping's, or json.loads'), or None: the models decide
    (and word the errors). The dict is new; `data` is left as it is. Warns of nothing: a caller
    that accepts a deprecated name says so in its own words (the models warn while validating).
    Only the types JSON has are taken (a tuple, a Decimal, a key that is not a str: declined)."""
    try:
        return _EVENT.read(data, phone_region)
    except _NOT_MINE:
        return None


def _stdlib_loads(line: str | bytes) -> Any:
    text = line.decode() if isinstance(line, bytes) else line  # UTF-8, as pydantic reads it
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):
        raise _Decline
    return _DECODER.decode(text)


def _stdlib_dumps(event: dict[str, Any]) -> bytes:
    return _ENCODER.encode(event).encode()  # a lone surrogate cannot be encoded: declined


def envelope_header(event_source: Any, event_source_id: Any, test_event_code: Any = None,
                    partner_name: Any = None) -> dict[str, Any] | None:
    """What Envelope(...).header() gives (the envelope in wire shape), or None when the models
    must check the envelope (they then give it, or the error)."""
    source_id, test_code, partner = (fields.trimmed(v) for v in (event_source_id, test_event_code, partner_name))
    if type(event_source) is not str or event_source not in fields.EVENT_SOURCES or type(source_id) is not str:
        return None
    if not all(v is None or type(v) is str for v in (test_code, partner)):
        return None
    header = {"event_source": event_source, "event_source_id": source_id, "test_event_code": test_code,
              "partner_name": partner}
    header = {k: v for k, v in header.items() if v is not None}
    try:
        for text in header.values():
            text.encode()
    except UnicodeEncodeError:  # a lone surrogate, which pydantic refuses
        return None
    return header


def envelope_prefix(event_source: Any, event_source_id: Any, test_event_code: Any = None,
                    partner_name: Any = None) -> bytes | None:
    """What Envelope(...).body_prefix() gives, or None when the models must check the envelope."""
    header = envelope_header(event_source, event_source_id, test_event_code, partner_name)
    return None if header is None else body_prefix(header)


def body_prefix(header: Mapping[str, Any]) -> bytes:
    """A request body up to its first event, for an envelope in wire shape (`Envelope.header()`)."""
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False)
    return text[:-1].encode() + b',"data":['


# --- what pydantic checks after the rules --------------------------------------------------------


def _str(value: Any) -> str:
    if type(value) is str:
        return value
    raise _Decline


def _number(value: float) -> float:
    if value != 0 and not abs(value) >= _SMALLEST_SAME_FLOAT:  # (NaN fails the comparison too)
        raise _Decline
    return value


# --- field rules: (raw value, the block's fields set so far, the block's context) -> value ----------
# None is "not sent". `seen` holds what the models' ValidationInfo.data would, as far as the rules
# read it (a field that is None there is absent here). The context is what the block's caller
# passes down: the default phone region (user), the properties' content_type (contents[]).

_Rule = Callable[[Any, dict[str, Any], Any], Any]


def _text(value: Any, seen: dict, context: Any) -> Any:
    """`str | None`, no rule of its own."""
    if value is None or type(value) is str:
        return value
    raise _Decline


def _bool(value: Any, seen: dict, context: Any) -> Any:
    if value is None or type(value) is bool:
        return value
    raise _Decline  # pydantic's lax mode reads 1, "yes", "on"... as booleans: its business


def _one_of(*choices: str) -> _Rule:
    def rule(value: Any, seen: dict, context: Any) -> Any:
        if value is None or (type(value) is str and value in choices):
            return value
        raise _Decline

    return rule


def _id(value: Any, seen: dict, context: Any) -> Any:
    """StrId | None: an id that trims to nothing is an error (the models'), not an absent id."""
    if type(value) is str and (value := value.strip()):  # the usual case, as fields.str_id has it
        return value
    return None if value is None else _str(fields.str_id(value))


def _required_id(value: Any, seen: dict, context: Any) -> Any:
    return _str(fields.str_id(value))


def _ids(value: Any, seen: dict, context: Any) -> Any:
    if value is None:
        return None
    value = fields.one_or_many(value)
    if type(value) is not list:
        raise _Decline
    return [_str(fields.str_id(item)) for item in value]


def _money(value: Any, seen: dict, context: Any) -> Any:
    if type(value) is float and (_SMALLEST_SAME_FLOAT <= value <= MAX_AMOUNT or value == 0):
        return value  # the usual case, decided at once (fields.money returns such a float as it is)
    if value is None:
        return None
    value = fields.money(value)
    if type(value) is int and 0 <= value <= _EXACT_INT_AS_FLOAT:
        value = float(value)
    if type(value) is not float or not (value == 0 or _SMALLEST_SAME_FLOAT <= value <= MAX_AMOUNT):
        raise _Decline
    return value


def _count(value: Any, seen: dict, context: Any) -> Any:
    if value is None:
        return None
    if type(value) is not int or not 0 <= value <= MAX_COUNT:
        raise _Decline  # "2" and 2.0 are counts to pydantic's lax mode: its business
    return value


def _quantity(value: Any, seen: dict, context: Any) -> Any:
    if type(value) is int and value >= 0:  # the usual case (fields.quantity's too)
        return value
    if value is None:
        return None
    value = fields.quantity(value)
    if type(value) is float:
        return _number(value)
    if type(value) is int:
        return value
    raise _Decline


def _custom(value: Any) -> Any:
    value = fields.custom_value(value)
    for item in value if type(value) is list else (value,):
        if type(item) is float:
            _number(item)
        elif type(item) not in _JSON_SCALARS:
            raise _Decline  # an int or str subclass (an enum) in Python data: the models' business
    return value


def _currency(value: Any, seen: dict, context: Any) -> Any:
    value = fields.currency(value)
    if value is None or type(value) is str:
        return value
    raise _Decline


def _trimmed(value: Any, seen: dict, context: Any) -> Any:
    if type(value) is str:
        return value.strip() or None  # fields.trimmed, for the three of every event
    return _text(fields.trimmed(value), seen, context)


def _normalized(normalizer: Callable[[Any], Any]) -> _Rule:
    """A field validator that may itself answer None (an empty city is an absent city)."""
    def rule(value: Any, seen: dict, context: Any) -> Any:
        return None if value is None else _text(normalizer(value), seen, context)

    return rule


# The hashers' answers are not checked against the models' pattern (64 lowercase hex digits):
# they are SHA-256 hex digests or pre-hashed values lowercased, which always match it
# (tests/unit/test_hashing.py holds every hasher to that, for any input).


def _hash(hasher: Callable[[Any], Any]) -> _Rule:
    def rule(value: Any, seen: dict, context: Any) -> Any:
        return None if value is None else hasher(value)

    return rule


def _hashes(hasher: Callable[[Any], Any]) -> _Rule:
    def rule(value: Any, seen: dict, context: Any) -> Any:
        if type(value) is str:  # what hash_each does with one value, the usual case
            digest = hasher(value)
            return None if digest is None else [digest]
        return normalize.hash_each(value, hasher)

    return rule


def _phones(value: Any, seen: dict, context: Any) -> Any:
    hint = context  # the default region, when neither phone_region nor country is given
    if "phone_region" in seen or "country" in seen or context is not None:
        hint = fields.region_for_phones(seen.get("phone_region"), seen.get("country"), context)
    if type(value) is str:
        digest = normalize.hash_phone(value, hint)
        return None if digest is None else [digest]
    return normalize.hash_each(value, lambda item: normalize.hash_phone(item, hint))


def _phone_region(value: Any, seen: dict, context: Any) -> Any:
    return fields.phone_region(value)


def _state(value: Any, seen: dict, context: Any) -> Any:
    return None if value is None else _text(normalize.normalize_state(value, seen.get("country")), seen, context)


def _zip(value: Any, seen: dict, context: Any) -> Any:
    return None if value is None else normalize.hash_zip(value, seen.get("country"))


# --- the blocks ----------------------------------------------------------------------------------

# Shapes (key tuples) remembered per block; past this many, plans are made and not kept.
_MAX_PLANS = 256
# (each field to read: its name, its rule, whether the input has it), the custom names
_Plan = tuple[tuple[tuple[str, "_Rule", bool], ...], tuple[str, ...]]


class _Block:
    """A model's fields in its order, each with its rule. `custom`: the keys it does not name are
    custom parameters (Content, Properties); `required`: fields that must be there; `always`:
    fields whose rule runs even when absent (with None). What a shape of input needs (the rules of
    its keys in the model's order, its custom names checked) is worked out once per shape."""

    __slots__ = ("rules", "custom", "required", "always", "_plans")

    def __init__(self, rules: dict[str, _Rule], *, custom: bool = False, required: tuple[str, ...] = (),
                 always: tuple[str, ...] = ()) -> None:
        self.rules = rules
        self.custom = custom
        self.required = frozenset(required)
        self.always = frozenset(always)
        self._plans: dict[tuple[str, ...], _Plan] = {}

    def read(self, raw: Any, context: Any = None) -> dict[str, Any]:
        """The fields set, in the model's order, then the custom parameters in input order."""
        if type(raw) is not dict:
            raise _Decline
        keys = tuple(raw)
        plan = self._plans.get(keys) or self._plan(keys)
        out: dict[str, Any] = {}
        for name, rule, present in plan[0]:
            value = rule(raw[name] if present else None, out, context)
            if value is not None:
                out[name] = value
        for key in plan[1]:
            out[key] = _custom(raw[key])
        return out

    def _plan(self, keys: tuple[str, ...]) -> _Plan:
        custom = tuple(key for key in keys if key not in self.rules)
        if custom and not self.custom or not self.required.issubset(keys):
            raise _Decline  # an unknown field or a missing one: the models name it in their error
        if not all(type(key) is str for key in custom):
            raise _Decline  # (Python data: JSON's keys are always text)
        fields.custom_names(dict.fromkeys(custom), ())
        present = self.always.union(keys)
        plan = (tuple((name, rule, name in keys) for name, rule in self.rules.items() if name in present), custom)
        if len(self._plans) < _MAX_PLANS:
            self._plans[keys] = plan
        return plan


_content_type_of = _one_of(*fields.CONTENT_TYPES)


def _content_type(value: Any, seen: dict, context: Any) -> Any:
    """An item's content_type, else the properties' (Properties._content_type_everywhere)."""
    return _content_type_of(value, seen, context) if value is not None else context


def _sub_blocks(block: _Block) -> _Rule:
    """A list of `block`s, the caller's context passed on to each."""
    def rule(value: Any, seen: dict, context: Any) -> Any:
        if value is None:
            return None
        if type(value) is not list:
            raise _Decline
        return [block.read(item, context) for item in value]

    return rule


def _when_set(block: _Block) -> _Rule:
    """A block as a field: None (not sent) when nothing of it is set (Event._drop_empty_objects)."""
    def rule(value: Any, seen: dict, context: Any) -> Any:
        return None if value is None else block.read(value, context) or None

    return rule


_USER = _Block({
    "phone_region": _phone_region,  # an input-only hint, never sent
    "country": _normalized(normalize.normalize_country),
    "state": _state,
    "city": _normalized(normalize.normalize_place),
    "email": _hashes(normalize.hash_email),
    "phone": _phones,
    "external_id": _hashes(normalize.hash_external_id),
    "first_name": _hash(normalize.hash_name),
    "last_name": _hash(normalize.hash_name),
    "zip_code": _zip,
    "ttclid": _trimmed, "ttp": _trimmed,
    "ip": _normalized(normalize.normalize_ip),
    "user_agent": _trimmed, "locale": _trimmed, "idfa": _trimmed, "idfv": _trimmed, "gaid": _trimmed,
    "att_status": _one_of(*fields.ATT_STATUSES),
})
_CONTENT = _Block({
    "content_id": _id, "content_type": _content_type, "content_category": _text, "content_name": _text,
    "brand": _text, "price": _money, "quantity": _quantity, "status": _text,
}, custom=True, always=("content_type",))
_PROPERTIES = _Block({
    "contents": _sub_blocks(_CONTENT), "content_type": _content_type_of, "content_ids": _ids,
    "currency": _currency, "value": _money, "num_items": _count, "order_id": _id, "shop_id": _id,
    "query": _text, "search_string": _text, "description": _text, "status": _text,
    "delivery_category": _one_of(*fields.DELIVERY_CATEGORIES), "predicted_ltv": _money,
}, custom=True)
_PAGE = _Block({"url": _text, "referrer": _text})
_BRAND_VERSION = _Block({"brand": _text, "version": _text})
_DEVICE = _Block({
    "architecture": _text, "bitness": _text, "browser_version_list": _sub_blocks(_BRAND_VERSION),
    "mobile": _bool, "model": _text, "platform": _text, "platform_version": _text,
})
_LEAD = _Block({"lead_id": _id, "lead_event_source": _text})
_APP = _Block({"app_id": _required_id, "app_name": _text, "app_version": _text}, required=("app_id",))
_AD = _Block({
    "callback": _text, "campaign_id": _id, "ad_id": _id, "creative_id": _id, "is_retargeting": _bool,
    "attributed": _bool, "attribution_type": _text, "attribution_provider": _text,
})


def _user(value: Any, seen: dict, context: Any) -> Any:
    if value is None:
        return None
    out = _USER.read(value, context)
    out.pop("phone_region", None)
    return out or None


def _properties(value: Any, seen: dict, context: Any) -> Any:
    if value is None:
        return None
    # The properties' content_type goes into each contents[] item without one, so it is read first.
    content_type = _content_type_of(value.get("content_type"), seen, None) if type(value) is dict else None
    out = _PROPERTIES.read(value, content_type)
    if out.get("contents") == []:
        del out["contents"]  # (Properties._content_type_everywhere)
    return out or None  # Event._drop_empty_objects: a block with nothing set (custom parameters count) goes


def _event_name(value: Any, seen: dict, context: Any) -> Any:
    return _str(fields.event_name(value))


def _event_time(value: Any, seen: dict, context: Any) -> Any:
    value = fields.unix_seconds(value)
    if type(value) is not int:
        raise _Decline
    return value


# Event, in its order. App is never empty: its app_id is required.
_EVENT = _Block({
    "event": _event_name, "event_time": _event_time, "event_id": _id, "user": _user, "properties": _properties,
    "page": _when_set(_PAGE), "device": _when_set(_DEVICE), "limited_data_use": _bool, "lead": _when_set(_LEAD),
    "app": lambda value, seen, context: None if value is None else _APP.read(value), "ad": _when_set(_AD),
}, required=("event", "event_time"))

