"""The Events API client: batching, retries with backoff and jitter, and per-event results.

TikTok answers HTTP 200 for most failures, so the body's `code` decides. One bad event makes
TikTok refuse a whole batch; the client then splits the batch in halves until the bad events
are isolated, delivers the rest, and reports each bad event with TikTok's code and message.

Every event leaves with an event_id: one without gets `auto-` + the first 32 hex digits of the
SHA-256 of its JSON (as sent, before the id is added), assigned before the first attempt and
kept on every retry and split. So a retry after a lost reply, or a second run over the same
input, is deduplicated by TikTok (same event + event_id within 48 h). The one trade-off: two
byte-identical events without ids are one event to TikTok.

Requests hold at most 1000 events and at most MAX_REQUEST_BYTES; an HTTP 413 splits a request
as a data error does. A 20001 (partial success) is read by tiktok/partial.py; when its detail
cannot be read, the request is sent once more as a whole (the ids make that safe), and if the
detail still cannot be read its events are reported failed-retryable, never delivered.

A `deadline` (a `time.monotonic()` value) bounds everything a call does: no request, retry or
split starts without MIN_REQUEST_SECONDS left, and each request is limited in total (connect,
wait, and the whole answer: REQUEST_LIMIT_SECONDS or the time left, whichever is less), not
only per socket read. What is not sent in time is reported failed-retryable, never rejected.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import operator
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pydantic_core
import urllib3

from tiktok_relay.config import TikTokSettings, checked_secret
from tiktok_relay.errors import ConfigurationError
from tiktok_relay.retry import RetryPolicy, parse_retry_after
from tiktok_relay.tiktok.models import MAX_EVENTS_PER_REQUEST, Envelope, Event, EventSource, TrackRequest, WireRequest
from tiktok_relay.tiktok.partial import read_failures

SUCCESS = 0
PARTIAL_SUCCESS = 20001
# Rate limits, TikTok-side faults and maintenance: the same request may succeed later.
RETRYABLE_CODES = frozenset({40100, 40132, 61000, 50000, 50002, 60001})
RETRYABLE_CODE_RANGES = (range(51000, 52000), range(52000, 53000))
# Data errors: TikTok refuses the whole request for one bad row, so the batch is split.
DATA_ERROR_CODES = frozenset({40000, 40002, 40062})

# TikTok documents no maximum request size (reference §6). 1 MB is a soft cap a client can
# defend: Tealium's connector queues up to 1 MB, 1000 large events reached 2.6 MB, and a
# smaller body is quicker to resend after a timeout. A single event larger than this is sent
# alone; TikTok's 413 for it makes it a rejected event.
MAX_REQUEST_BYTES = 1_000_000
AUTO_EVENT_ID_PREFIX = "auto-"
HTTP_TOO_LARGE = 413

DEFAULT_TIMEOUT = urllib3.Timeout(connect=3.05, read=10.0)  # per socket operation
# The most one request may take from connecting to the answer's last byte. urllib3's read
# timeout applies to each socket read, so an answer dripping in a byte at a time would never
# time out; the client reads the body in pieces and stops at this limit (or the deadline).
REQUEST_LIMIT_SECONDS = 15.0
# No request starts with less time than this left before the caller's deadline: TikTok takes
# ~0.1-1 s to answer, and a request cut short by the deadline is only a wasted (maybe duplicate) send.
MIN_REQUEST_SECONDS = 1.0
# TikTok's answers are a few hundred bytes; anything this large is not an Events API answer.
MAX_ANSWER_BYTES = 1024 * 1024
_READ_CHUNK = 16 * 1024
# 4 attempts, 0.5 s doubling to 8 s, jittered: rides out a brief TikTok hiccup within one invocation.
DEFAULT_RETRY = RetryPolicy()


def is_retryable_code(code: int) -> bool:
    return code in RETRYABLE_CODES or any(code in r for r in RETRYABLE_CODE_RANGES)


class Status(str, enum.Enum):
    """What became of one event. The same three words mean the same everywhere (the `send`
    summary, the sender's metrics and dead letters, the README):

    delivered         TikTok accepted it.
    failed-retryable  not delivered, but the same event can still get through: after a pause (the
                      client already retried what waiting fixes) or once the operator fixes what
                      TikTok named (token, permission, API version).
    rejected          TikTok refused this event's data for good: sent again unchanged it would be
                      refused again, so it is never retried (the relay dead-letters it).
    """

    DELIVERED = "delivered"
    FAILED_RETRYABLE = "failed-retryable"
    REJECTED = "rejected"


@dataclass(frozen=True)
class EventOutcome:
    """What happened to one input event. `index` is its position in the input."""

    index: int
    event_id: str | None
    status: Status
    code: int | None = None
    message: str | None = None
    request_id: str | None = None
    attempted: bool = True  # False: not sent at all, the deadline came first

    @property
    def is_data_error(self) -> bool:
        """TikTok refused this event's data for good (as opposed to a token or account problem):
        the same as `status is Status.REJECTED`."""
        return self.status is Status.REJECTED


@dataclass
class SendResult:
    outcomes: list[EventOutcome] = field(default_factory=list)
    requests_sent: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds per HTTP exchange, for metrics

    def _with(self, status: Status) -> list[EventOutcome]:
        return [o for o in self.outcomes if o.status is status]

    @property
    def delivered(self) -> list[EventOutcome]:
        return self._with(Status.DELIVERED)

    @property
    def failed(self) -> list[EventOutcome]:
        return self._with(Status.FAILED_RETRYABLE)

    @property
    def rejected(self) -> list[EventOutcome]:
        return self._with(Status.REJECTED)

    @property
    def ok(self) -> bool:
        return all(o.status is Status.DELIVERED for o in self.outcomes)

    @property
    def request_ids(self) -> list[str]:
        return sorted({o.request_id for o in self.outcomes if o.request_id})

    def summary(self) -> dict:
        return {
            "events": len(self.outcomes),
            "requests_sent": self.requests_sent,
            "delivered": len(self.delivered),
            "failed_retryable": len(self.failed),
            "rejected": len(self.rejected),
        }


@dataclass(frozen=True)
class _Reply:
    """One HTTP exchange, classified."""

    kind: Literal["ok", "partial", "retry", "reject"]
    code: int | None = None
    message: str | None = None
    request_id: str | None = None
    data: object = None
    retry_after: float | None = None  # seconds, from the Retry-After header of a 429 or 5xx
    too_large: bool = False  # HTTP 413: split like a data error
    sent: bool = True  # False: no request was made (the deadline came first)


_pool: urllib3.PoolManager | None = None
_pool_lock = threading.Lock()


def shared_pool() -> urllib3.PoolManager:
    """One connection pool per process, reused by every client (keeps TLS sessions warm)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = urllib3.PoolManager(num_pools=4, maxsize=8, retries=False)
        return _pool


_Item = tuple[int, "str | None", bytes]  # (position in the input, event_id, the event's JSON)
_INDEX = operator.attrgetter("index")  # an outcome's position (a lambda per event costs 3x more)


def _event_json(event: Event) -> bytes:
    return event.__pydantic_serializer__.to_json(event, exclude_none=True)


def _dict_json(event: Mapping[str, Any]) -> bytes:
    # pydantic-core's serializer: the same compact bytes as json.dumps(separators=(",", ":"),
    # ensure_ascii=False), about three times faster, and this runs for every queued event.
    return pydantic_core.to_json(event)


class TikTokClient:
    """Posts Events API 2.0 requests. Thread-safe; share one per process."""

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str = TikTokSettings.DEFAULT_BASE_URL,
        api_version: str = TikTokSettings.DEFAULT_API_VERSION,
        timeout: urllib3.Timeout = DEFAULT_TIMEOUT,
        request_limit: float = REQUEST_LIMIT_SECONDS,
        retry: RetryPolicy = DEFAULT_RETRY,
        pool: urllib3.PoolManager | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ):
        if not access_token:
            raise ConfigurationError("the TikTok access token is empty (TIKTOK_ACCESS_TOKEN)")
        # Before it reaches http.client, whose error for a bad header value quotes the value.
        checked_secret(access_token, "the TikTok access token (TIKTOK_ACCESS_TOKEN)")
        self._headers = {
            "Access-Token": access_token,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self.url = f"{base_url.rstrip('/')}/{api_version.strip('/')}/{TrackRequest.endpoint_path}"
        self.timeout = timeout
        self.request_limit = request_limit
        self.retry = retry
        self._pool = pool or shared_pool()
        self._sleep = sleep
        self._rng = rng or random.Random()

    @classmethod
    def from_settings(cls, settings: TikTokSettings, **kwargs) -> TikTokClient:
        return cls(settings.access_token or "", base_url=settings.base_url, api_version=settings.api_version, **kwargs)

    def __repr__(self) -> str:  # never show the token
        return f"TikTokClient(url={self.url!r})"

    # --- public API -----------------------------------------------------------------------

    def send_events(
        self,
        events: Sequence[Event],
        *,
        event_source: EventSource = "web",
        event_source_id: str,
        test_event_code: str | None = None,
        partner_name: str | None = None,
        deadline: float | None = None,
    ) -> SendResult:
        """Send any number of events of one source, in requests of at most 1000.

        `deadline` is a `time.monotonic()` value that nothing this call does outlives (the
        sender passes its Lambda invocation's, less a margin); see the module docstring."""
        envelope = Envelope(event_source=event_source, event_source_id=event_source_id,
                            test_event_code=test_event_code, partner_name=partner_name)
        return self._send_grouped([(envelope, ((e.event_id, _event_json(e)) for e in events))], deadline)

    def send(self, requests: Iterable[TrackRequest], *, deadline: float | None = None) -> SendResult:
        """Send whole requests, regrouped by (event_source, event_source_id, test_event_code)
        and re-chunked to at most 1000 events each. Outcome indexes count events across
        `requests` in order."""
        return self._send_grouped(
            ((request, ((e.event_id, _event_json(e)) for e in request.data)) for request in requests),
            deadline,
        )

    def send_wire(self, requests: Iterable[WireRequest], *, deadline: float | None = None) -> SendResult:
        """Like `send`, for requests whose events are already in wire shape (plain dicts) and
        were validated when they were built, e.g. by the receiver before they were queued: they
        are serialized as they are, not validated again."""
        return self._send_grouped(
            ((request, ((e.get("event_id"), _dict_json(e)) for e in request.data)) for request in requests),
            deadline,
        )

    def send_encoded(self, envelope: Envelope, events: Iterable[tuple[str | None, bytes]], *,
                     deadline: float | None = None) -> SendResult:
        """Send events already in wire JSON (each with its event_id), as tiktok/ndjson.py's
        `encode_lines` gives them: they are sent as they are. Outcome indexes count `events`."""
        return self._send_grouped([(envelope, events)], deadline)

    def track(self, request: TrackRequest, *, deadline: float | None = None) -> SendResult:
        return self.send([request], deadline=deadline)

    # --- internals --------------------------------------------------------------------------

    def _send_grouped(self, requests: Iterable[tuple[Envelope, Iterable[tuple[str | None, bytes]]]],
                      deadline: float | None) -> SendResult:
        """Group events by envelope, number them in input order, send in chunks of 1000."""
        groups: dict[tuple, tuple[Envelope, list[_Item]]] = {}
        position = 0
        for envelope, events in requests:
            key = envelope.key()
            if key not in groups:
                groups[key] = (envelope, [])
            bucket = groups[key][1]
            for event_id, body in events:
                event_id, body = with_event_id(event_id, body)
                bucket.append((position, event_id, body))
                position += 1
        result = SendResult()
        for envelope, items in groups.values():
            prefix = envelope.body_prefix()
            for chunk in chunks(items, len(prefix)):
                self._deliver(prefix, chunk, result, deadline)
        result.outcomes.sort(key=_INDEX)
        return result

    def _deliver(self, prefix: bytes, items: list[_Item], result: SendResult, deadline: float | None,
                 *, unreadable_retries: int = 1) -> None:
        body = prefix + b",".join(event for _, _, event in items) + b"]}"
        reply = self._post_with_retries(body, result, deadline)

        def outcome(i: int, event_id: str | None, status: Status, code=reply.code,
                    message=reply.message) -> EventOutcome:
            return EventOutcome(i, event_id, status, code, message, reply.request_id, reply.sent)

        if reply.kind == "ok":
            result.outcomes.extend(outcome(i, event_id, Status.DELIVERED) for i, event_id, _ in items)
        elif reply.kind == "partial":
            failures = read_failures(reply.data, [event_id for _, event_id, _ in items])
            if failures is None and unreadable_retries > 0:
                self._deliver(prefix, items, result, deadline, unreadable_retries=unreadable_retries - 1)
            else:
                result.outcomes.extend(partial_outcomes(items, failures, reply.request_id))
        elif reply.kind == "reject" and (reply.code in DATA_ERROR_CODES or reply.too_large) and len(items) > 1:
            self._split(prefix, items, result, deadline)
        else:
            # A single event TikTok refuses for its data (or that alone is too large for a request)
            # is rejected; a refusal of the token, the account or the request itself (and anything
            # transient) is not about the event.
            refused = reply.kind == "reject" and (reply.code in DATA_ERROR_CODES or reply.too_large)
            status = Status.REJECTED if refused else Status.FAILED_RETRYABLE
            result.outcomes.extend(outcome(i, event_id, status) for i, event_id, _ in items)

    def _split(self, prefix: bytes, items: list[_Item], result: SendResult, deadline: float | None) -> None:
        """After a data error or a 413: each half on its own, if there is time for another request."""
        if self._time_for_request(deadline) is None:
            result.outcomes.extend(EventOutcome(i, event_id, Status.FAILED_RETRYABLE, None, _OUT_OF_TIME.message,
                                                attempted=False) for i, event_id, _ in items)
            return
        middle = len(items) // 2
        self._deliver(prefix, items[:middle], result, deadline)
        self._deliver(prefix, items[middle:], result, deadline)

    def _time_for_request(self, deadline: float | None) -> float | None:
        """Seconds the next request may take, or None: too close to `deadline` to start one."""
        if deadline is None:
            return self.request_limit
        left = deadline - time.monotonic()
        return min(self.request_limit, left) if left >= MIN_REQUEST_SECONDS else None

    def _post_with_retries(self, body: bytes, result: SendResult, deadline: float | None) -> _Reply:
        attempts = 0
        reply = _OUT_OF_TIME  # what is reported when not even the first attempt has time
        # A retry's pause must leave time for the request after it.
        pause_deadline = None if deadline is None else deadline - MIN_REQUEST_SECONDS
        while True:
            limit = self._time_for_request(deadline)
            if limit is None:
                return reply
            started = time.perf_counter()
            reply = self._post_once(body, limit)
            result.latencies.append(time.perf_counter() - started)
            result.requests_sent += 1
            attempts += 1
            if reply.kind != "retry":
                return reply
            pause = self.retry.next_delay(attempts, self._rng, retry_after=reply.retry_after,
                                          deadline=pause_deadline)
            if pause is None:
                return reply
            self._sleep(pause)

    def _post_once(self, body: bytes, limit: float) -> _Reply:
        """One request, `limit` seconds at most from connecting to the answer's last byte."""
        until = time.monotonic() + limit
        try:
            response = self._pool.request(
                "POST", self.url, body=body, headers=self._headers, timeout=_capped(self.timeout, limit),
                retries=False, redirect=False, preload_content=False,
            )
            try:
                raw = _read_answer(response, until)
            finally:
                response.release_conn()
        except _AnswerTooSlow:
            reply = _Reply("retry", message=f"timed out: no complete answer within {limit:.1f} s")
        except _AnswerTooLarge:
            reply = _Reply("retry", message=f"the answer is larger than {MAX_ANSWER_BYTES} bytes")
        except urllib3.exceptions.NewConnectionError as exc:
            # Before TimeoutError: urllib3 2 derives NewConnectionError (refused, unreachable) from it.
            reply = _Reply("retry", message=f"connection failed: {type(exc).__name__}")
        except urllib3.exceptions.TimeoutError as exc:
            reply = _Reply("retry", message=f"timed out: {type(exc).__name__}")
        except urllib3.exceptions.HTTPError as exc:
            # Connection refused or reset, dropped mid-response, TLS failures.
            reply = _Reply("retry", message=f"connection failed: {type(exc).__name__}")
        else:
            reply = _classify(response.status, raw)
            if reply.kind == "retry" and (response.status == 429 or response.status >= 500):
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry_after is not None:
                    reply = dataclasses.replace(reply, retry_after=retry_after)
        return reply


_OUT_OF_TIME = _Reply("retry", message="not sent: too close to the invocation's deadline; it will be redelivered",
                      sent=False)


class _AnswerTooSlow(Exception):
    """The answer did not arrive in full within the request's time limit."""


class _AnswerTooLarge(Exception):
    """The answer exceeds MAX_ANSWER_BYTES."""


def _capped(timeout: urllib3.Timeout, limit: float) -> urllib3.Timeout:
    """`timeout` with neither its connect nor its per-read timeout above `limit` seconds."""
    def cap(value: object) -> float:
        return min(float(value), limit) if isinstance(value, (int, float)) else limit

    return urllib3.Timeout(connect=cap(timeout.connect_timeout), read=cap(timeout.read_timeout))


def _read_answer(response: urllib3.BaseHTTPResponse, until: float) -> bytes:
    """The whole body, read piece by piece (read1: at most one socket read each), each read
    allowed only the time left before `until`, so that a body dripping in cannot outlast it.
    Past `until` the connection is closed (never reused half-read) and _AnswerTooSlow raised;
    a read that runs out of time raises urllib3's ReadTimeoutError."""
    parts: list[bytes] = []
    size = 0
    while True:
        left = until - time.monotonic()
        if left <= 0:
            response.close()
            raise _AnswerTooSlow
        # The response's connection and its socket are public attributes (urllib3, http.client);
        # urllib3 sets the socket's timeout afresh for every request on a reused connection.
        sock = getattr(response.connection, "sock", None)
        if sock is not None:
            sock.settimeout(left)
        part = response.read1(_READ_CHUNK)
        if not part:
            return b"".join(parts)
        size += len(part)
        if size > MAX_ANSWER_BYTES:
            response.close()
            raise _AnswerTooLarge
        parts.append(part)


def _classify(status: int, raw: bytes) -> _Reply:
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        payload = None
    if status == HTTP_TOO_LARGE:
        code = payload.get("code") if isinstance(payload, dict) and isinstance(payload.get("code"), int) else None
        return _Reply("reject", code, f"HTTP {HTTP_TOO_LARGE}: the request is too large for TikTok", too_large=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("code"), int):
        # A proxy's HTML error page, an empty body: only the HTTP status is known.
        message = f"HTTP {status} with a non-JSON body"
        if status == 429 or status >= 500 or 200 <= status < 300:
            return _Reply("retry", message=message)
        return _Reply("reject", message=message)
    code = payload["code"]
    message = str(payload.get("message") or "")[:500]
    request_id = payload.get("request_id")
    request_id = str(request_id) if request_id is not None else None
    if code == SUCCESS and 200 <= status < 300:
        return _Reply("ok", code, message, request_id)
    if code == PARTIAL_SUCCESS:
        return _Reply("partial", code, message, request_id, payload.get("data"))
    if status == 429 or status >= 500 or is_retryable_code(code):
        return _Reply("retry", code, message, request_id)
    return _Reply("reject", code, message, request_id)


def with_event_id(event_id: str | None, body: bytes) -> tuple[str, bytes]:
    """(event_id, event JSON) of an event that may have none: `auto-` + 32 hex digits of the
    SHA-256 of its JSON, written first into the JSON. The same event always gets the same id."""
    if event_id:
        return event_id, body
    assigned = AUTO_EVENT_ID_PREFIX + hashlib.sha256(body).hexdigest()[:32]
    return assigned, b'{"event_id":"' + assigned.encode() + b'",' + body[1:]


def chunks(items: list[_Item], prefix_bytes: int) -> Iterable[list[_Item]]:
    """`items` in order, in requests of at most MAX_EVENTS_PER_REQUEST events and (but for an
    event that alone is larger) MAX_REQUEST_BYTES: prefix, events, commas and the closing `]}`."""
    chunk: list[_Item] = []
    size = prefix_bytes + 2
    for item in items:
        cost = len(item[2]) + (1 if chunk else 0)
        if chunk and (len(chunk) == MAX_EVENTS_PER_REQUEST or size + cost > MAX_REQUEST_BYTES):
            yield chunk
            chunk, size, cost = [], prefix_bytes + 2, len(item[2])
        chunk.append(item)
        size += cost
    if chunk:
        yield chunk


def partial_outcomes(items: list[_Item], failures: dict[int, tuple[int | None, str]] | None,
                     request_id: str | None) -> list[EventOutcome]:
    """The events of a 20001: those its detail names refused (failed-retryable when the event's
    own code is a retryable one), the others delivered. Unreadable detail (None): every event
    failed-retryable, so that nothing is counted delivered that may not have been."""
    if failures is None:
        message = ("TikTok answered 20001 (partial success) without per-event detail tiktok-relay can read, "
                   "twice; not counted as delivered")
        return [EventOutcome(i, event_id, Status.FAILED_RETRYABLE, PARTIAL_SUCCESS, message, request_id)
                for i, event_id, _ in items]
    outcomes = []
    for position, (i, event_id, _) in enumerate(items):
        if position not in failures:
            outcomes.append(EventOutcome(i, event_id, Status.DELIVERED, SUCCESS, "OK", request_id))
            continue
        code, message = failures[position]
        if code is not None and is_retryable_code(code):
            outcomes.append(EventOutcome(i, event_id, Status.FAILED_RETRYABLE, code, message, request_id))
        else:
            outcomes.append(EventOutcome(i, event_id, Status.REJECTED, code, message, request_id))
    return outcomes
