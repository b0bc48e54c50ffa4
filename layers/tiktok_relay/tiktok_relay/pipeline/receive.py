"""Receiving a store webhook: verify, deduplicate, map and hash, enqueue. No Powertools wiring
here (that is tiktok_relay/handlers/); the store's rules come in as a `WebhookSource`, storage
and secrets through ports. The same steps serve an HTTPS request (`handle`) and an event of the
store's EventBridge partner event source (`handle_event`, without a signature): `accept` is
what follows once the delivery is vouched for.

Statuses, documented for the stores' sake (Shopify deletes a subscription after repeated failures):
    202 queued                     the delivery's events are on the queue
    200 ignored                    nothing to send (topic not mapped, guest customer, test order...)
    200 ignored (unsigned)         a request the store sends unsigned on purpose (WooCommerce's
                                   ping when a webhook is created): nothing verified, nothing done
    200 duplicate                  a delivery with this topic, shop and body was already handled
                                   (whatever the first answer was, once the signature checked
                                   out: a retried 400 is not reprocessed). Keyed on what the
                                   signature covers, not on the unsigned delivery id: a replayed
                                   body under a fresh id, or a second subscription's copy, is a
                                   duplicate too (Stripe signs its event id: keyed on that)
    400 bad request                body too large (checked before any hashing), not JSON / not an
                                   object, base64 flag lies, a required header is missing or
                                   not what the store sends
    401 unauthorized               signature missing or wrong; with a tenants document, a shop
                                   it does not list (or a body signed with another shop's secret)
    409 in progress                the same delivery is being handled right now; the store retries
    500 misconfigured              the relay's own configuration is broken; the store retries
    500 internal error             a bug in the relay; Shopify retries, so a fix deployed within
                                   its 4 hours of retries still gets the conversion
    503 unavailable                the queue, the state store, the idempotency table or the secret
                                   store did not answer (a timeout, a closed connection,
                                   throttling); the store retries
Nothing bad input does produces a 5xx; a 5xx means "retry later, nothing was lost".

Remembered state (a cart's lines, so that AddToCart carries only what was added): the source
names a key for the delivery, the previous state is read before mapping and the new one put
after the message is queued (or after deciding to ignore the delivery). A state store that
cannot be read or written answers 503, like the queue: the conversion is not lost, and as the
event_id depends on the cart's contents only, a retry that queues the same event again is
deduplicated by TikTok. A duplicate delivery is answered from the idempotency record and
touches no state.

Logs. Until the signature checks out, nothing a request carries is trusted: the handler logs
only the lengths and short hashes of its identity headers (`header_fingerprints`). `on_verified`
is called with the verified delivery, so the handler can add its id, shop and topic to the logs.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from tiktok_relay.errors import ConfigurationError, DeliveryRejected, SignatureError, TikTokRelayError
from tiktok_relay.pipeline.ports import (
    Delivery,
    PartnerEventSource,
    Queue,
    QueueError,
    StateError,
    StateStore,
    Unavailable,
    UnknownTenant,
    WebhookSource,
)
from tiktok_relay.pipeline.queue_format import MAX_MESSAGE_BYTES, queue_message, without_contents
from tiktok_relay.tiktok.matching import count_match_keys

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from tiktok_relay.sources.common.result import MappingResult

# Longer than Shopify's 4 h of retries and TikTok's 48 h dedup; as long as Stripe's 3 days of
# retries (a later one meets the remembered "sent" state of its payment, WooCommerce retries none).
IDEMPOTENCY_TTL_SECONDS = 3 * 24 * 3600
MAX_BODY_BYTES = 5 * 1024 * 1024  # store payloads are far smaller; Lambda's own limit is 6 MB
# What the idempotency record is keyed on: a SHA-256 of the source, topic, shop and body (the
# Powertools key prefix below is fixed, so the key survives deploys and renames).
IDEMPOTENCY_KEY_PATH = "delivery_key"

Outcome = Literal["queued", "ignored", "duplicate", "rejected", "in_progress", "unavailable", "misconfigured",
                  "internal_error"]


@dataclass(frozen=True)
class Reply:
    """The receiver's answer, and what the handler needs for logs and metrics (no PII)."""

    status: int
    outcome: Outcome
    reason: str | None = None
    events: int = 0
    warnings: tuple[str, ...] = ()
    # For a request refused before its signature checked out: (header, "N chars, sha256 abcd1234")
    # of its identity headers, for the logs (never a value).
    fingerprints: tuple[tuple[str, str], ...] = ()
    # Queued: how many of the events carry each match key (tiktok/matching.py), for metrics.
    match_keys: dict[str, int] = field(default_factory=dict)

    @property
    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.outcome}
        if self.reason:
            body["reason"] = self.reason
        if self.outcome == "queued":
            body["events"] = self.events
        return body


def _rejected(status: int, reason: str) -> Reply:
    return Reply(status, "rejected", reason)


class BodyEncodingError(TikTokRelayError, ValueError):
    """An API Gateway body flagged as base64 that is not valid base64."""


def raw_body_from_apigw(body: str | None, is_base64: bool) -> bytes:
    """The delivered body bytes from an API Gateway event's `body` and `isBase64Encoded`.

    API Gateway base64-encodes bodies it treats as binary; anything else arrives as text,
    which is the UTF-8 the sender wrote. Base64 is decoded strictly: a body that is flagged
    as base64 but is not valid base64 raises BodyEncodingError (a ValueError), never
    silently yields different bytes. Signatures are over these bytes: decode before verifying.
    """
    if body is None:
        return b""
    if not isinstance(body, str):
        raise BodyEncodingError("API Gateway body must be a string")
    if not is_base64:
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:
            raise BodyEncodingError("API Gateway body is not valid UTF-8 text") from None
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise BodyEncodingError("API Gateway body is flagged isBase64Encoded but is not valid base64") from None


def lower_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers or {}).items() if v is not None}


def header_fingerprints(headers: Mapping[str, str], names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """For logs about an unverified request: each of `names` present as its length and the
    first 8 hex digits of its SHA-256, enough to tell requests apart, never the value."""
    out = []
    for name in names:
        value = headers.get(name)
        if value is not None:
            digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]
            out.append((name, f"{len(value)} chars, sha256 {digest}"))
    return tuple(out)


def idempotency_data(source: str, delivery: Delivery) -> dict[str, Any]:
    """What the idempotency record is keyed on (IDEMPOTENCY_KEY_PATH) and the delivery itself."""
    return {IDEMPOTENCY_KEY_PATH: delivery_key(source, delivery), "delivery": delivery}


def delivery_key(source: str, delivery: Delivery) -> str:
    """The deduplication key of a verified delivery: SHA-256 over the source, topic, shop and
    what the signature covers: the store's delivery id when it is signed (Stripe's event id: a
    retry is re-signed and may carry other counters in its body), else the body. Never an
    unsigned delivery id."""
    digest = hashlib.sha256()
    for part in (source, delivery.topic, delivery.shop):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    if delivery.signed_id is not None:
        digest.update(b"signed id\0" + delivery.signed_id.encode("utf-8", "surrogatepass"))
    else:
        digest.update(delivery.body)
    return digest.hexdigest()


class Receiver:
    """One store platform's webhooks, from HTTP request to queue message."""

    def __init__(
        self,
        *,
        source: WebhookSource,
        queue: Queue,
        idempotency_store: BasePersistenceLayer | None = None,
        state_store: StateStore | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self._source = source
        self._queue = queue
        self._state = state_store  # None: every delivery is a first one (nothing remembered)
        self._clock = clock
        self._idempotency_config: IdempotencyConfig | None = None
        self._process: Callable[..., Reply] = self._map_and_enqueue
        if idempotency_store is not None:
            self._process = self._idempotent(idempotency_store)

    def _idempotent(self, store: BasePersistenceLayer) -> Callable[..., Reply]:
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
        from aws_lambda_powertools.utilities.idempotency.serialization.dataclass import DataclassSerializer

        self._idempotency_config = IdempotencyConfig(
            event_key_jmespath=IDEMPOTENCY_KEY_PATH,
            raise_on_no_idempotency_key=True,
            expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
            response_hook=self._mark_duplicate,
        )
        return idempotent_function(
            self._map_and_enqueue,
            data_keyword_argument="delivery",
            persistence_store=store,
            config=self._idempotency_config,
            output_serializer=DataclassSerializer(Reply),
            # A fixed prefix: renaming or moving this code must not reset deduplication.
            key_prefix=f"tiktok-relay.{self._source.name}-delivery",
        )

    def handle(self, headers: Mapping[str, Any] | None, body: str | None, is_base64: bool = False,
               lambda_context: LambdaContext | None = None,
               on_verified: Callable[[Delivery], None] | None = None) -> Reply:
        """The answer to one request. `on_verified` is called with the delivery once its
        signature checked out (and only then)."""
        try:
            return self._handle(headers, body, is_base64, lambda_context, on_verified)
        except ConfigurationError as exc:
            return Reply(500, "misconfigured", str(exc))
        except Unavailable as exc:  # the secret store did not answer
            return Reply(503, "unavailable", f"{exc}; retry later")

    def _handle(self, headers: Mapping[str, Any] | None, body: str | None, is_base64: bool,
                lambda_context: LambdaContext | None, on_verified: Callable[[Delivery], None] | None) -> Reply:
        lowered = lower_headers(headers)
        try:
            raw = _capped_body(body, is_base64)
            if (acknowledged := self._source.acknowledge_unsigned(lowered, raw)) is not None:
                return Reply(200, "ignored", acknowledged)
            delivery = self._source.verify(lowered, raw)
        except (BodyEncodingError, DeliveryRejected, SignatureError) as exc:
            status = 401 if isinstance(exc, SignatureError) else 400
            return Reply(status, "rejected", str(exc),
                         fingerprints=header_fingerprints(lowered, self._source.identity_headers))
        return self.accept(delivery, lambda_context, on_verified)

    def handle_event(self, event: Mapping[str, Any], lambda_context: LambdaContext | None = None,
                     on_verified: Callable[[Delivery], None] | None = None) -> Reply:
        """The answer to one event of the store's EventBridge partner event source: the same
        deduplication, mapping and enqueueing as a request, without a signature (the source
        reads the envelope; ports.PartnerEventSource). A shop with no tenant is misconfigured
        here (500: retried, then kept in the dead-letter queue): only the store itself puts
        events on its partner event source, so it is a shop the document lacks, not a forgery."""
        try:
            delivery = self._event_source().from_event(event)
        except DeliveryRejected as exc:
            return _rejected(400, str(exc))
        except (UnknownTenant, ConfigurationError) as exc:
            return Reply(500, "misconfigured", str(exc))
        except Unavailable as exc:
            return Reply(503, "unavailable", f"{exc}; retry later")
        return self.accept(delivery, lambda_context, on_verified)

    def _event_source(self) -> PartnerEventSource:
        if not isinstance(self._source, PartnerEventSource):
            raise ConfigurationError(f"{self._source.display_name} has no EventBridge delivery")
        return self._source

    def accept(self, delivery: Delivery, lambda_context: LambdaContext | None = None,
               on_verified: Callable[[Delivery], None] | None = None) -> Reply:
        """Deduplicate, map and enqueue a delivery its source vouched for (a signature, an
        EventBridge envelope). `on_verified` is called with it first."""
        if on_verified is not None:
            on_verified(delivery)
        if self._idempotency_config is not None and lambda_context is not None:
            self._idempotency_config.register_lambda_context(lambda_context)
        return self._process_safely(delivery)

    def _process_safely(self, delivery: Delivery) -> Reply:
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
        )

        try:
            reply: Reply = self._process(delivery=idempotency_data(self._source.name, delivery))
        except QueueError as exc:
            return Reply(503, "unavailable", f"could not enqueue the delivery ({exc}); retry later")
        except StateError as exc:
            return Reply(503, "unavailable", f"could not reach the remembered state ({exc}); retry later")
        except IdempotencyPersistenceLayerError:  # DynamoDB did not answer: the store retries
            return Reply(503, "unavailable", "the idempotency table did not answer; retry later")
        except IdempotencyAlreadyInProgressError:
            return Reply(409, "in_progress", "this delivery is being processed; retry later")
        except ConfigurationError as exc:  # the tenant's settings (or its entry) broke since it was verified
            return Reply(500, "misconfigured", str(exc))
        except Exception as exc:
            # Anything else is a bug. Powertools has released the idempotency record, so the
            # store's retry is processed afresh. Only the exception's type and place are
            # reported: its message could quote a value from the payload.
            return Reply(500, "internal_error",
                         f"unexpected {type(exc).__name__} at {_where(exc)}; this is a tiktok-relay bug, "
                         f"{self._source.display_name} will retry")
        if reply.outcome == "duplicate" and delivery.signed_id is not None:  # keyed on the signed id
            reply = dataclasses.replace(reply, reason=f"this {self._source.webhook_id_name} was already received")
        return reply

    def _map_and_enqueue(self, delivery: dict[str, Any]) -> Reply:
        verified: Delivery = delivery["delivery"]
        try:
            payload = _parse_json(verified.body)
        except RecursionError:
            return _rejected(400, "body is not valid JSON (nested too deeply)")
        except (ValueError, UnicodeDecodeError):
            return _rejected(400, "body is not valid JSON")
        if not isinstance(payload, dict):
            return _rejected(400, f"body must be a JSON object, not {type(payload).__name__}")
        key = self._source.state_key(verified, payload) if self._state is not None else None
        previous = self._state.get(key) if self._state is not None and key is not None else None
        result = self._source.map(verified, payload, now=int(self._clock()), previous_state=previous)
        warnings = tuple(result.warnings)
        if not result.sent:
            self._remember(key, result)
            return Reply(200, "ignored", result.reason, warnings=warnings)
        header = self._source.envelope(verified, result)
        data = result.wire_events
        message = self._message(verified, header, data)
        if len(message.encode()) > MAX_MESSAGE_BYTES:
            # Cannot happen with the mappings' caps; if it ever does, send the events without
            # line items rather than lose the conversion.
            data = without_contents(data)
            message = self._message(verified, header, data)
            warnings += ("properties.contents: dropped to fit the queue's message size",)
        self._queue.send(message, {"topic": verified.topic, "shop": verified.shop})
        self._remember(key, result)
        return Reply(202, "queued", None, len(data), warnings, match_keys=count_match_keys(data))

    def _remember(self, key: str | None, result: MappingResult) -> None:
        """What the mapping asked to remember, under the source's key (StateError propagates: 503)."""
        if self._state is not None and key is not None and result.state is not None:
            self._state.put(key, result.state)

    def _mark_duplicate(self, response: Reply, idempotent_data: Any) -> Reply:
        """Powertools calls this when it answers from the idempotency store."""
        return dataclasses.replace(response, status=200, outcome="duplicate",
                                   reason="a delivery with this topic, shop and body was already received "
                                          f"(whatever its {self._source.webhook_id_name})", events=0,
                                   warnings=tuple(response.warnings), fingerprints=(), match_keys={})

    def _message(self, delivery: Delivery, header: dict[str, Any], data: list[dict[str, Any]]) -> str:
        """The queue message: the tenant by its key (never its token); none for a single shop."""
        tenant = delivery.tenant.key if delivery.tenant is not None and delivery.tenant.key else None
        return queue_message(source=self._source.name, webhook_id=delivery.webhook_id, shop=delivery.shop,
                             topic=delivery.topic, tenant=tenant, header=header, data=data)


def _capped_body(body: str | None, is_base64: bool) -> bytes:
    """The body bytes, refused before any decoding or hashing when over MAX_BODY_BYTES: a
    forged request must not cost a pass over megabytes."""
    limit = MAX_BODY_BYTES * 4 // 3 + 4 if is_base64 else MAX_BODY_BYTES  # base64: 4 characters per 3 bytes
    if isinstance(body, str) and len(body) > limit:
        raise BodyEncodingError(f"body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB")
    raw = raw_body_from_apigw(body, is_base64)
    if len(raw) > MAX_BODY_BYTES:  # non-ASCII text: more bytes than characters
        raise BodyEncodingError(f"body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB")
    return raw


def _where(exc: BaseException) -> str:
    """`file.py:line` of the innermost frame of `exc`'s traceback."""
    frame = exc.__traceback__
    if frame is None:
        return "an unknown place"
    while frame.tb_next is not None:
        frame = frame.tb_next
    return f"{frame.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.tb_lineno}"


def _parse_json(raw: bytes) -> Any:
    """The body, parsed. Only a body that Python refuses for an integer of more than 4300 digits
    (a plain ValueError, unlike malformed JSON) is parsed again with `_json_int`: a Python call
    for every integer would make every parse slower (by a quarter for a 250-item order)."""
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise
    except ValueError:
        return json.loads(raw, parse_int=_json_int)


def _json_int(text: str) -> int | float:
    """A JSON integer. Python refuses to convert one of more than 4300 digits (a ValueError that
    would make the body "not valid JSON"); as a float it is infinite, and the mapping drops
    it like any other non-finite number instead of refusing the delivery."""
    try:
        return int(text)
    except ValueError:
        return float(text)


