"""Pydantic v2 models of the TikTok Events API 2.0 request, `POST {base}/{version}/event/track/`.

Validation *is* normalization: a `User` holds only hashed identifiers from the moment it is
built, so no repr, log line or serialized body can carry a raw email, phone, name or zip.
Unknown fields are errors that name the field (and, for Events API 1.0 names, say what 2.0
calls them: LEGACY_RENAMES); nothing is silently dropped. `properties` and `contents[]` take
custom parameters as TikTok's own integrations send them (CUSTOM_VALUE_TYPES), never a value
that looks like an email address or a phone number, which would go in clear.

Every model raises `EventValidationError` (a `TikTokRelayError`) instead of pydantic's own
error, with messages that never include the offending value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from tiktok_relay.errors import EventValidationError
from tiktok_relay.tiktok import encode, fields, normalize
from tiktok_relay.tiktok.fields import (  # noqa: F401 (names this module has always offered)
    CUSTOM_VALUE_TYPES,
    DEPRECATED_EVENTS,
    ENVELOPE_FIELDS,
    LEGACY_EVENTS,
    MAX_AMOUNT,
    MAX_COUNT,
    MAX_EVENTS_PER_REQUEST,
    STANDARD_EVENTS,
    EventSource,
    deprecation_notice,
)

# Events API 1.0 (/pixel/track/, pytt-events-api) names and what Events API 2.0 calls them, by the
# block they are met in ("request": the body; "event": a data[] item; "user", "page"). An unknown
# field with one of these names gets the 2.0 name in its error. Relied upon (the pytt-events-api
# compatibility module translates with it): keep names and blocks.
LEGACY_RENAMES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "request": MappingProxyType({"pixel_code": "event_source_id", "batch": "data"}),
    "event": MappingProxyType({
        "timestamp": "event_time", "pixel_code": "event_source_id (of the request)",
        "test_event_code": "test_event_code (of the request, not of an event)", "context": "user and page",
        "phone_number": "user.phone", "email": "user.email", "external_id": "user.external_id",
        "ip": "user.ip", "user_agent": "user.user_agent", "ttclid": "user.ttclid", "callback": "user.ttclid",
        "ttp": "user.ttp", "url": "page.url", "referrer": "page.referrer"}),
    "user": MappingProxyType({"phone_number": "phone", "callback": "ttclid", "ip_address": "ip"}),
    "page": MappingProxyType({"page_url": "url", "referer": "referrer"}),
})
_BLOCK_OF_MODEL = {"TrackRequest": "request", "WireRequest": "request", "Event": "event", "User": "user",
                   "Page": "page"}

class StrictModel(BaseModel):
    """The base of every model here: unknown fields are errors, and errors never echo input."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, validate_default=False)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise EventValidationError.from_pydantic(exc, rename_hint(type(self))) from None

    # Tell pydantic this __init__ only translates errors, so nested models keep being
    # validated in pydantic-core (fast, with precise error locations) rather than through it.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any):
        try:
            return super().model_validate(obj, **kwargs)
        except pydantic.ValidationError as exc:
            raise EventValidationError.from_pydantic(exc, rename_hint(cls)) from None

    @classmethod
    def model_validate_json(cls, json_data: str | bytes, **kwargs: Any):  # type: ignore[override]
        try:
            return super().model_validate_json(json_data, **kwargs)
        except pydantic.ValidationError as exc:
            raise EventValidationError.from_pydantic(exc, rename_hint(cls)) from None

    def wire(self) -> dict[str, Any]:
        """The wire shape as plain JSON-able data: no nulls, no empty objects."""
        return self.model_dump(mode="json", exclude_none=True)


def rename_hint(model: type) -> Callable[[tuple], str | None]:
    """For EventValidationError.from_pydantic: the 2.0 name of an unknown Events API 1.0 field
    met while validating a `model` (its error location says in which block)."""
    root = _BLOCK_OF_MODEL.get(model.__name__)

    def hint(loc: tuple) -> str | None:
        block = root
        for part in loc[:-1]:
            if block == "request" and part == "data":
                block = "data"
            elif block == "data" and isinstance(part, int):
                block = "event"
            elif block == "event" and part in ("user", "page"):
                block = part
            else:
                return None
        renamed = LEGACY_RENAMES.get(block or "", {}).get(str(loc[-1])) if loc else None
        return f"Events API 2.0 calls it {renamed} (this is an Events API 1.0 name)" if renamed else None

    return hint


_FIELD_NAMES: dict[type, frozenset[str]] = {}  # model -> its field names (model_fields costs a call each time)


def _custom_names(data: Any, model: type[BaseModel]) -> Any:
    """A custom parameter's name (a key that is none of `model`'s fields) is sent in clear too: it
    must not be an email or a phone."""
    known = _FIELD_NAMES.get(model)
    if known is None:
        known = _FIELD_NAMES[model] = frozenset(model.model_fields)
    return fields.custom_names(data, known)


CustomValue = Annotated[Any, pydantic.AfterValidator(fields.custom_value)]


StrId = Annotated[str, pydantic.BeforeValidator(fields.str_id)]
# The bound before the BeforeValidator: pydantic-core then checks it (same check after the
# validator, same message) rather than a Python function per value.
Money = Annotated[float, Field(ge=0, le=MAX_AMOUNT), pydantic.BeforeValidator(fields.money)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT), pydantic.BeforeValidator(fields.not_bool)]
Hashes = list[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]]
Hash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Quantity = Annotated[int | float, pydantic.BeforeValidator(fields.quantity)]


class User(StrictModel):
    """Who did it. Identifiers arrive raw or pre-hashed and are stored hashed.

    `phone_region` is an input-only hint (ISO alpha-2) for national phone numbers; it is never
    sent. Without it, the user's `country` and then the context's default region are tried.
    """

    phone_region: str | None = Field(default=None, exclude=True)
    country: str | None = None
    state: str | None = None
    city: str | None = None
    email: Hashes | None = None
    phone: Hashes | None = None
    external_id: Hashes | None = None
    first_name: Hash | None = None
    last_name: Hash | None = None
    zip_code: Hash | None = None
    ttclid: str | None = None
    ttp: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    locale: str | None = None
    idfa: str | None = None
    idfv: str | None = None
    gaid: str | None = None
    att_status: Literal["AUTHORIZED", "DENIED", "NOT_DETERMINED", "RESTRICTED", "NOT_APPLICABLE"] | None = None

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, value: Any) -> str | None:
        return normalize.normalize_country(value) if value is not None else None

    @field_validator("state", mode="before")
    @classmethod
    def _state(cls, value: Any, info: ValidationInfo) -> str | None:
        return normalize.normalize_state(value, info.data.get("country")) if value is not None else None

    @field_validator("city", mode="before")
    @classmethod
    def _city(cls, value: Any) -> str | None:
        return normalize.normalize_place(value) if value is not None else None

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> list[str] | None:
        return normalize.hash_each(value, normalize.hash_email)

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: Any, info: ValidationInfo) -> list[str] | None:
        data = info.data
        region = fields.region_for_phones(data.get("phone_region"), data.get("country"),
                                          (info.context or {}).get("phone_region"))
        return normalize.hash_each(value, lambda item: normalize.hash_phone(item, region))

    @field_validator("external_id", mode="before")
    @classmethod
    def _external_id(cls, value: Any) -> list[str] | None:
        return normalize.hash_each(value, normalize.hash_external_id)

    @field_validator("first_name", "last_name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> str | None:
        return normalize.hash_name(value) if value is not None else None

    @field_validator("zip_code", mode="before")
    @classmethod
    def _zip(cls, value: Any, info: ValidationInfo) -> str | None:
        return normalize.hash_zip(value, info.data.get("country")) if value is not None else None

    @field_validator("ip", mode="before")
    @classmethod
    def _ip(cls, value: Any) -> str | None:
        return normalize.normalize_ip(value) if value is not None else None

    @field_validator("ttclid", "ttp", "user_agent", "locale", "idfa", "idfv", "gaid", mode="before")
    @classmethod
    def _clear_text(cls, value: Any) -> Any:
        return fields.trimmed(value)

    @field_validator("phone_region", mode="before")
    @classmethod
    def _region(cls, value: Any) -> Any:
        return fields.phone_region(value)

    def __repr_args__(self):
        # Hashes are not customer data, but keep reprs short and obviously safe.
        return [(k, v) for k, v in super().__repr_args__() if v is not None]


class Content(StrictModel):
    """One contents[] item. Keys the schema does not name are custom parameters (CustomValue)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, CustomValue] = Field(init=False)

    content_id: StrId | None = None
    content_type: Literal["product", "product_group"] | None = None
    content_category: str | None = None
    content_name: str | None = None
    brand: str | None = None
    price: Money | None = None
    quantity: Quantity | None = None
    status: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data: Any) -> Any:
        return _custom_names(data, cls)


class Properties(StrictModel):
    """The properties block. Keys the schema does not name are custom parameters (CustomValue)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, CustomValue] = Field(init=False)

    contents: list[Content] | None = None
    content_type: Literal["product", "product_group"] | None = None
    content_ids: Annotated[list[StrId], pydantic.BeforeValidator(fields.one_or_many)] | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    value: Money | None = None
    num_items: Count | None = None
    order_id: StrId | None = None
    shop_id: StrId | None = None
    query: str | None = None
    search_string: str | None = None
    description: str | None = None
    status: str | None = None  # order, item or service status (TikTok's "About Parameters")
    delivery_category: Literal["in_store", "curbside", "home_delivery"] | None = None
    predicted_ltv: Money | None = None

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data: Any) -> Any:
        return _custom_names(data, cls)

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any) -> Any:
        return fields.currency(value)

    @model_validator(mode="after")
    def _content_type_everywhere(self) -> Properties:
        # Events 2.0 clients disagree on where content_type goes (properties or each item);
        # TikTok accepts both, so send it in both places.
        content_type, contents = self.content_type, self.contents
        if content_type and contents:
            for item in contents:
                if item.content_type is None:
                    # What pydantic's __setattr__ does for a field (no validate_assignment), inlined:
                    # this runs for every line item of every event.
                    item.__dict__["content_type"] = content_type
                    item.__pydantic_fields_set__.add("content_type")
        if contents == []:
            self.contents = None
        return self


class Page(StrictModel):
    url: str | None = None
    referrer: str | None = None


class BrandVersion(StrictModel):
    brand: str | None = None
    version: str | None = None


class Device(StrictModel):
    """The browser's client hints, as TikTok's server-side GTM template sends them."""

    architecture: str | None = None
    bitness: str | None = None
    browser_version_list: list[BrandVersion] | None = None
    mobile: bool | None = None
    model: str | None = None
    platform: str | None = None
    platform_version: str | None = None


class Lead(StrictModel):
    lead_id: StrId | None = None
    lead_event_source: str | None = None


class App(StrictModel):
    app_id: StrId
    app_name: str | None = None
    app_version: str | None = None


class Ad(StrictModel):
    callback: str | None = None
    campaign_id: StrId | None = None
    ad_id: StrId | None = None
    creative_id: StrId | None = None
    is_retargeting: bool | None = None
    attributed: bool | None = None
    attribution_type: str | None = None
    attribution_provider: str | None = None


_DUMPED_FIELDS: dict[type, tuple[str, ...]] = {}


def _dumped_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """The fields `model_dump` includes (all but `exclude=True` ones); extras, which only the blocks
    with custom parameters allow, are not fields."""
    names = _DUMPED_FIELDS[cls] = tuple(n for n, f in cls.model_fields.items() if not f.exclude)
    return names


class Event(StrictModel):
    """One `data[]` item."""

    event: str
    event_time: Annotated[int, pydantic.BeforeValidator(fields.unix_seconds)]
    event_id: StrId | None = None
    user: User | None = None
    properties: Properties | None = None
    page: Page | None = None
    device: Device | None = None
    limited_data_use: bool | None = None
    lead: Lead | None = None
    app: App | None = None
    ad: Ad | None = None

    @field_validator("event", mode="before")
    @classmethod
    def _event_name(cls, value: Any) -> Any:
        name = fields.event_name(value)
        fields.warn_if_deprecated(name)
        return name

    @model_validator(mode="after")
    def _drop_empty_objects(self) -> Event:
        # A block is empty when `block.model_dump(exclude_none=True)` would be {}: every field
        # it dumps is None. Checked without dumping (nor a call per block): this runs per event.
        values = self.__dict__
        for name in ("user", "properties", "page", "device", "lead", "ad"):
            block = values[name]
            if block is None:
                continue
            block_values = block.__dict__
            for field in _DUMPED_FIELDS.get(type(block)) or _dumped_fields(type(block)):
                if block_values[field] is not None:
                    break
            else:
                if not block.model_extra:  # custom parameters (properties) are set fields too
                    setattr(self, name, None)
        return self

    @property
    def is_standard(self) -> bool:
        return self.event in STANDARD_EVENTS or self.event in LEGACY_EVENTS


class Envelope(StrictModel):
    """What every event of one request shares: where the events come from (`event_source`, and
    the pixel code or event set id as `event_source_id`) and how TikTok treats them.

    The track request, the queued request and the client's grouping of events all use this one
    model, so the rules for these four fields live here only.
    """

    event_source: EventSource
    event_source_id: Annotated[str, Field(min_length=1)]
    test_event_code: str | None = None
    partner_name: str | None = None

    FIELDS: ClassVar[tuple[str, ...]] = ENVELOPE_FIELDS

    @field_validator("event_source_id", "test_event_code", "partner_name", mode="before")
    @classmethod
    def _trim(cls, value: Any) -> Any:
        return fields.trimmed(value)

    def envelope(self) -> Envelope:
        """This request's envelope alone (no `data`)."""
        values = self.__dict__
        return Envelope.model_construct(**{name: values[name] for name in Envelope.FIELDS})

    def key(self) -> tuple[str | None, ...]:
        """The fields as a tuple: events with equal keys can share one request."""
        values = self.__dict__
        return tuple(values[name] for name in Envelope.FIELDS)

    def header(self) -> dict[str, Any]:
        """The envelope in wire shape: the fields that are set, in wire order."""
        values = self.__dict__
        return {name: values[name] for name in Envelope.FIELDS if values[name] is not None}

    def body_prefix(self) -> bytes:
        """The request body up to its first event: the bytes TrackRequest.to_json() starts with."""
        return encode.body_prefix(self.header())


class TrackRequest(Envelope):
    """A whole request body. `test_event_code` lives here, never inside `data`."""

    data: Annotated[list[Event], Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)]

    endpoint_path: ClassVar[str] = "event/track/"

    def to_json(self) -> bytes:
        """Compact JSON bytes in the exact wire shape: no nulls, no empty objects."""
        return self.__pydantic_serializer__.to_json(self, exclude_none=True)


def _wire_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The few things the client itself relies on. Wire events were fully validated (and hashed)
    when they were built, e.g. by the receiver before they were queued; validating them again
    would double the sender's work, and TikTok checks the rest (a refused event is isolated)."""
    for n, event in enumerate(events):
        problem = fields.wire_event_problem(event)
        if problem is not None:
            raise ValueError(f"data.{n}.{problem}")
    return events


class WireRequest(Envelope):
    """A request whose events are already in wire shape (plain dicts, hashed), such as one the
    receiver queued. `TikTokClient.send_wire` posts them as they are."""

    data: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST),
                    pydantic.AfterValidator(_wire_events)]
