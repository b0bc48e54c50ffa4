"""Receiving a Shopify webhook: verify, deduplicate, map and hash, enqueue. No Powertools
wiring here (that is functions/receiver/app.py); storage and secrets come in through ports.

Statuses, documented for Shopify's sake (it deletes a subscription after repeated failures):
    202 queued                     the delivery's events are on the queue
    200 ignored                    nothing to send (topic not mapped, guest customer, test order...)
    200 duplicate                  this X-Shopify-Webhook-Id was already handled (whatever the
                                   first answer was, once the signature checked out: a retried
                                   400 is not reprocessed)
    400 bad request                body not JSON / not an object / too large, base64 flag lies,
                                   a required Shopify header is missing
    401 unauthorized               HMAC signature missing or wrong
    409 in progress                the same delivery is being handled right now; Shopify retries
    500 misconfigured              the relay's own configuration is broken; Shopify retries
    500 internal error             a bug in the relay; Shopify retries, so a fix deployed within
                                   its 4 hours of retries still gets the conversion
    503 unavailable                the queue could not take the delivery; Shopify retries
Nothing bad input does produces a 5xx; a 5xx means "retry later, nothing was lost".
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tiktok_relay.errors import ConfigurationError, SignatureError, TikTokRelayError
from tiktok_relay.pipeline.messages import MAX_MESSAGE_BYTES, MESSAGE_VERSION
from tiktok_relay.pipeline.ports import Queue, QueueError, SecretSource
from tiktok_relay.sources.shopify.mapping import map_webhook, to_request_body
from tiktok_relay.sources.shopify.settings import ShopifySettings
from tiktok_relay.sources.shopify.signature import parse_secrets, raw_body_from_apigw, verify_shopify_signature

WEBHOOK_ID_HEADER = "x-shopify-webhook-id"
TOPIC_HEADER = "x-shopify-topic"
SHOP_HEADER = "x-shopify-shop-domain"
# HTTP API (payload v2) lower-cases header names, so the idempotency key and the Logger's
# correlation id read the lower-case name. tests/integration/test_template.py checks this.
IDEMPOTENCY_KEY_PATH = f'headers."{WEBHOOK_ID_HEADER}"'
IDEMPOTENCY_TTL_SECONDS = 3 * 24 * 3600  # longer than Shopify's 4 h of retries and TikTok's 48 h dedup
MAX_BODY_BYTES = 5 * 1024 * 1024  # Shopify payloads are far smaller; Lambda's own limit is 6 MB


@dataclass(frozen=True)
class Reply:
    """The receiver's answer, and what the handler needs for logs and metrics (no PII)."""

    status: int
    outcome: str  # queued | ignored | duplicate | rejected | in_progress | unavailable | misconfigured
    reason: str | None = None
    events: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.outcome}
        if self.reason:
            body["reason"] = self.reason
        if self.outcome == "queued":
            body["events"] = self.events
        return body

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "outcome": self.outcome, "reason": self.reason,
                "events": self.events, "warnings": list(self.warnings)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reply:
        return cls(data["status"], data["outcome"], data.get("reason"), data.get("events", 0),
                   tuple(data.get("warnings", ())))


def _rejected(status: int, reason: str) -> Reply:
    return Reply(status, "rejected", reason)


def _lower_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers or {}).items() if v is not None}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # Shopify's newer "Events" delivery drops the X- prefix; accept both.
    value = headers.get(name) or headers.get(name.removeprefix("x-"))
    return value.strip() if value and value.strip() else None


class ShopifyReceiver:
    def __init__(
        self,
        *,
        secrets: SecretSource,
        queue: Queue,
        settings: ShopifySettings,
        pixel_id: str,
        idempotency_store=None,
        clock: Callable[[], float] = time.time,
    ):
        self._secrets = secrets
        self._queue = queue
        self._settings = settings
        self._pixel_id = pixel_id
        self._clock = clock
        self._idempotency_config = None
        self._process = self._map_and_enqueue
        if idempotency_store is not None:
            from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

            self._idempotency_config = IdempotencyConfig(
                event_key_jmespath=IDEMPOTENCY_KEY_PATH,
                raise_on_no_idempotency_key=True,
                expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
                response_hook=_mark_duplicate,
            )
            self._process = idempotent_function(
                self._map_and_enqueue,
                data_keyword_argument="delivery",
                persistence_store=idempotency_store,
                config=self._idempotency_config,
                # A fixed prefix: renaming or moving this code must not reset deduplication.
                key_prefix="tiktok-relay.shopify-delivery",
            )

    def handle(self, headers: Mapping[str, Any] | None, body: str | None, is_base64: bool = False,
               lambda_context=None) -> Reply:
        try:
            return self._handle(headers, body, is_base64, lambda_context)
        except ConfigurationError as exc:
            return Reply(500, "misconfigured", str(exc))

    def _handle(self, headers, body, is_base64, lambda_context) -> Reply:
        lowered = _lower_headers(headers)
        try:
            raw = raw_body_from_apigw(body, is_base64)
        except TikTokRelayError as exc:
            return _rejected(400, str(exc))
        try:
            self._verify(lowered, raw)
        except SignatureError as exc:
            return _rejected(401, str(exc))
        missing = [name for name in (TOPIC_HEADER, SHOP_HEADER, WEBHOOK_ID_HEADER) if not _header(lowered, name)]
        if missing:
            return _rejected(400, f"missing header(s): {', '.join(missing)}")
        if len(raw) > MAX_BODY_BYTES:
            return _rejected(400, f"body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB")
        delivery = {
            "headers": {WEBHOOK_ID_HEADER: _header(lowered, WEBHOOK_ID_HEADER)},
            "topic": _header(lowered, TOPIC_HEADER).lower(),
            "shop": _header(lowered, SHOP_HEADER).lower(),
            "body": raw,
        }
        if self._idempotency_config is not None and lambda_context is not None:
            self._idempotency_config.register_lambda_context(lambda_context)
        try:
            return Reply.from_dict(self._process(delivery=delivery))
        except QueueError as exc:
            return Reply(503, "unavailable", f"could not enqueue the delivery ({exc}); retry later")
        except Exception as exc:
            # Powertools idempotency errors are matched by name to keep its import lazy.
            if type(exc).__name__ == "IdempotencyAlreadyInProgressError":
                return Reply(409, "in_progress", "this delivery is being processed; retry later")
            # Anything else is a bug. Powertools has released the idempotency record, so Shopify's
            # retry is processed afresh. Only the exception's type and place are reported: its
            # message could quote a value from the payload.
            frame = exc.__traceback__
            while frame.tb_next is not None:
                frame = frame.tb_next
            where = f"{frame.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.tb_lineno}"
            return Reply(500, "internal_error",
                         f"unexpected {type(exc).__name__} at {where}; this is a tiktok-relay bug, Shopify will retry")

    def _verify(self, headers: dict[str, str], raw: bytes) -> None:
        try:
            verify_shopify_signature(headers, raw, parse_secrets(self._secrets.get()))
        except SignatureError:
            # A rotated secret may still be cached: fetch the current ones once before refusing.
            verify_shopify_signature(headers, raw, parse_secrets(self._secrets.get(refresh=True)))

    def _map_and_enqueue(self, delivery: dict[str, Any]) -> dict[str, Any]:
        try:
            payload = _parse_json(delivery["body"])
        except RecursionError:
            return _rejected(400, "body is not valid JSON (nested too deeply)").to_dict()
        except (ValueError, UnicodeDecodeError):
            return _rejected(400, "body is not valid JSON").to_dict()
        if not isinstance(payload, dict):
            return _rejected(400, f"body must be a JSON object, not {type(payload).__name__}").to_dict()
        topic, shop = delivery["topic"], delivery["shop"]
        result = map_webhook(topic, payload, shop, self._settings, now=int(self._clock()))
        warnings = tuple(result.warnings)
        if not result.events:
            return Reply(200, "ignored", result.reason, warnings=warnings).to_dict()
        request = to_request_body(result, pixel_id=self._pixel_id, test_event_code=self._settings.test_event_code)
        message = _message(delivery, request)
        if len(message.encode()) > MAX_MESSAGE_BYTES:
            # Cannot happen with the mapping's caps; if it ever does, send the events without
            # line items rather than lose the conversion.
            for event in request["data"]:
                event.get("properties", {}).pop("contents", None)
            message = _message(delivery, request)
            warnings += ("properties.contents: dropped to fit the queue's message size",)
        self._queue.send(message, {"topic": topic, "shop": shop})
        return Reply(202, "queued", None, len(request["data"]), warnings).to_dict()


def _message(delivery: dict[str, Any], request: dict[str, Any]) -> str:
    return json.dumps(
        {"v": MESSAGE_VERSION, "source": "shopify", "webhook_id": delivery["headers"][WEBHOOK_ID_HEADER],
         "shop": delivery["shop"], "topic": delivery["topic"], "request": request},
        separators=(",", ":"),
    )


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


def _mark_duplicate(response: dict[str, Any], data_record) -> dict[str, Any]:
    """Powertools calls this when it answers from the idempotency store."""
    return {**response, "status": 200, "outcome": "duplicate",
            "reason": "this X-Shopify-Webhook-Id was already received", "events": 0}
