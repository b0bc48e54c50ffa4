"""Faults, with nothing lost (issue §2) and privacy across them (issue §3).

The local pipeline test replays a few hundred signed Shopify deliveries (with webhook
re-deliveries, replayed bodies and a business duplicate mixed in) through the real receiver and sender handler
modules, an in-memory queue with SQS receive counts and redelivery, and the fake TikTok
failing about a third of its requests in every way it knows, plus one poisoned event. Then
it checks that every good event reached TikTok exactly as often as it was enqueued, that the
poisoned one is dead-lettered with TikTok's message while its batch-mates arrive, that
re-deliveries did not multiply sends, and that no raw PII or secret appears anywhere.

The moto tests take the Lambda path (receiver Lambda -> SQS -> sender Lambda): a queue that
disappears mid-run (503, Shopify's retry gets through, delivered exactly once end to end),
and the same kind of faults with the DLQ on moto SQS.

Everything random is seeded; outcomes are deterministic, timings are not asserted.
"""

from __future__ import annotations

import collections
import copy
import datetime
import json
import random
import re
import traceback
import uuid
from dataclasses import dataclass, field

import pytest
import urllib3

from tests.support import DUPLICATE_REASON, json_lines
from tests.support.aws import LOCAL_WEBHOOK_SECRET, PIXEL_ID
from tiktok_relay.tiktok.matching import MATCH_KEYS

# --- knobs -----------------------------------------------------------------------------------

DATA_SEED = 20260611  # what is delivered, in which order, which ones are duplicated
FAULT_SEED = 6  # the fake's fault sequence (requests are sequential, so it is reproducible)
CLIENT_SEED = 7  # backoff jitter (timing only)
FAULT_RATE = 0.33
N_ORDERS, N_CHECKOUTS, N_CARTS, N_CUSTOMERS = 250, 50, 40, 30
N_REDELIVERED_AT_ONCE, N_REDELIVERED_LATER, N_REDELIVERED_AT_END = 15, 25, 5
N_BUSINESS_DUPLICATE_ORDERS = 4  # plus one checkouts/update of an earlier checkouts/create
DRAIN_EVERY = 40  # deliveries between sender runs, so late duplicates arrive after sending
BATCH_SIZE = 10
MAX_RECEIVES = 8
# 0.5 s rather than 0.2 s: a *spurious* read timeout on a request the fake did accept (a
# loaded CI machine) would be a genuine resend that only TikTok's event_id dedup absorbs, and
# the fake does not dedup. The fake answers in ~1 ms, so 0.5 s leaves a wide margin.
READ_TIMEOUT = 0.5
STALL_SECONDS = 0.8  # the fake's "timeout" fault: longer than READ_TIMEOUT
RETRY = dict(max_attempts=4, base_delay=0.01, max_delay=0.05)

SHOP = "faults-demo.myshopify.com"
WEBHOOK_SECRET = "whsec-faults-Vq7Np2Rk9Ls4Tm8Wx3Yz6Hb1Jd"
TIKTOK_TOKEN = "ttk-faults-Gh5Kp8Mn2Qr7St4Vw9Xy3Zb6"
POISON_MESSAGE = "Invalid value for properties.value: poisoned on purpose by test_faults."

# Every raw PII value generated below contains one of these markers (checked when generating),
# so one case-insensitive regex finds any of them, whole or in part, raw or normalized:
# names Quorvin*/Zyxwarth*, emails @FaultMail.example, streets *Quillfeather*, UK drama phone
# numbers 07700 900xxx in any format, postcodes ZXnn nQJ with or without the space.
PII = re.compile(r"quorvin|zyxwarth|faultmail|quillfeather|7700[\s.\-]?900|zx\d\d\s?\dqj", re.IGNORECASE)
CODE_LETTERS = "ghjkmnpqrstvwxyz"  # no hex digits: a name code can never hide in a SHA-256


# --- deliveries --------------------------------------------------------------------------------


@dataclass
class Delivery:
    label: str  # "orders/paid #12", for messages
    topic: str
    event: dict  # the signed API Gateway v2 event
    webhook_id: str
    event_id_prefix: str  # the event_id, or for carts its prefix (the digest follows)
    kind: str = "original"  # original | redelivery | replayed-body | business-duplicate
    of: Delivery | None = None  # what a redelivery, replay or business duplicate repeats
    pii: list[str] = field(default_factory=list)


def _code(n: int) -> str:
    return "".join(CODE_LETTERS[(n >> shift) & 15] for shift in (8, 4, 0))


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).isoformat()


class Generator:
    """Distinct, valid deliveries with distinctive invented PII; everything from one seed."""

    def __init__(self, seed: int, secret: str):
        import time

        from tests.fixtures.make_events import ADDRESS, CART, CHECKOUT, CUSTOMER, LINE_ITEMS, ORDER

        self.templates = {"address": ADDRESS, "cart": CART, "checkout": CHECKOUT, "customer": CUSTOMER,
                          "line_items": LINE_ITEMS, "order": ORDER}
        self.rng = random.Random(seed)
        self.secret = secret
        self.now = time.time()
        self.serial = 0

    def webhook_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def token(self) -> str:
        return "%032x" % self.rng.getrandbits(128)

    def when(self) -> float:
        return self.now - self.rng.randint(60, 2 * 24 * 3600)

    def person(self, n: int, *, odd: bool) -> tuple[dict, dict, list[str]]:
        """(customer, address, raw PII values). `odd` adds an unusable phone and email, which
        the mapping drops with a warning that must not quote them."""
        first, last = f"Quorvin{_code(n)}", f"Zyxwarth{_code(n)}"
        email = f"{first}.{last}@FaultMail.example"
        national, e164 = f"07700 900{n:03d}", f"+447700900{n:03d}"
        street, unit, zip_code = f"{n} Quillfeather Mews", f"Quillfeather Annex {n}", f"ZX{10 + n % 90} {n % 10}QJ"
        address = {**self.templates["address"], "first_name": first, "last_name": last, "name": f"{first} {last}",
                   "address1": street, "address2": unit, "zip": zip_code, "phone": national}
        customer_id = 8_200_000_000_000 + n
        customer = {**self.templates["customer"], "id": customer_id, "email": email, "first_name": first,
                    "last_name": last, "phone": e164, "state": "enabled",
                    "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
                    "default_address": {**address, "id": 9_300_000_000_000 + n, "customer_id": customer_id,
                                        "default": True}}
        pii = [first, last, email, national, e164, street, unit, zip_code]
        if odd:
            address["phone"] = f"+44 7700 900{n:03d} 0000 0000"  # too long: dropped
            pii += [address["phone"], f"Quorvin{_code(n)} at FaultMail"]
        return customer, address, pii

    def lines(self) -> list[dict]:
        items = []
        for template in self.templates["line_items"][: self.rng.randint(1, 2)]:
            price = f"{self.rng.randint(3, 90)}.{self.rng.randint(0, 99):02d}"
            items.append({**template, "quantity": self.rng.randint(1, 4), "price": price,
                          "price_set": {"shop_money": {"amount": price, "currency_code": "GBP"},
                                        "presentment_money": {"amount": price, "currency_code": "GBP"}}})
        return items

    def order(self, n: int) -> tuple[str, dict, str, list[str]]:
        customer, address, pii = self.person(n, odd=n % 25 == 3)
        order_id = 6_100_000_000_000 + n
        lines = self.lines()
        total = f"{sum(float(i['price']) * i['quantity'] for i in lines):.2f}"
        when = _iso(self.when())
        payload = {**self.templates["order"], "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
                   "name": f"#F{n}", "order_number": 20_000 + n, "email": customer["email"],
                   "contact_email": f"Quorvin{_code(n)} at FaultMail" if n % 25 == 3 else customer["email"],
                   "phone": customer["phone"], "created_at": when, "processed_at": when, "updated_at": when,
                   "token": self.token(), "checkout_token": self.token(), "cart_token": self.token(),
                   "total_price": total, "subtotal_price": total, "currency": "GBP", "presentment_currency": "GBP",
                   "total_price_set": {"shop_money": {"amount": total, "currency_code": "GBP"},
                                       "presentment_money": {"amount": total, "currency_code": "GBP"}},
                   "billing_address": address, "shipping_address": {**address, "phone": customer["phone"]},
                   "customer": customer, "line_items": lines}
        return "orders/paid", payload, f"shopify-order-{order_id}", pii

    def checkout(self, n: int, token: str | None = None, *,
                 topic: str | None = None) -> tuple[str, dict, str, list[str]]:
        customer, address, pii = self.person(n, odd=False)
        token = token or self.token()
        created = self.when()
        lines = [{k: v for k, v in item.items() if k not in ("id", "properties")} for item in self.lines()]
        payload = {**self.templates["checkout"], "id": 41_000_000_000_000 + n, "token": token,
                   "cart_token": self.token(), "email": customer["email"], "created_at": _iso(created), "updated_at": _iso(created + 300),
                   "billing_address": address, "shipping_address": address, "customer": customer,
                   "line_items": lines}
        topic = topic or self.rng.choice(["checkouts/create", "checkouts/update"])
        return topic, payload, f"shopify-checkout-{token}", pii

    def cart(self, n: int) -> tuple[str, dict, str, list[str]]:
        token = self.token()
        when = _iso(self.when())
        template = self.templates["cart"]["line_items"][0]
        lines = [{**template, "id": 44_556_677_000_000 + n * 3 + k, "variant_id": 44_556_677_000_000 + n * 3 + k,
                  "key": f"{44_556_677_000_000 + n * 3 + k}:{k}", "quantity": self.rng.randint(1, 3)}
                 for k in range(self.rng.randint(1, 3))]
        payload = {**self.templates["cart"], "id": token, "token": token, "created_at": when, "updated_at": when,
                   "line_items": lines}
        return self.rng.choice(["carts/create", "carts/update"]), payload, f"shopify-cart-{token}-", []

    def customer(self, n: int) -> tuple[str, dict, str, list[str]]:
        customer, _, pii = self.person(n, odd=False)
        when = _iso(self.when())
        return "customers/create", {**customer, "created_at": when, "updated_at": when}, \
            f"shopify-customer-{customer['id']}", pii

    def signed(self, label: str, topic: str, payload: dict, event_id: str, pii: list[str], *,
               kind: str = "original", of: Delivery | None = None) -> Delivery:
        from tiktok_relay.local.apigw import shopify_event

        for value in pii:
            assert PII.search(value), f"generated PII {value!r} carries no marker: the scan would miss it"
        body = json.dumps(payload, separators=(",", ":")).encode()
        webhook_id = self.webhook_id()
        event = shopify_event(topic, body, self.secret, shop=SHOP, webhook_id=webhook_id)
        return Delivery(label, topic, event, webhook_id, event_id, kind, of, pii)

    def redelivery(self, original: Delivery) -> Delivery:
        """Shopify's retry of the same delivery: same headers (webhook id, signature), same body."""
        event = copy.deepcopy(original.event)
        event["requestContext"]["requestId"] = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        return Delivery(original.label + " (redelivered)", original.topic, event, original.webhook_id,
                        original.event_id_prefix, "redelivery", original, original.pii)


def build_stream(gen: Generator) -> tuple[list[Delivery], Delivery]:
    """The deliveries in arrival order, and the poisoned one."""
    makers = ([gen.order] * N_ORDERS + [gen.checkout] * N_CHECKOUTS + [gen.cart] * N_CARTS
              + [gen.customer] * N_CUSTOMERS)
    originals = []
    for n, make in enumerate(makers):
        topic, payload, event_id, pii = make(n)
        originals.append(gen.signed(f"{topic} #{n}", topic, payload, event_id, pii))
    gen.rng.shuffle(originals)
    count = len(originals)
    slots: list[tuple[float, Delivery]] = [(float(i), d) for i, d in enumerate(originals)]
    position = {id(d): float(i) for i, d in enumerate(originals)}

    orders = [i for i, d in enumerate(originals) if d.topic == "orders/paid" and 0.2 * count < i < 0.7 * count]
    poisoned = originals[gen.rng.choice(orders)]

    # The same signed order body under another webhook id (a second subscription's copy, an app
    # reinstall, or a replay of a captured body): the receiver's dedup is keyed on what is
    # signed, so these are answered "duplicate". And a business duplicate it cannot catch: a
    # checkout's update after its create (another body, the same event_id for TikTok to dedup).
    business = []
    for i in gen.rng.sample([i for i in orders if originals[i] is not poisoned], N_BUSINESS_DUPLICATE_ORDERS):
        original = originals[i]
        body = original.event["body"]
        dup = gen.signed(original.label + " (replayed body)", original.topic, json.loads(body),
                         original.event_id_prefix, original.pii, kind="replayed-body", of=original)
        business.append((gen.rng.uniform(i + 1, count), dup))
    checkout_index = next(i for i, d in enumerate(originals) if d.topic == "checkouts/create")
    checkout = originals[checkout_index]
    token = checkout.event_id_prefix.removeprefix("shopify-checkout-")
    n = int(checkout.label.split("#")[1])
    topic, payload, event_id, pii = gen.checkout(n, token, topic="checkouts/update")
    business.append((gen.rng.uniform(checkout_index + 1, count),
                     gen.signed(f"checkouts/update #{n} (business duplicate)", topic, payload, event_id, pii,
                                kind="business-duplicate", of=checkout)))
    for key, dup in business:
        slots.append((key, dup))
        position[id(dup)] = key

    # Webhook re-deliveries: right after, much later, after everything was sent; the poisoned
    # delivery and a replayed body among them.
    candidates = [d for d in originals if d is not poisoned]
    chosen = gen.rng.sample(candidates, N_REDELIVERED_AT_ONCE + N_REDELIVERED_LATER + N_REDELIVERED_AT_END - 2)
    chosen[N_REDELIVERED_AT_ONCE:N_REDELIVERED_AT_ONCE] = [poisoned, business[0][1]]
    for k, original in enumerate(chosen):
        at = position[id(original)]
        if k < N_REDELIVERED_AT_ONCE:
            key = at + 0.001
        elif k < N_REDELIVERED_AT_ONCE + N_REDELIVERED_LATER:
            key = gen.rng.uniform(at + 5, count + 1)
        else:
            key = count + 2 + k
        slots.append((key, gen.redelivery(original)))
    slots.sort(key=lambda slot: slot[0])
    return [d for _, d in slots], poisoned


# --- capture -----------------------------------------------------------------------------------


@dataclass
class Captured:
    replies: list = field(default_factory=list)  # receiver Reply objects
    responses: list = field(default_factory=list)  # API Gateway responses
    reports: list = field(default_factory=list)  # sender BatchReport objects
    results: list = field(default_factory=list)  # client SendResult objects
    exceptions: list = field(default_factory=list)  # what the sender path caught and turned into outcomes

    def reprs(self) -> str:
        parts = [repr(x) for x in (*self.replies, *self.reports, *self.results)]
        parts += [repr(o) for result in self.results for o in result.outcomes]
        parts += [repr(exc) + str(exc) + "".join(traceback.format_exception(exc)) for exc in self.exceptions]
        return "\n".join(parts)


def recording_client_class():
    from tiktok_relay.tiktok.client import TikTokClient

    class RecordingClient(TikTokClient):
        results: list

        def send_wire(self, requests, *, deadline=None):  # what the sender calls
            result = super().send_wire(requests, deadline=deadline)
            self.results.append(result)
            return result

    return RecordingClient


def record_pool_exceptions(pool: urllib3.PoolManager, captured: Captured, monkeypatch) -> None:
    """The exceptions the client's connection pool raised (timeouts, dropped connections): the
    sender turns them into outcomes, and their reprs and tracebacks are scanned too."""
    original = pool.request

    def recording(*args, **kwargs):
        try:
            return original(*args, **kwargs)
        except Exception as exc:
            captured.exceptions.append(exc)
            raise

    monkeypatch.setattr(pool, "request", recording)


@pytest.fixture
def powertools_env(monkeypatch):
    """LocalPipeline os.environ.setdefault()s Powertools variables (metrics off, WARNING logs);
    set them here so that monkeypatch restores them and later tests see the usual environment."""
    for name, value in (("POWERTOOLS_SERVICE_NAME", "tiktok-relay-tests"), ("POWERTOOLS_LOG_LEVEL", "DEBUG"),
                        ("POWERTOOLS_TRACE_DISABLED", "1"), ("POWERTOOLS_METRICS_NAMESPACE", "TikTokRelayTests"),
                        ("POWERTOOLS_METRICS_DISABLED", "0")):
        monkeypatch.setenv(name, value)


@pytest.fixture
def loud_handlers(receiver_app, sender_app, powertools_env):
    """The handlers' loggers at DEBUG and metrics on: the privacy scan sees everything."""
    levels = [(app.logger, app.logger.log_level) for app in (receiver_app, sender_app)]
    for app in (receiver_app, sender_app):
        app.logger.setLevel("DEBUG")
    yield
    for logger, level in levels:
        logger.setLevel(level)


@pytest.fixture
def clean_runtime():
    from tiktok_relay.pipeline import runtime

    yield
    runtime.install()


def scan(sources: dict[str, str], needles: tuple[str, ...]) -> list[str]:
    """Where raw PII (any marker) or a secret appears: 'source: ...context...'."""
    found = []
    for name, text in sources.items():
        for match in PII.finditer(text):
            found.append(f"{name}: PII {text[max(0, match.start() - 60): match.end() + 60]!r}")
            if len(found) > 20:
                return found
        for needle in needles:
            at = text.find(needle)
            if at >= 0:
                found.append(f"{name}: secret {text[max(0, at - 60): at + 60]!r}")
    return found


# --- the local pipeline under faults -------------------------------------------------------------


def test_faults_lose_nothing_and_send_nothing_twice(fake_tiktok, tmp_path, powertools_stdout, caplog,
                                                    loud_handlers, clean_runtime, receiver_app, sender_app,
                                                    monkeypatch):
    import logging

    from tiktok_relay.local import harness as local_module
    from tiktok_relay.local.harness import LocalPipeline
    from tiktok_relay.pipeline import runtime
    from tiktok_relay.sources.shopify.settings import ShopifySettings
    from tiktok_relay.testing.fake_tiktok import FAULTS
    from tiktok_relay.tiktok.client import RetryPolicy

    caplog.set_level(logging.DEBUG)  # every stdlib log record too (urllib3, Powertools internals)
    faults = (*FAULTS, "http503")  # 5xx HTML pages, 40100, 50002, timeouts, dropped connections
    fake = fake_tiktok
    fake.access_token = TIKTOK_TOKEN
    fake.stall_seconds = STALL_SECONDS
    # One of each fault first (so each kind surely occurs whatever the request count), then
    # about a third of all requests, at random.
    fake.fail_next(*faults)
    fake.fail_randomly(FAULT_RATE, faults, seed=FAULT_SEED)

    gen = Generator(DATA_SEED, WEBHOOK_SECRET)
    stream, poisoned = build_stream(gen)
    fake.reject_events({poisoned.event_id_prefix}, message=POISON_MESSAGE)

    stores = []  # the idempotency store LocalPipeline makes (DynamoDB in Lambda): scanned too

    class RecordingStore(local_module.MemoryIdempotencyStore):
        def __init__(self):
            super().__init__()
            stores.append(self)

    monkeypatch.setattr(local_module, "MemoryIdempotencyStore", RecordingStore)

    captured = Captured()
    pool = urllib3.PoolManager(num_pools=2, maxsize=4, retries=False)
    client = recording_client_class()(
        TIKTOK_TOKEN, base_url=fake.base_url, timeout=urllib3.Timeout(connect=2.0, read=READ_TIMEOUT),
        retry=RetryPolicy(**RETRY), pool=pool, rng=random.Random(CLIENT_SEED))
    client.results = captured.results
    dead_letter_path = tmp_path / "dead-letters.ndjson"
    pipeline = LocalPipeline(client_factory=lambda: client, pixel_id=PIXEL_ID, webhook_secret=WEBHOOK_SECRET,
                             settings=ShopifySettings(), dead_letter_path=dead_letter_path,
                             batch_size=BATCH_SIZE, max_receives=MAX_RECEIVES)
    receiver, sender = runtime.receiver(), runtime.sender()
    handle, send_batch = receiver.handle, sender.send_batch
    monkeypatch.setattr(receiver, "handle", lambda *a, **k: captured.replies.append(handle(*a, **k))
                        or captured.replies[-1])
    monkeypatch.setattr(sender, "send_batch", lambda *a, **k: captured.reports.append(send_batch(*a, **k))
                        or captured.reports[-1])
    record_pool_exceptions(pool, captured, monkeypatch)

    enqueued: list[tuple[Delivery, dict]] = []
    drains = 0
    drained_at: dict[str, int] = {}  # webhook id -> sender runs before its first delivery
    redelivered_while = collections.Counter()  # "queued" | "sent": where the original was
    try:
        for n, delivery in enumerate(stream, start=1):
            if delivery.kind == "redelivery":
                redelivered_while["queued" if drained_at[delivery.webhook_id] == drains else "sent"] += 1
            else:
                drained_at[delivery.webhook_id] = drains
            response, request = pipeline.deliver(delivery.event)
            captured.responses.append(response)
            body = json.loads(response["body"])
            if delivery.kind in ("redelivery", "replayed-body"):
                # The same signed topic, shop and body (with the same X-Shopify-Webhook-Id or a
                # fresh one): acknowledged, nothing enqueued, whether the first one is still
                # queued or long sent.
                assert (response["statusCode"], body["status"], request) == (200, "duplicate", None), delivery.label
            else:
                assert (response["statusCode"], body["status"], body["events"]) == (202, "queued", 1), \
                    (delivery.label, body)
                enqueued.append((delivery, request))
            if n % DRAIN_EVERY == 0:
                pipeline.drain()
                drains += 1
        pipeline.drain()
    finally:
        pool.clear()
    logs = powertools_stdout.readouterr()

    # --- the queue: one message per accepted delivery, none for re-deliveries -----------------
    assert len(pipeline.queue) == 0
    messages = [json.loads(m.body) for m in pipeline.queue.sent]
    assert len(messages) == len(enqueued) == len(stream) - sum(d.kind in ("redelivery", "replayed-body")
                                                                for d in stream)
    assert len({m["webhook_id"] for m in messages}) == len(messages)  # no webhook id enqueued twice
    assert redelivered_while["queued"] >= 10 and redelivered_while["sent"] >= 10, redelivered_while
    event_ids = []
    for (delivery, request), message in zip(enqueued, messages):
        assert message["webhook_id"] == delivery.webhook_id and message["request"] == request
        [event] = request["data"]
        assert event["event_id"].startswith(delivery.event_id_prefix), delivery.label
        if delivery.topic.startswith("carts/"):
            assert re.fullmatch(re.escape(delivery.event_id_prefix) + "[0-9a-f]{12}", event["event_id"])
        else:
            assert event["event_id"] == delivery.event_id_prefix
        event_ids.append(event["event_id"])
    enqueued_count = collections.Counter(event_ids)
    poison_id = poisoned.event_id_prefix
    assert enqueued_count[poison_id] == 1

    # --- TikTok: every good event, as many times as it was enqueued; the poisoned one never --------
    accepted = collections.Counter(fake.accepted_ids())
    good = enqueued_count - collections.Counter({poison_id: 1})
    assert poison_id not in accepted
    missing = sorted(set(good) - set(accepted))
    extra = {k: accepted[k] - good[k] for k in accepted if accepted[k] > good[k]}
    assert not missing and not extra, f"lost: {missing[:5]} ({len(missing)}), sent too often: {extra}"
    assert accepted == good
    # Only the business duplicate is enqueued twice (another body: the receiver cannot tell), so
    # only it reaches TikTok twice. Both sends carry the same event name and event_id, which
    # TikTok deduplicates within 48 h (and the fake does not): the conversion counts once.
    # Every other event, the replayed bodies' included, was accepted exactly once.
    business = [d for d in stream if d.kind == "business-duplicate"]
    twice = {k for k, v in accepted.items() if v == 2}
    assert twice == {d.event_id_prefix for d in business} and set(accepted.values()) == {1, 2}
    for event_id in twice:
        sent = [e for e in fake.events if e["event_id"] == event_id]
        assert len({e["event"] for e in sent}) == 1 and len({json.dumps(e["user"], sort_keys=True) for e in sent}) == 1
    distinct_good = len(good)
    assert distinct_good == N_ORDERS + N_CHECKOUTS + N_CARTS + N_CUSTOMERS - 1

    # The fake's "timeout" and "drop" faults happen after it read the request but before it checks
    # or records anything (fake_tiktok.py do_POST), so a retried request cannot be double-recorded:
    # every accepted body is exactly one request answered code 0.
    answered_ok = [r for r in fake.received if r.fault is None and r.code == 0]
    assert len(fake.accepted) == len(answered_ok)
    assert all(r.body is None for r in fake.received if r.fault in ("timeout", "drop"))

    # --- the poisoned event: dead-lettered once, with TikTok's code and message ---------------
    letters = [json.loads(line) for line in dead_letter_path.read_text().splitlines()]
    assert len(letters) == 1, [letter.get("reason") for letter in letters]  # nothing else exhausted its receives
    [letter] = letters
    assert letter["reason"] == "rejected by TikTok" and letter["code"] == 40002
    assert letter["message"].endswith(POISON_MESSAGE) and letter["request_id"]
    assert letter["webhook_id"] == poisoned.webhook_id
    assert [e["event_id"] for e in letter["request"]["data"]] == [poison_id]

    # Its batch-mates shared a request with it (TikTok refused that whole request) and still arrived.
    refused = [r for r in fake.received if r.body and r.code == 40002]
    shared = [r for r in refused if poison_id in {e["event_id"] for e in r.body["data"]} and len(r.body["data"]) > 1]
    assert shared, "the poisoned event never shared a request"
    mates = {e["event_id"] for r in shared for e in r.body["data"]} - {poison_id}
    assert len(mates) >= 2
    assert all(accepted[m] >= 1 for m in mates)
    assert all(poison_id in {e["event_id"] for e in r.body["data"]} for r in refused)  # nothing else refused

    # --- faults: every kind happened; about a third of all requests failed --------------------
    fault_counts = collections.Counter(r.fault for r in fake.received if r.fault)
    assert set(fault_counts) == set(faults), fault_counts
    assert 0.2 < sum(fault_counts.values()) / len(fake.received) < 0.55
    # Faults made records go round the queue again, but none came near max_receives: a record
    # fails a receive only when its request fails all 4 client attempts, p = 0.33**4 ~ 0.012
    # (under 0.06 for the poisoned batch, whose split requests can each fail that way), so
    # MAX_RECEIVES = 8 failed receives in a row has p < 0.06**8 ~ 2e-10 per record.
    receive_counts = collections.Counter(m.receive_count for m in pipeline.queue.sent)
    assert max(receive_counts) >= 2 and max(receive_counts) < MAX_RECEIVES, receive_counts

    # Every delivery's idempotency record completed (none stuck in progress), one per webhook id.
    [store] = stores
    idempotency_records = list(store._records.values())
    assert len(idempotency_records) == len(messages)
    assert {r.status for r in idempotency_records} == {"COMPLETED"}

    # --- the summary tally agrees with TikTok ---------------------------------------------------
    tally = pipeline.tally.as_dict()
    # match_keys: of the events TikTok accepted, those whose user holds each key.
    accepted_keys = {key: sum(1 for e in fake.events if e.get("user", {}).get(key)) for key in MATCH_KEYS}
    assert tally == {"webhooks": len(stream), "events": len(messages), "requests_sent": len(fake.received),
                     "delivered": len(fake.events), "dead_lettered": 1, "match_keys": accepted_keys}
    assert accepted_keys["email"] > 0 and accepted_keys["ttp"] < len(fake.events)
    assert tally["delivered"] == distinct_good + len(business)

    # --- privacy: no raw PII anywhere; the token and webhook secret nowhere --------------------
    output = logs.out + logs.err
    records = json_lines(output)
    log_messages = collections.Counter(r.get("message") for r in records if "level" in r)
    assert log_messages["delivery queued"] == len(messages) and log_messages["delivery duplicate"] > 0
    assert log_messages["batch sent"] >= len(messages) // BATCH_SIZE
    assert any("not delivered" in str(m) for m in log_messages) and any("rejected" in str(m) for m in log_messages)
    assert any("mapping adjusted the event" == m for m in log_messages)  # the odd phones/emails warned
    assert any("_aws" in r for r in records)  # EMF metrics were written too
    assert caplog.records  # stdlib logging was captured (urllib3 at least)
    sources = {
        "stdout/stderr (Powertools logs and metrics)": output,
        "stdlib logging": "\n".join(f"{r.name} {r.levelname} {r.getMessage()} {r.args!r}" for r in caplog.records),
        "queue messages": "\n".join(m.body + json.dumps(m.attributes) + repr(m) for m in pipeline.queue.sent),
        "dead letters": dead_letter_path.read_text(),
        "HTTP responses": json.dumps(captured.responses),
        "reprs of replies, reports, results, outcomes, exceptions": captured.reprs(),
        "reprs of the pipeline's parts": repr((pipeline, pipeline.tally, receiver, sender, client,
                                               pipeline.dead_letters)),
        "requests TikTok received": json.dumps([r.body for r in fake.received]),
        "idempotency records": repr([vars(r) for r in idempotency_records]),
    }
    assert captured.exceptions and captured.reports and captured.results  # the scan covers real objects
    leaks = scan(sources, (WEBHOOK_SECRET, TIKTOK_TOKEN))
    assert not leaks, "\n".join(leaks)
    # The scan would have caught them: the deliveries did carry the PII.
    assert PII.search(json.dumps([d.event["body"] for d in stream[:5]]))


def test_a_timeout_after_tiktok_accepted_resends_the_same_event_ids(tmp_path, clean_runtime, powertools_stdout,
                                                                    powertools_env):
    """The one fault the fake's "timeout" cannot show: TikTok takes the request, the answer is
    lost. The relay is at-least-once, so it sends again, with the same event and event_id,
    which TikTok deduplicates (48 h): resent, not counted twice, nothing lost or dead-lettered."""
    import threading
    import time

    from tiktok_relay.local.harness import LocalPipeline
    from tiktok_relay.sources.shopify.settings import ShopifySettings
    from tiktok_relay.testing.fake_tiktok import FakeTikTok
    from tiktok_relay.tiktok.client import RetryPolicy, TikTokClient

    first = threading.Event()

    def stall_after_the_first_acceptance(body):
        if not first.is_set():
            first.set()
            time.sleep(STALL_SECONDS)  # recorded as accepted; the client times out meanwhile

    gen = Generator(DATA_SEED + 3, WEBHOOK_SECRET)
    deliveries = [gen.signed(f"order #{n}", *gen.order(n)) for n in range(3)]
    pool = urllib3.PoolManager(num_pools=2, maxsize=4, retries=False)
    with FakeTikTok(access_token=TIKTOK_TOKEN, on_accept=stall_after_the_first_acceptance) as fake:
        client = TikTokClient(TIKTOK_TOKEN, base_url=fake.base_url, pool=pool, retry=RetryPolicy(**RETRY),
                              timeout=urllib3.Timeout(connect=2.0, read=READ_TIMEOUT))
        pipeline = LocalPipeline(client_factory=lambda: client, pixel_id=PIXEL_ID, webhook_secret=WEBHOOK_SECRET,
                                 settings=ShopifySettings(), dead_letter_path=tmp_path / "dead.ndjson")
        for delivery in deliveries:
            assert pipeline.deliver(delivery.event)[0]["statusCode"] == 202
        pipeline.drain()
    pool.clear()

    expected = [d.event_id_prefix for d in deliveries]
    assert [[e["event_id"] for e in body["data"]] for body in fake.accepted] == [expected, expected]
    first_send, resend = fake.accepted
    assert first_send["data"] == resend["data"]  # the very same events: TikTok's dedup applies
    tally = pipeline.tally.as_dict()
    assert {k: v for k, v in tally.items() if k != "match_keys"} == {"webhooks": 3, "events": 3, "requests_sent": 2,
                                                                     "delivered": 3, "dead_lettered": 0}
    assert not (tmp_path / "dead.ndjson").exists()
    powertools_stdout.readouterr()


# --- the Lambda path, moto SQS ---------------------------------------------------------------------


@pytest.fixture
def lambda_relay(relay, fake_tiktok, monkeypatch):
    """Receiver and sender Lambdas built from the environment (moto SQS, DynamoDB, Secrets
    Manager), the sender's client pointed at the fake with short timeouts and backoff."""
    import functools

    from tiktok_relay.pipeline import runtime
    from tiktok_relay.tiktok.client import RetryPolicy

    monkeypatch.setattr(runtime, "client_factory", functools.partial(
        runtime.client_factory, timeout=urllib3.Timeout(connect=2.0, read=READ_TIMEOUT),
        retry=RetryPolicy(**RETRY), rng=random.Random(CLIENT_SEED)))
    fake_tiktok.stall_seconds = STALL_SECONDS
    runtime.install()
    return relay


def invoke_receiver(app, event) -> tuple[int, dict]:
    from tiktok_relay.local.lambda_context import FakeLambdaContext

    response = app.lambda_handler(event, FakeLambdaContext(function_name="receiver"))
    return response["statusCode"], json.loads(response["body"])


def drain(aws, sender_app, *, limit: int = 200) -> list[dict]:
    rounds = []
    while len(rounds) < limit:
        rounds.append(aws.poll_and_send(sender_app))
        if rounds[-1]["records"] == 0:
            return rounds
    raise AssertionError(f"the queue did not drain in {limit} rounds")


def test_no_queue_answers_5xx_and_shopifys_retry_is_delivered_exactly_once(lambda_relay, receiver_app, sender_app,
                                                                           fake_tiktok, powertools_stdout):
    aws = lambda_relay
    gen = Generator(DATA_SEED + 1, LOCAL_WEBHOOK_SECRET)  # the secret the moto Secrets Manager holds
    first = gen.signed("A", *gen.order(1))
    second = gen.signed("B", *gen.order(2))

    assert invoke_receiver(receiver_app, first.event)[0] == 202
    assert drain(aws, sender_app)[0] == {"records": 1, "failed": []}

    # The events queue disappears (deleted, or the function lost access to it).
    attributes = aws.sqs.get_queue_attributes(QueueUrl=aws.queue_url, AttributeNames=["All"])["Attributes"]
    aws.sqs.delete_queue(QueueUrl=aws.queue_url)
    status, body = invoke_receiver(receiver_app, second.event)
    assert (status, body["status"]) == (503, "unavailable")  # 5xx: Shopify retries
    assert invoke_receiver(receiver_app, gen.redelivery(second).event)[0] == 503  # still down: still 503
    # What was received before the outage is still known: its re-delivery is a duplicate.
    assert invoke_receiver(receiver_app, gen.redelivery(first).event) == (
        200, {"status": "duplicate", "reason": DUPLICATE_REASON})

    # The queue is back; Shopify's next retry of the same delivery gets through.
    url = aws.sqs.create_queue(QueueName="tiktok-relay-events", Attributes={
        k: attributes[k] for k in ("VisibilityTimeout", "RedrivePolicy")})["QueueUrl"]
    assert url == aws.queue_url
    assert invoke_receiver(receiver_app, gen.redelivery(second).event)[0] == 202
    assert drain(aws, sender_app)[0] == {"records": 1, "failed": []}
    # And once more after it was sent: a duplicate, nothing new on the queue.
    assert invoke_receiver(receiver_app, gen.redelivery(second).event)[1]["status"] == "duplicate"
    assert drain(aws, sender_app) == [{"records": 0, "failed": []}]

    assert sorted(fake_tiktok.accepted_ids()) == sorted([first.event_id_prefix, second.event_id_prefix])
    assert aws.messages(aws.dlq_url) == []
    out = powertools_stdout.readouterr()
    logs = [r for r in json_lines(out.out + out.err) if r.get("message") == "delivery not accepted"]
    assert [(r["status"], r["level"]) for r in logs] == [(503, "ERROR"), (503, "ERROR")]
    assert not scan({"logs": out.out + out.err, "503 reason": body["reason"]}, (LOCAL_WEBHOOK_SECRET,
                                                                                fake_tiktok.access_token))


def test_lambda_path_under_faults_dead_letters_only_the_poisoned_event(lambda_relay, receiver_app, sender_app,
                                                                      fake_tiktok, powertools_stdout):
    """The same faults through moto SQS (maxReceiveCount 3, visibility 0) and the DLQ as the
    dead-letter store. A record reaches the DLQ by redrive only after 3 failed receives in a row,
    p ~ 0.012**3 ~ 2e-6 per record: here only the poisoned event gets there, at once."""
    from tiktok_relay.testing.fake_tiktok import FAULTS

    aws = lambda_relay
    gen = Generator(DATA_SEED + 2, LOCAL_WEBHOOK_SECRET)
    originals = [gen.signed(f"order #{n}", *gen.order(n)) for n in range(30)]
    poisoned = originals[13]
    stream = originals[:20] + [gen.redelivery(d) for d in originals[5:10]] + originals[20:] \
        + [gen.redelivery(poisoned)]
    fake_tiktok.fail_next(*FAULTS)
    fake_tiktok.fail_randomly(FAULT_RATE, FAULTS, seed=FAULT_SEED)
    fake_tiktok.reject_events({poisoned.event_id_prefix}, message=POISON_MESSAGE)

    statuses = collections.Counter(invoke_receiver(receiver_app, d.event)[0] for d in stream)
    assert statuses == {202: 30, 200: 6}
    drain(aws, sender_app)

    accepted = collections.Counter(fake_tiktok.accepted_ids())
    assert accepted == {d.event_id_prefix: 1 for d in originals if d is not poisoned}
    [dead] = aws.messages(aws.dlq_url)
    letter = json.loads(dead["Body"])
    assert (letter["reason"], letter["code"]) == ("rejected by TikTok", 40002)
    assert letter["webhook_id"] == poisoned.webhook_id
    assert letter["message"].endswith(POISON_MESSAGE)
    assert [e["event_id"] for e in letter["request"]["data"]] == [poisoned.event_id_prefix]
    assert any(r.fault for r in fake_tiktok.received)
    out = powertools_stdout.readouterr()
    leaks = scan({"logs": out.out + out.err, "dead letter": dead["Body"]},
                 (LOCAL_WEBHOOK_SECRET, fake_tiktok.access_token))
    assert not leaks, "\n".join(leaks)
