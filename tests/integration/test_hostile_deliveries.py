"""Hostile and broken Shopify deliveries through the real receiver handler (tiktok_relay/handlers/receiver.py).

The corpus is tests/fixtures/hostile_corpus.py. Each delivery must get its documented status
(401 / 400 / 200 ignored / 202 queued), never a 5xx or an exception, put nothing on the queue
unless it is queued (then exactly one message, hashed PII only, under SQS's 256 KiB), and leave
a log line saying why. Across the whole corpus no raw customer value, webhook secret or TikTok
token appears in logs, metrics, responses, queue messages, idempotency records, dead letters,
or the messages and reprs of exceptions the library raises for the corpus's values.

Most cases run against in-memory ports (the same handler code; fast); a handful run against
moto's SQS, DynamoDB and Secrets Manager for realism. A property-based test adds that any JSON
document under a valid signature gets a non-5xx answer.
"""

from __future__ import annotations

import ast
import base64
import dataclasses
import hashlib
import hmac
import inspect
import json
import textwrap
import traceback
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.fixtures.hostile_corpus import (
    CASES,
    CASES_BY_ID,
    HASH,
    OLD_WEBHOOK_SECRET,
    PII_FORMS,
    SECRET_FORMS,
    SHOP,
    TIKTOK_TOKEN,
    WEBHOOK_SECRET,
    Case,
    order,
    sign,
)
from tests.support import json_lines
from tests.support.aws import LOCAL_WEBHOOK_SECRET, PIXEL_ID
from tiktok_relay.local.lambda_context import FakeLambdaContext
from tiktok_relay.pipeline.messages import MAX_MESSAGE_BYTES, QueuedDelivery

SQS_MAX_BYTES = 256 * 1024
HASHED_USER_FIELDS = ("email", "phone", "external_id", "first_name", "last_name", "zip_code")
MOTO_CASES = ("sig-wrong-digest", "body-deeply-nested-arrays", "body-6mb", "fields-5000-line-items",
              "fields-emoji-and-rtl-names-and-emails", "topic-unknown", "header-topic-missing")
# The moto fixture's secrets (tests/integration/conftest.py): never printed either.
MOTO_SECRET_FORMS = (LOCAL_WEBHOOK_SECRET, "fake-tiktok-token")


def test_the_corpus_is_big_enough_and_covers_every_category():
    by_category: dict[str, int] = {}
    for case in CASES:
        by_category[case.category] = by_category.get(case.category, 0) + 1
    assert len(CASES) >= 40
    assert set(by_category) == {"signature", "body", "fields", "headers"}
    assert min(by_category.values()) >= 8, by_category
    assert {case.status for case in CASES} == {202, 200, 400, 401}


# --- fixtures ----------------------------------------------------------------------------------------


@dataclass
class Relay:
    queue: Any  # MemoryQueue
    idempotency: Any  # MemoryIdempotencyStore


@pytest.fixture
def relay(receiver_app):
    """The receiver with in-memory ports, configured with the corpus's secret (and an old one
    still listed, as during a rotation)."""
    from tiktok_relay.local.memory import MemoryIdempotencyStore, MemoryQueue
    from tiktok_relay.pipeline import runtime
    from tiktok_relay.pipeline.receive import Receiver
    from tiktok_relay.pipeline.runtime import StaticSecret
    from tiktok_relay.sources.shopify.receiver import ShopifySource
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    queue, store = MemoryQueue(), MemoryIdempotencyStore()
    source = ShopifySource(secrets=StaticSecret(f"{WEBHOOK_SECRET}, {OLD_WEBHOOK_SECRET}"), settings=ShopifySettings(),
                           pixel_id=PIXEL_ID)
    runtime.install(receiver=Receiver(source=source, queue=queue, idempotency_store=store))
    yield Relay(queue, store)
    runtime.install()


@pytest.fixture
def observed(powertools_stdout, receiver_app, sender_app, monkeypatch):
    """Captured Powertools output with INFO logs and EMF metrics on, whatever earlier tests left
    in the environment (the local pipeline defaults them to WARNING and off)."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    levels = {app: app.logger.log_level for app in (receiver_app, sender_app)}
    for app in levels:
        app.logger.setLevel("INFO")
    yield powertools_stdout
    for app, level in levels.items():
        app.logger.setLevel(level)


# --- helpers -----------------------------------------------------------------------------------------


def deliver(receiver_app, event: dict) -> dict:
    try:
        return receiver_app.lambda_handler(event, FakeLambdaContext(function_name="receiver"))
    except Exception as exc:  # noqa: BLE001 - the point is that nothing escapes
        pytest.fail(f"the receiver handler raised {type(exc).__name__}")


@dataclass
class Seen:
    """Everything one delivery produced."""

    response: dict
    stdout: str
    stderr: str
    messages: list[tuple[str, dict]]  # (body, attributes)
    stored: list[str] = field(default_factory=list)  # idempotency records, as text

    @property
    def lines(self) -> list[dict]:
        return json_lines(self.stdout)

    @property
    def logs(self) -> list[dict]:
        return [line for line in self.lines if "level" in line]

    @property
    def metrics(self) -> list[dict]:
        return [line for line in self.lines if "_aws" in line]

    def texts(self) -> list[str]:
        out = [self.stdout, self.stderr, json.dumps(self.response), *self.stored]
        for body, attributes in self.messages:
            out += [body, json.dumps(attributes)]
        return out


def readable(texts: list[str]) -> str:
    """The texts, plus each JSON document in them (whole texts, lines, and JSON held in string
    values, such as a response's body) re-dumped without ASCII escapes, so that non-ASCII
    values (RTL names) are found whether they were written escaped or not."""
    out = list(texts)

    def unescape(value: Any, depth: int = 0) -> None:
        if depth > 5:
            return
        if isinstance(value, str):
            value = value.strip()
            if value[:1] not in ("{", "["):
                return
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):
                return
            out.append(json.dumps(value, ensure_ascii=False))
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            for item in value:
                unescape(item, depth + 1)

    for text in texts:
        for candidate in [text, *text.splitlines()]:
            unescape(candidate)
    return "\n".join(out).lower()


def assert_nothing_leaked(texts: list[str], *, extra: tuple[str, ...] = (), secrets: tuple[str, ...] = ()) -> None:
    blob = readable(texts)
    for value in PII_FORMS + extra:
        assert value.lower() not in blob, f"customer value leaked: {value!r}"
    for value in SECRET_FORMS + secrets:
        assert value.lower() not in blob, "a secret or token leaked"


@pytest.mark.parametrize("leak", [
    '{"level": "INFO", "detail": "ZXQ.Privacy.Canary@Example.COM"}',  # another case
    json.dumps({"reason": "bad name \u05e7\u05d5\u05d5\u05d0\u05e7\u05d4"}),  # escaped RTL in JSON
    json.dumps({"statusCode": 400, "body": json.dumps({"reason": "\u0641\u0646\u064a\u0645\u0648\u0631"})}),
    '{"user": {"phone": ["+447400900417"]}}',  # normalized (E.164), not hashed
    "zip=zx99zz",  # normalized zip
    "street: 17 canary wharf lane",
    f"Access-Token: {TIKTOK_TOKEN}",
    f"secret={OLD_WEBHOOK_SECRET}",
])
def test_the_leak_scanner_finds_every_form(leak):
    with pytest.raises(AssertionError):
        assert_nothing_leaked(["nothing to see", leak])


def check_delivery(case: Case, seen: Seen, *, secrets: tuple[str, ...] = ()) -> None:
    response = seen.response
    status = response["statusCode"]
    assert status < 500, f"{case.id}: {status} {response.get('body')}"
    assert status == case.status, f"{case.id}: expected {case.status}, got {status} {response.get('body')}"
    body = json.loads(response["body"])
    assert body["status"] == case.outcome, body

    if case.outcome == "queued":
        assert "reason" not in body and body["events"] == 1, body
        assert len(seen.messages) == 1, f"{len(seen.messages)} messages queued"
        check_message(case, *seen.messages[0])
    else:
        assert isinstance(body.get("reason"), str) and body["reason"], body
        if case.reason:
            assert case.reason in body["reason"], body["reason"]
        assert seen.messages == [], "a refused or ignored delivery put something on the queue"

    # The log says why, at the right level; nothing is logged as an error.
    logs = seen.logs
    assert not [line for line in logs if line["level"] in ("ERROR", "CRITICAL")], logs
    if case.outcome == "rejected":
        why = [line for line in logs if line["message"] == "delivery not accepted"]
        assert [(line["level"], line["status"], line["reason"]) for line in why] == [
            ("WARNING", status, body["reason"])]
    elif case.outcome == "ignored":
        why = [line for line in logs if line["message"] == "delivery ignored"]
        assert [(line["level"], line["reason"]) for line in why] == [("INFO", body["reason"])]
    else:
        assert [line["level"] for line in logs if line["message"] == "delivery queued"] == ["INFO"]
    if case.warning:
        details = [line.get("detail", "") for line in logs
                   if line["message"] == "mapping adjusted the event" and line["level"] == "WARNING"]
        assert any(case.warning in detail for detail in details), details
    for line in logs:
        assert "tiktok-relay bug" not in json.dumps(line), line

    # Metrics (EMF) count it; a rejection carries its status as the reason dimension.
    names = {metric["Name"]: doc for doc in seen.metrics for directive in doc["_aws"]["CloudWatchMetrics"]
             for metric in directive["Metrics"]}
    assert "WebhooksReceived" in names, seen.metrics
    if case.outcome == "rejected":
        assert names["WebhooksRejected"]["reason"] == str(status)

    assert_nothing_leaked(seen.texts(), extra=case.pii, secrets=secrets)


def check_message(case: Case, body: str, attributes: dict) -> None:
    from tiktok_relay.testing.fake_tiktok import check_request

    assert len(body.encode("utf-8")) <= MAX_MESSAGE_BYTES < SQS_MAX_BYTES
    QueuedDelivery.model_validate_json(body)  # what the sender will parse
    queued = json.loads(body)
    assert queued["shop"] == SHOP and attributes["shop"] == SHOP
    assert queued["topic"] == attributes["topic"]
    request = queued["request"]
    check_request(request)  # what TikTok checks, hashed PII included
    [event] = request["data"]
    for name in HASHED_USER_FIELDS:
        values = event.get("user", {}).get(name)
        for value in values if isinstance(values, list) else [values] if values else []:
            assert HASH.fullmatch(value), (name, value)
    if case.check:
        case.check(event)


def seen_in_memory(case: Case, receiver_app, relay: Relay, observed) -> Seen:
    response = deliver(receiver_app, case.build(WEBHOOK_SECRET))
    captured = observed.readouterr()
    records = list(relay.idempotency._records.values())
    stored = [repr(vars(record)) for record in records] + [record.response_data or "" for record in records]
    return Seen(response, captured.out, captured.err, [(m.body, m.attributes) for m in relay.queue.sent], stored)


# --- the corpus, in memory ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_hostile_delivery(case, receiver_app, relay, observed):
    check_delivery(case, seen_in_memory(case, receiver_app, relay, observed))


# --- any JSON under a valid signature: never a 5xx ------------------------------------------------------

_json_leaf = (st.none() | st.booleans() | st.integers() | st.integers(min_value=10**18, max_value=10**4300 - 1)
              | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30)
              | st.sampled_from(["", "1e308", "-0", "NaN", "2024-05-02T10:15:31+01:00", "gid://shopify/Order/1",
                                 "ＡＢ＠ｃｄ．ｃｏｍ", "%2540", "&#64;", "\ud800"]))
json_documents = st.recursive(_json_leaf, lambda children: st.lists(children, max_size=5)
                              | st.dictionaries(st.text(max_size=15), children, max_size=6), max_leaves=30)
ORDER_KEYS = sorted(order())
TOPICS = ["orders/paid", "orders/create", "checkouts/create", "checkouts/update", "carts/create", "carts/update",
          "customers/create", "refunds/create", "ORDERS_PAID", "products/update"]


def _signed_json(topic: str, payload: Any) -> dict:
    from tests.fixtures.hostile_corpus import delivery

    return delivery(topic, body=_json_bytes(payload))(WEBHOOK_SECRET)


def _json_bytes(payload: Any) -> bytes:
    try:
        return json.dumps(payload).encode("utf-8", "surrogatepass")
    except (ValueError, OverflowError):
        return b"{}"


@hsettings(max_examples=250, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(topic=st.sampled_from(TOPICS),
       payload=json_documents | st.fixed_dictionaries({}, optional={key: json_documents for key in ORDER_KEYS}),
       on_an_order=st.booleans())
@example(topic="checkouts/create", on_an_order=False,
         payload={"token": "t1", "line_items": [{"quantity": int("9" * 4300), "variant_id": 1},
                                                {"quantity": int("9" * 4300), "variant_id": 2}]})
@example(topic="orders/paid", on_an_order=True, payload={"total_price": 10**4300 - 1, "line_items": [{"price": 1e308}]})
def test_any_json_under_a_valid_signature_gets_a_non_5xx_answer(receiver_app, relay, topic, payload, on_an_order):
    """Whatever a signed body holds (any JSON document, or a realistic order with any of its
    fields replaced by any JSON), the answer is 2xx or 4xx: a 5xx makes Shopify retry it for 4
    hours and then delete the subscription. (Idempotency keeps earlier examples: a repeat is a
    200 duplicate, which is fine too.)"""
    if on_an_order and isinstance(payload, dict):
        payload = {**order(), **payload}
    response = deliver(receiver_app, _signed_json(topic, payload))
    assert response["statusCode"] < 500, (response["statusCode"], response["body"])
    assert json.loads(response["body"])["status"] in ("queued", "ignored", "duplicate", "rejected")


# --- a few of them against moto (SQS's own size limit, DynamoDB idempotency, Secrets Manager) -----


@pytest.mark.parametrize("case_id", MOTO_CASES)
def test_hostile_delivery_on_moto(case_id, aws, receiver_app, observed):
    import boto3

    case = CASES_BY_ID[case_id]
    response = deliver(receiver_app, case.build(LOCAL_WEBHOOK_SECRET))
    captured = observed.readouterr()
    messages = [(m["Body"], {k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()})
                for m in aws.messages()]
    stored = [json.dumps(item, default=str) for item in boto3.client("dynamodb").scan(TableName=aws.table)["Items"]]
    seen = Seen(response, captured.out, captured.err, messages, stored)
    check_delivery(case, seen, secrets=MOTO_SECRET_FORMS)
    assert aws.messages(aws.dlq_url) == []


# --- what follows a 202: the sender and the dead-letter store --------------------------------------


def test_queued_corpus_dead_lettered_by_tiktok_carries_no_pii(receiver_app, sender_app, relay, observed):
    """Every delivery of the corpus that is queued, refused by TikTok for bad data: the dead
    letters, the sender's logs and what reached TikTok hold hashed data only, and no token."""
    from tiktok_relay.config import TikTokSettings
    from tiktok_relay.local.memory import MemoryDeadLetters
    from tiktok_relay.pipeline import runtime
    from tiktok_relay.pipeline.runtime import StaticSecret
    from tiktok_relay.pipeline.send import QueueSender
    from tiktok_relay.testing.fake_tiktok import FakeTikTok

    queued = [case for case in CASES if case.outcome == "queued"]
    for case in queued:
        relay.idempotency._records.clear()  # some cases share a topic and body: each is queued as itself
        assert deliver(receiver_app, case.build(WEBHOOK_SECRET))["statusCode"] == 202, case.id
    messages = list(relay.queue.sent)
    assert len(messages) == len(queued)
    event_ids = {json.loads(m.body)["request"]["data"][0]["event_id"] for m in messages}

    dead_letters = MemoryDeadLetters()
    with FakeTikTok(TIKTOK_TOKEN, stall_seconds=0.2) as fake:
        fake.reject_events(event_ids, message="Invalid value for user: rejected by the fake.")
        settings = TikTokSettings(access_token=None, base_url=fake.base_url)
        runtime.install(receiver=runtime.receiver(), sender=QueueSender(
            client=runtime.client_factory(settings, StaticSecret(TIKTOK_TOKEN)), dead_letters=dead_letters))
        for start in range(0, len(messages), 10):
            records = [m.as_sqs_record() for m in messages[start:start + 10]]
            result = sender_app.lambda_handler({"Records": records},
                                               FakeLambdaContext(function_name="sender", timeout_seconds=60))
            assert result == {"batchItemFailures": []}
        received = [json.dumps(r.body) for r in fake.received]

    assert len(dead_letters.records) == len(messages)
    assert {record["request"]["data"][0]["event_id"] for record in dead_letters.records} == event_ids
    captured = observed.readouterr()
    texts = [captured.out, captured.err, *received, *(json.dumps(record) for record in dead_letters.records)]
    assert_nothing_leaked(texts, extra=tuple(p for case in queued for p in case.pii))


# --- exceptions the library raises for the corpus's values -------------------------------------------

PII_KEYS = frozenset({"email", "contact_email", "phone", "first_name", "last_name", "name", "address1", "address2",
                      "zip", "browser_ip", "customer", "billing_address", "default_address"})


def _payload(event: dict) -> Any:
    text = event.get("body")
    if text is None:
        return None
    try:
        raw = base64.b64decode(text, validate=True) if event.get("isBase64Encoded") else text.encode("utf-8")
        return json.loads(raw)
    except (ValueError, RecursionError, UnicodeError):
        return None


def _raw_values(value: Any, out: list[Any], key: str | None = None, depth: int = 0) -> list[Any]:
    """Values under customer-data keys anywhere in a payload (strings, and odd types as they are)."""
    if depth > 50:
        return out
    if key in PII_KEYS and not isinstance(value, dict):
        out.append(value)
    if isinstance(value, dict):
        for name, item in value.items():
            _raw_values(item, out, name, depth + 1)
    elif isinstance(value, list):
        for item in value[:20]:
            _raw_values(item, out, key, depth + 1)
    return out


def _attempts(value: Any):
    """Library calls that raise for bad input; each is given a raw customer value."""
    from tiktok_relay.pipeline.messages import QueuedDelivery
    from tiktok_relay.sources.shopify.signature import verify_shopify_signature
    from tiktok_relay.tiktok import normalize, phones
    from tiktok_relay.tiktok.models import Event, Properties, TrackRequest, User

    text = value if isinstance(value, str) else json.dumps(value)
    yield lambda: normalize.hash_email(value)
    yield lambda: normalize.normalize_email(text)
    yield lambda: normalize.hash_phone(value, "GB")
    yield lambda: phones.normalize_phone(text)
    yield lambda: normalize.hash_name(value)
    yield lambda: normalize.hash_zip(value)
    yield lambda: normalize.normalize_ip(value)
    yield lambda: normalize.normalize_place(value)
    yield lambda: User(email=value, phone=value, first_name=value, zip_code=value, ip=value)
    yield lambda: User(phone=value, phone_region=value)
    yield lambda: User(country=value, city=value, state=value, att_status=value)
    yield lambda: Event(event=value, event_time=value, event_id=value, user={"email": value})
    yield lambda: Event(event="Purchase", event_time=1795600000, user={"phone": value, "external_id": value})
    yield lambda: Properties(currency=value, value=value, order_id=value, contents=[{"content_id": value,
                                                                                    "price": value}])
    yield lambda: TrackRequest(event_source=value, event_source_id=value,
                               data=[{"event": "Purchase", "event_time": value, "user": {"email": value}}])
    yield lambda: QueuedDelivery.model_validate_json(json.dumps(
        {"webhook_id": value, "shop": SHOP, "topic": "orders/paid",
         "request": {"event_source": "web", "event_source_id": PIXEL_ID,
                     "data": [{"event": "Purchase", "event_time": 1795600000, "user": {"phone": value}}]}}))
    yield lambda: verify_shopify_signature({"X-Shopify-Hmac-Sha256": text}, text.encode("utf-8", "replace"),
                                           [WEBHOOK_SECRET])


def _exception_texts(exc: BaseException) -> list[str]:
    out = []
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        out += [repr(exc), str(exc), *traceback.format_exception_only(type(exc), exc)]
        out += [repr(problem) for problem in getattr(exc, "problems", [])]
        # What a traceback shows: the cause, or the context unless `raise ... from None` hid it.
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return out


def test_exceptions_raised_for_corpus_values_never_carry_them():
    from tiktok_relay.sources.shopify.mapping import map_webhook, to_request_body
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    provoked: dict[str, int] = {}
    texts: list[str] = []
    extra: list[str] = []
    tried: set[str] = set()
    for case in CASES:
        extra += case.pii
        payload = _payload(case.build(WEBHOOK_SECRET))
        if payload is None:
            continue
        if isinstance(payload, dict):
            result = map_webhook("orders/paid", payload, SHOP, ShopifySettings(), now=1795600000)
            texts += [result.reason or "", *result.warnings, repr(result)[:2_000_000]]
            if result.events:
                texts.append(json.dumps(to_request_body(result, pixel_id=PIXEL_ID, test_event_code=None)))
        for value in _raw_values(payload, []):
            if (key := repr(value)) in tried:  # most cases share the same customer data
                continue
            tried.add(key)
            for attempt in _attempts(value):
                try:
                    attempt()
                except Exception as exc:  # noqa: BLE001 - every kind is checked
                    provoked[type(exc).__name__] = provoked.get(type(exc).__name__, 0) + 1
                    texts += _exception_texts(exc)
    assert provoked.get("EventValidationError", 0) > 50, provoked
    assert provoked.get("ValueError", 0) > 50, provoked
    assert provoked.get("SignatureError", 0) > 50, provoked
    assert set(provoked) <= {"EventValidationError", "ValueError", "SignatureError"}, provoked
    assert_nothing_leaked(texts, extra=tuple(extra))


def test_the_receivers_reply_and_repr_carry_no_pii_or_secret(relay):
    """The Reply the library hands the handler, and the receiver object itself."""
    from tiktok_relay.pipeline import runtime

    texts = [repr(runtime.receiver()), repr(vars(runtime.receiver()))]
    for case in CASES:
        relay.idempotency._records.clear()  # some cases share a topic and body: each is answered as itself
        event = case.build(WEBHOOK_SECRET)
        reply = runtime.receiver().handle(event["headers"], event["body"], event["isBase64Encoded"],
                                          FakeLambdaContext(function_name="receiver"))
        assert reply.status == case.status, case.id
        texts += [repr(reply), json.dumps(reply.body), json.dumps(dataclasses.asdict(reply))]  # as stored
    assert_nothing_leaked(texts)


# --- the signature comparison is constant-time ------------------------------------------------------


@pytest.fixture
def compare_calls(monkeypatch):
    """Spy on hmac.compare_digest as the signature module sees it (every store's HMAC check is
    sources/common/signing.py's)."""
    from tiktok_relay.sources.common import signing as signature

    calls: list[tuple[bytes, bytes]] = []

    def compare_digest(a, b):
        calls.append((a, b))
        return hmac.compare_digest(a, b)

    monkeypatch.setattr(signature, "hmac", SimpleNamespace(new=hmac.new, compare_digest=compare_digest))
    return calls


def _with_byte_flipped(value: str, index: int) -> str:
    digest = bytearray(base64.b64decode(value))
    digest[index] ^= 0x80
    return base64.b64encode(bytes(digest)).decode()


def test_signatures_are_compared_with_compare_digest_on_the_raw_digests(compare_calls):
    from tiktok_relay.errors import SignatureError
    from tiktok_relay.sources.shopify.signature import verify_shopify_signature

    body = json.dumps(order()).encode()
    good = sign(body, WEBHOOK_SECRET)
    expected = [hmac.new(secret.encode(), body, hashlib.sha256).digest() for secret in (WEBHOOK_SECRET,
                                                                                          OLD_WEBHOOK_SECRET)]
    candidates = {
        "right": good,
        "last-byte-differs": _with_byte_flipped(good, -1),
        "first-byte-differs": _with_byte_flipped(good, 0),
        "right-length-all-wrong": base64.b64encode(bytes(32)).decode(),
    }
    paths = {}
    for name, value in candidates.items():
        compare_calls.clear()
        try:
            verify_shopify_signature({"x-shopify-hmac-sha256": value}, body, [WEBHOOK_SECRET, OLD_WEBHOOK_SECRET])
            accepted = True
        except SignatureError:
            accepted = False
        assert accepted is (name == "right"), name
        # Every configured secret is compared, the match or not, each on the 32 decoded bytes.
        assert compare_calls == [(digest, base64.b64decode(value)) for digest in expected], name
        paths[name] = [(type(a), len(a), type(b), len(b)) for a, b in compare_calls]
    assert len(set(map(tuple, paths.values()))) == 1, paths


def test_the_handler_rejects_near_misses_through_the_same_compare_path(compare_calls, receiver_app, relay):
    """A wrong signature of the right length and one differing only in its last byte take the
    same path through the handler: the same compare_digest calls on same-sized digests."""
    paths = {}
    for name, spoil in (("all-wrong", lambda v: base64.b64encode(bytes(32)).decode()),
                        ("last-byte", lambda v: _with_byte_flipped(v, -1))):
        event = CASES_BY_ID["sig-wrong-digest"].build(WEBHOOK_SECRET)
        event["headers"]["x-shopify-hmac-sha256"] = spoil(sign(base64.b64decode(event["body"]) if
                                                               event["isBase64Encoded"] else event["body"].encode(),
                                                               WEBHOOK_SECRET))
        compare_calls.clear()
        response = deliver(receiver_app, event)
        assert response["statusCode"] == 401, response
        # Two secrets, each compared once: the refresh after the failure returned the same secrets
        # (a forged request never makes the body be hashed twice with one secret).
        assert len(compare_calls) == 2, name
        paths[name] = [(len(a), len(b)) for a, b in compare_calls]
    assert paths["all-wrong"] == paths["last-byte"] == [(32, 32)] * 2
    assert relay.queue.sent == []


def test_verification_never_compares_digests_with_equality():
    """Every store's check ends in common/signing.py's hmac_matches, which compares with
    compare_digest only; none of them compares a digest with == on its way there."""
    from tiktok_relay.sources.common import signing
    from tiktok_relay.sources.shopify import signature
    from tiktok_relay.sources.stripe import signature as stripe_signature

    digest_names = {"expected", "received", "digest", "digests"}
    checks = (signature.verify_shopify_signature, signing.BodySignature.verify, signing.hmac_matches,
              stripe_signature.verify_stripe_signature)
    calls: dict[str, set[str]] = {}
    for function in checks:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                assert not names & digest_names, ast.unparse(node)
        calls[function.__name__] = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert "hmac.compare_digest" in calls["hmac_matches"]
    assert "hmac_matches" in calls["verify"] and "hmac_matches" in calls["verify_stripe_signature"]
    assert calls["verify_shopify_signature"] == {"SIGNATURE.verify"}


# --- specifics the corpus alone does not show -------------------------------------------------------


def test_the_5000_item_delivery_fits_one_sqs_message(receiver_app, relay):
    response = deliver(receiver_app, CASES_BY_ID["fields-5000-line-items"].build(WEBHOOK_SECRET))
    assert response["statusCode"] == 202
    [message] = relay.queue.sent
    assert len(message.body.encode()) < SQS_MAX_BYTES
    contents = json.loads(message.body)["request"]["data"][0]["properties"]["contents"]
    assert len(contents) == 250


def test_deep_nesting_is_a_400_and_the_relay_keeps_working(receiver_app, relay):
    """RecursionError is handled in receive.py: the next delivery is served normally."""
    for case_id in ("body-deeply-nested-arrays", "body-deeply-nested-objects", "body-deep-nesting-inside-an-order"):
        response = deliver(receiver_app, CASES_BY_ID[case_id].build(WEBHOOK_SECRET))
        assert response["statusCode"] == 400 and "nested too deeply" in response["body"]
    assert deliver(receiver_app, CASES_BY_ID["topic-graphql-enum-form"].build(WEBHOOK_SECRET))["statusCode"] == 202
    assert len(relay.queue.sent) == 1


def test_a_rejected_delivery_does_not_block_its_genuine_retry(receiver_app, relay):
    """A forged delivery (wrong signature) reusing a real webhook id is not remembered."""
    genuine = CASES_BY_ID["topic-graphql-enum-form"].build(WEBHOOK_SECRET)
    forged = json.loads(json.dumps(genuine))
    forged["headers"]["x-shopify-hmac-sha256"] = base64.b64encode(bytes(32)).decode()
    assert deliver(receiver_app, forged)["statusCode"] == 401
    assert deliver(receiver_app, genuine)["statusCode"] == 202
    assert deliver(receiver_app, genuine)["statusCode"] == 200  # Shopify's retry: a duplicate
    assert len(relay.queue.sent) == 1


def test_the_template_never_logs_whole_events():
    """Powertools would log each raw delivery (with its PII) if this were switched on."""
    from tests.support import ROOT

    template = (ROOT / "template.yaml").read_text()
    assert "POWERTOOLS_LOGGER_LOG_EVENT" not in template
    assert "log_event=True" not in (ROOT / "layers/tiktok_relay/tiktok_relay/handlers/receiver.py").read_text()


def test_an_email_in_the_landing_pages_query_is_not_sent_in_clear(receiver_app, relay):
    from urllib.parse import unquote

    from tests.fixtures.hostile_corpus import delivery

    payload = order(landing_site="/pages/welcome?email=zxq.privacy.canary%40example.com&utm_source=newsletter")
    assert deliver(receiver_app, delivery("orders/paid", payload)(WEBHOOK_SECRET))["statusCode"] == 202
    [message] = relay.queue.sent
    assert "privacy.canary" not in unquote(message.body)
    assert json.loads(message.body)["request"]["data"][0]["page"]["url"].endswith("/pages/welcome?utm_source=newsletter")
