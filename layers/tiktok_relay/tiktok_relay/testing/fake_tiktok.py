"""A fake TikTok Events API 2.0 over real HTTP on 127.0.0.1.

It checks requests the way TikTok does (token, shape and types, at most 1000 events, PII
hashed), answers like TikTok (HTTP 200 with a `code` in the body), records what it accepted,
and can be told to fail in every way TikTok is known to:

    fake.fail_next("http502", "40100", "timeout", "drop")   # the next four requests, in order
    fake.fail_randomly(0.33, FAULTS, seed=7)                # about a third of all requests
    fake.reject_events({"order-42"})                        # 40002 for any batch holding it
    fake.reject_events({"order-42"}, partial=True, layout="keyed")  # 20001, detail keyed by event_id
    FakeTikTok(max_body_bytes=500_000)                      # HTTP 413 for larger bodies

Faults:
    "http500", "http502", "http503", "http429": that status with an HTML page (not JSON), as a
                 proxy sends; with `fake.retry_after = "30"` it carries that Retry-After header
    "40100", "50002", or any other code: HTTP 200 with that TikTok code
    "timeout": stalls `stall_seconds` without answering, then closes; nothing is recorded
    "drop": closes the connection without answering; nothing is recorded
    "lost_reply": takes the request as usual (accepted events are recorded), then closes the
                  connection without answering: the reply is lost on its way back
    "reset": the same, but resets the connection (TCP RST) instead of closing it
    "drip": answers as TikTok would, but the body one byte every `drip_seconds`

`fake.answer_delay = 0.5` makes every answer wait that long first (a slow TikTok).

Tokens: `access_token` is taken for any pixel; `fake.allow_token("tok-b", pixels={"CPIXELB"})`
takes another one for those pixels only (TikTok answers 40001 for a pixel of another ad
account), as several tenants' tokens are. `accepted_tokens[i]` is the token of `accepted[i]`.

20001 layouts (TikTok documents none; PARTIAL_LAYOUTS): "index" [{"index": 3, ...}],
"index_string" {"failed_events": [{"event_index": "3", ...}]}, "index_list"
{"failed_events": [{"index": [1, 3], ...}]}, "indexes" {"failed_indexes": [1, 3]}, "event_id"
{"errors": [{"event_id": ..., ...}]}, "keyed" {event_id: {"code", "message"}}, "nested"
{"result": {"failed_events": [...]}}; and unreadable ones: "empty" {}, "none" (no data),
"garbled" "partial", "nameless" {"failed_events": [{"code": 40002}]}. A list of layouts is used
one per 20001 answer, the last one again and again.

`events` is every accepted event; `counted_events` is what TikTok counts: one per (pixel or
event set, event, event_id) within its 48 h window, as its deduplication keeps the first.

Used by the tests (pytest fixture `fake_tiktok`), by `tiktok-relay fake-tiktok`, and embedded
by `tiktok-relay replay` when no real token is configured.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from tiktok_relay.testing.local_server import LocalServer, ServiceHandler

DEFAULT_TOKEN = "fake-tiktok-token"
FAULTS = ("http500", "http502", "40100", "50002", "timeout", "drop")
READABLE_LAYOUTS = ("index", "index_string", "index_list", "indexes", "event_id", "keyed", "nested")
UNREADABLE_LAYOUTS = ("empty", "none", "garbled", "nameless")
PARTIAL_LAYOUTS = READABLE_LAYOUTS + UNREADABLE_LAYOUTS
HASHED_USER_FIELDS = ("email", "phone", "external_id", "first_name", "last_name", "zip_code")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_PATH = re.compile(r"^/open_api/v[0-9.]+/event/track/?$")
_HTML = {
    429: b"<html><head><title>429 Too Many Requests</title></head><body>Too Many Requests</body></html>",
    500: b"<html><head><title>500 Internal Server Error</title></head><body>Internal Server Error</body></html>",
    502: b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr>"
         b"<center>nginx</center></body></html>",
    503: b"<html><head><title>503 Service Unavailable</title></head><body>Service Unavailable</body></html>",
    413: b"<html><head><title>413 Request Entity Too Large</title></head><body><center><h1>413 Request Entity Too "
         b"Large</h1></center><hr><center>nginx</center></body></html>",
}
_CODE_MESSAGES = {
    40100: "Too many requests. Please retry in some time.",
    50000: "System error.",
    50002: "System timeout, please retry.",
    40001: "No permission to operate pixel code. You must be an admin or operator of this advertiser account.",
}


class _Problem(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_event(index: int, event: object) -> None:
    where = f"data.{index}"
    if not isinstance(event, dict):
        raise _Problem(40002, f"{where}: not an object")
    if "test_event_code" in event:
        raise _Problem(40002, f"{where}.test_event_code: belongs at the top level")
    if not isinstance(event.get("event"), str) or not event["event"]:
        raise _Problem(40002, f"{where}.event: Missing data for required field.")
    if not isinstance(event.get("event_time"), int) or isinstance(event.get("event_time"), bool):
        raise _Problem(40002, f"{where}.event_time: Not a valid integer.")
    if "event_id" in event and not isinstance(event["event_id"], str):
        raise _Problem(40002, "Invalid value for event_id: not a valid string.")
    _check_user(where, event.get("user", {}))
    properties = event.get("properties", {})
    _check_properties(where, properties)
    _check_contents(where, properties.get("contents", []))


def _check_user(where: str, user: object) -> None:
    if not isinstance(user, dict):
        raise _Problem(40002, f"{where}.user: Not a valid mapping type.")
    for name in HASHED_USER_FIELDS:
        if name not in user:
            continue
        values = user[name] if isinstance(user[name], list) else [user[name]]
        for value in values:
            if not isinstance(value, str):
                raise _Problem(40002, f"{where}.user.{name}: Not a valid string.")
            if not _HEX64.fullmatch(value):
                raise _Problem(40062, f"{where}.user.{name}: PII must be SHA-256 hashed (64 lowercase hex).")
    for name in ("ip", "user_agent", "ttclid", "ttp", "locale", "city", "state", "country"):
        if name in user and not isinstance(user[name], str):
            raise _Problem(40002, f"{where}.user.{name}: Not a valid string.")


def _check_properties(where: str, properties: object) -> None:
    if not isinstance(properties, dict):
        raise _Problem(40002, f"{where}.properties: Not a valid mapping type.")
    if "value" in properties and not _is_number(properties["value"]):
        raise _Problem(40000, "Invalid Value Field")
    currency = properties.get("currency")
    if "currency" in properties and not (isinstance(currency, str) and len(currency) == 3):
        raise _Problem(40002, f"{where}.properties.currency: Not a valid currency.")
    for name in ("order_id", "shop_id"):
        if name in properties and not isinstance(properties[name], str):
            raise _Problem(40002, f"{where}.properties.{name}: Not a valid string.")


def _check_contents(where: str, contents: object) -> None:
    if not isinstance(contents, list):
        raise _Problem(40002, f"{where}.properties.contents: Not a valid list.")
    for n, item in enumerate(contents):
        if not isinstance(item, dict):
            raise _Problem(40002, f"{where}.properties.contents.{n}: Not a valid mapping type.")
        if "content_id" in item and not isinstance(item["content_id"], str):
            raise _Problem(40002, f"{where}.properties.contents.{n}.content_id: Not a valid string")
        if "price" in item and not _is_number(item["price"]):
            raise _Problem(40000, "Invalid Price Field")
        if "quantity" in item and not _is_number(item["quantity"]):
            raise _Problem(40002, f"{where}.properties.contents.{n}.quantity: Not a valid number.")


def check_request(body: object) -> None:
    """Raise _Problem(code, message) for the first thing TikTok would refuse."""
    if not isinstance(body, dict):
        raise _Problem(40002, "Request body must be a JSON object.")
    if body.get("event_source") not in ("web", "app", "offline", "crm"):
        raise _Problem(40002, "Invalid value for event_source.")
    if not isinstance(body.get("event_source_id"), str) or not body["event_source_id"]:
        raise _Problem(40002, "Invalid value for event_source_id: not a valid string.")
    if "test_event_code" in body and not isinstance(body["test_event_code"], str):
        raise _Problem(40002, "Invalid value for test_event_code: not a valid string.")
    data = body.get("data")
    if not isinstance(data, list) or not data:
        raise _Problem(40002, "data: Missing data for required field.")
    if len(data) > 1000:
        raise _Problem(40002, "data: at most 1000 events per request.")
    for index, event in enumerate(data):
        _check_event(index, event)


@dataclass
class Received:
    """One request the fake answered, kept for assertions."""

    body: dict | None
    code: int | None
    http_status: int
    fault: str | None
    request_id: str


@dataclass
class _Rules:
    queued: list[str] = field(default_factory=list)
    rate: float = 0.0
    random_faults: tuple[str, ...] = FAULTS
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    poisoned: dict[str, tuple[int, str]] = field(default_factory=dict)
    partial: bool = False
    layouts: list[str] = field(default_factory=lambda: ["index"])


_Poisoned = list[tuple[int, str, int, str]]  # (index in the request, event_id, code, message)


def _failure(index: int, code: int, message: str, **where: object) -> dict:
    return {**where, "code": code, "message": message} if where else {"index": index, "code": code, "message": message}


def partial_detail(layout: str, poisoned: _Poisoned) -> tuple[bool, object]:
    """(whether to include `data`, its value) of a 20001 naming `poisoned` in `layout`."""
    failures = [_failure(i, c, m) for i, _, c, m in poisoned]
    details: dict[str, object] = {
        "index": failures,
        "index_string": {"failed_events": [_failure(i, c, m, event_index=str(i)) for i, _, c, m in poisoned]},
        "index_list": {"failed_events": [{"index": [i for i, _, _, _ in poisoned], "code": poisoned[0][2],
                                          "message": poisoned[0][3]}]},
        "indexes": {"failed_indexes": [i for i, _, _, _ in poisoned], "succeeded": 1},
        "event_id": {"errors": [_failure(i, c, m, event_id=e) for i, e, c, m in poisoned]},
        "keyed": {e: {"code": c, "message": m} for _, e, c, m in poisoned},
        "nested": {"result": {"failed_events": failures}},
        "empty": {},
        "garbled": "partial",
        "nameless": {"failed_events": [{"code": c, "message": m} for _, _, c, m in poisoned]},
    }
    if layout == "none":
        return False, None
    if layout not in details:
        raise ValueError(f"unknown 20001 layout {layout!r}; known: {', '.join(PARTIAL_LAYOUTS)}")
    return True, details[layout]


class FakeTikTok(LocalServer):
    """Start with `with FakeTikTok() as fake:`; point a client at `fake.base_url` with `fake.access_token`."""

    thread_name = "fake-tiktok"
    base_path = "/open_api"

    def __init__(self, access_token: str = DEFAULT_TOKEN, *, port: int = 0, stall_seconds: float = 1.0,
                 on_accept=None, max_body_bytes: int | None = None):
        self.access_token = access_token
        self.stall_seconds = stall_seconds
        self.max_body_bytes = max_body_bytes
        self.drip_seconds = 0.05
        self.answer_delay = 0.0
        self.retry_after: str | None = None  # the Retry-After header of "http429" and "http5xx" faults
        self._lock = threading.Lock()
        self._rules = _Rules()
        self.received: list[Received] = []
        self.accepted: list[dict] = []  # request bodies TikTok would have taken
        self.accepted_tokens: list[str] = []  # the token each of them came with
        self._tokens: dict[str, frozenset[str] | None] = {}  # allow_token's: token -> its pixels (None: any)
        self.dripped: list[tuple[int, int]] = []  # per "drip" answer: (bytes written, bytes it had)
        self._on_accept = on_accept
        self._listen(port)

    # --- behaviour ------------------------------------------------------------------------

    def fail_next(self, *faults: str | int) -> None:
        with self._lock:
            self._rules.queued.extend(str(f) for f in faults)

    def fail_randomly(self, rate: float, faults: Iterable[str] = FAULTS, *, seed: int = 0) -> None:
        with self._lock:
            self._rules.rate = rate
            self._rules.random_faults = tuple(faults)
            self._rules.rng = random.Random(seed)

    def reject_events(self, event_ids: Iterable[str], *, code: int = 40002, message: str | None = None,
                      partial: bool = False, layout: str | Iterable[str] = "index") -> None:
        """Refuse any request holding one of these event ids, as TikTok refuses a whole batch for one
        bad row. With partial=True, answer 20001 with per-event detail instead (if more than one
        event), in `layout` (one of PARTIAL_LAYOUTS, or a list used one per 20001 answer)."""
        layouts = [layout] if isinstance(layout, str) else list(layout)
        for name in layouts:
            partial_detail(name, [(0, "x", code, "m")])  # an unknown layout fails here, not mid-request
        with self._lock:
            for event_id in event_ids:
                text = message or f"Invalid value for event {event_id}: rejected by the fake."
                self._rules.poisoned[event_id] = (code, text)
            self._rules.partial = partial
            self._rules.layouts = layouts

    def allow_token(self, token: str, *, pixels: Iterable[str] | None = None) -> None:
        """Take `token` too: for requests to `pixels` only, or to any pixel (None)."""
        with self._lock:
            self._tokens[token] = None if pixels is None else frozenset(pixels)

    def reset(self) -> None:
        with self._lock:
            self._rules = _Rules()
            self.received.clear()
            self.accepted.clear()
            self.accepted_tokens.clear()
            self.dripped.clear()

    # --- what it saw ----------------------------------------------------------------------

    @property
    def events(self) -> list[dict]:
        """Every accepted event, with its request's top-level fields under `_request`."""
        with self._lock:
            out: list[dict] = []
            for body in self.accepted:
                top = {k: v for k, v in body.items() if k != "data"}
                out.extend({**event, "_request": top} for event in body["data"])
            return out

    def accepted_ids(self) -> list[str | None]:
        return [event.get("event_id") for event in self.events]

    @property
    def counted_events(self) -> list[dict]:
        """The accepted events TikTok counts: the first of each (event source id, event, event_id);
        every event without an event_id (TikTok cannot deduplicate those)."""
        seen: set[tuple] = set()
        counted = []
        for event in self.events:
            key = (event["_request"].get("event_source_id"), event.get("event"), event.get("event_id"))
            if key[2] is not None and key in seen:
                continue
            seen.add(key)
            counted.append(event)
        return counted

    # --- HTTP -----------------------------------------------------------------------------

    def _next_fault(self) -> str | None:
        with self._lock:
            rules = self._rules
            if rules.queued:
                return rules.queued.pop(0)
            if rules.rate and rules.rng.random() < rules.rate:
                return rules.rng.choice(rules.random_faults)
        return None

    def _answer(self, raw: bytes, token: str | None) -> tuple[int, dict]:
        request_id = uuid.uuid4().hex.upper()

        def reply(body: object, code: int, message: str, **extra: object) -> tuple[int, dict]:
            return self._record(body, 200, {"code": code, "message": message, "request_id": request_id, **extra})

        try:
            body = json.loads(raw)
        except ValueError:
            return reply(None, 40002, "Request body is not valid JSON.")
        if not token:
            return reply(body, 40104, "Access token is empty.")
        with self._lock:
            known, pixels = token == self.access_token or token in self._tokens, self._tokens.get(token)
        if not known:
            return reply(body, 40105, "Access token is invalid.")
        if pixels is not None and isinstance(body, dict) and body.get("event_source_id") not in pixels:
            return reply(body, 40001, _CODE_MESSAGES[40001])
        try:
            check_request(body)
        except _Problem as problem:
            return reply(body, problem.code, problem.message)
        with self._lock:
            poisoned = [(i, self._rules.poisoned[e.get("event_id")]) for i, e in enumerate(body["data"])
                        if e.get("event_id") in self._rules.poisoned]
            partial = self._rules.partial
        if poisoned and (not partial or len(body["data"]) == 1):
            index, (code, message) = poisoned[0]
            return reply(body, code, f"data.{index}: {message}")
        if poisoned:
            kept = [e for i, e in enumerate(body["data"]) if i not in {p[0] for p in poisoned}]
            self._accept({**body, "data": kept}, token)
            with self._lock:
                layouts = self._rules.layouts
                layout = layouts.pop(0) if len(layouts) > 1 else layouts[0]
            named = [(i, body["data"][i].get("event_id"), c, m) for i, (c, m) in poisoned]
            include, detail = partial_detail(layout, named)
            return reply(body, 20001, "Partial success.", **({"data": detail} if include else {}))
        self._accept(body, token)
        return reply(body, 0, "OK", data={})

    def _accept(self, body: dict, token: str) -> None:
        with self._lock:
            self.accepted.append(body)
            self.accepted_tokens.append(token)
        if self._on_accept is not None:
            self._on_accept(body)

    def _record(self, body, status: int, reply: dict, fault: str | None = None) -> tuple[int, dict]:
        with self._lock:
            self.received.append(Received(body, reply.get("code"), status, fault, reply.get("request_id", "")))
        return status, reply


class _Handler(ServiceHandler):
    service: FakeTikTok
    # Headers and body go out as separate writes; without TCP_NODELAY each keep-alive
    # reply waits ~40 ms for the client's delayed ACK (Nagle).
    disable_nagle_algorithm = True

    def _json(self, status: int, payload: dict) -> None:
        self.send_body(status, json.dumps(payload).encode(), "application/json")

    def do_POST(self) -> None:
        fake = self.service
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not _PATH.match(self.path.split("?")[0]):
            return self._json(404, {"code": 40400, "message": "Route not found."})
        if fake.max_body_bytes is not None and length > fake.max_body_bytes:
            fake._record(None, 413, {}, "too_large")
            return self.send_body(413, _HTML[413], "text/html")
        fault = fake._next_fault()
        if fake.answer_delay:
            time.sleep(fake.answer_delay)
        if fault in ("lost_reply", "reset"):  # answered and recorded as usual, but the answer never leaves
            fake._answer(raw, self.headers.get("Access-Token"))
            with fake._lock:
                fake.received[-1].fault = fault
            return self.drop_connection() if fault == "lost_reply" else self.reset_connection()
        if fault is not None and fault != "drip":
            return self._fail(fault)
        status, reply = fake._answer(raw, self.headers.get("Access-Token"))
        if fault == "drip":
            body = json.dumps(reply).encode()
            written = self.send_body_dripping(status, body, "application/json", fake.drip_seconds)
            with fake._lock:
                fake.dripped.append((written, len(body)))
            return None
        self._json(status, reply)

    def _fail(self, fault: str) -> None:
        """Fail as TikTok (or a proxy before it) is known to, recording what was seen."""
        fake = self.service
        if fault in ("timeout", "drop"):
            fake._record(None, 0, {}, fault)
            if fault == "timeout":
                time.sleep(fake.stall_seconds)
            return self.drop_connection()
        if fault.startswith("http"):
            status = int(fault[4:])
            fake._record(None, status, {}, fault)
            headers = {"Retry-After": fake.retry_after} if fake.retry_after is not None else None
            return self.send_body(status, _HTML.get(status, b"<html>error</html>"), "text/html", headers)
        code = int(fault)
        reply = {"code": code, "message": _CODE_MESSAGES.get(code, "Error."), "request_id": uuid.uuid4().hex.upper()}
        fake._record(None, 200, reply, fault)
        self._json(200, reply)


FakeTikTok.handler_class = _Handler
