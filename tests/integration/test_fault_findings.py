"""The faults an adversarial run found (issue "Faults and abuse"), one or more tests each, with
the copies TikTok receives and the events lost stated in each test's docstring.

Real parts throughout: the fake TikTok over HTTP on 127.0.0.1 (taught to reset a connection after
taking a request, to drip its answer, to answer slowly, to send Retry-After), AWS through moto
(faults injected at botocore's HTTP layer with its documented `before-send` event: the call never
gets an answer, as with a read timeout), the real Lambda handler modules with a fake context.
Backoff sleeps are recorded, never slept; nothing asserts how long anything took.
"""

from __future__ import annotations

import collections
import json
import os
import time
import uuid
import warnings

import pytest
import urllib3

from tests.fixtures.hostile_corpus import order as canary_order
from tests.support import DUPLICATE_REASON, json_lines
from tests.support.aws import LOCAL_WEBHOOK_SECRET, PIXEL_ID, purchase, record, request_of
from tiktok_relay.local.apigw import shopify_event
from tiktok_relay.local.lambda_context import FakeLambdaContext
from tiktok_relay.testing.fake_tiktok import FakeTikTok

SHOP = "findings.myshopify.com"


def invoke(app, event, **context) -> tuple[int, dict]:
    response = app.lambda_handler(event, FakeLambdaContext(function_name="receiver", **context))
    return response["statusCode"], json.loads(response["body"])


def signed(topic: str, payload: dict, *, secret: str = LOCAL_WEBHOOK_SECRET, shop: str = SHOP, **options) -> dict:
    return shopify_event(topic, json.dumps(payload).encode(), secret, shop=shop, **options)


def recent_order(n: int) -> dict:
    """A paid order with the corpus's canary PII, processed an hour ago."""
    when = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 3600))
    return canary_order(id=7_100_000_000_000 + n, admin_graphql_api_id=f"gid://shopify/Order/{7_100_000_000_000 + n}",
                        processed_at=when, created_at=when)


def sender_with(monkeypatch, **changes):
    """The sender Lambda's QueueSender, built from the moto environment as in Lambda, with
    `sleep` recorded (returned) and `changes` to the environment."""
    from tiktok_relay.pipeline import runtime

    for name, value in changes.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    sleeps: list[float] = []
    runtime.install(sender=runtime.build_sender(os.environ, sleep=sleeps.append))
    return sleeps


def sender_on(*, dead_letters=None, requeue=None) -> None:
    """Install a sender like the Lambda's (token from moto's Secrets Manager, TikTok from the
    environment) with these SQS ports: each defaults to the moto queue the template names."""
    from tiktok_relay.config import TikTokSettings
    from tiktok_relay.pipeline import runtime
    from tiktok_relay.pipeline.aws import ManagedSecret, SqsQueue
    from tiktok_relay.pipeline.send import QueueSender

    token = ManagedSecret(os.environ["TIKTOK_ACCESS_TOKEN_SECRET_NAME"], "TIKTOK_ACCESS_TOKEN_SECRET_NAME")
    runtime.install(sender=QueueSender(
        client=runtime.client_factory(TikTokSettings.from_env(os.environ), token, sleep=lambda seconds: None),
        dead_letters=dead_letters or SqsQueue(os.environ["DEAD_LETTER_QUEUE_URL"]),
        requeue=requeue or SqsQueue(os.environ["EVENTS_QUEUE_URL"])))


def receiver_on(*, queue=None, idempotency_store=None, secrets=None) -> None:
    """Install a receiver like the Lambda's (moto SQS, DynamoDB and Secrets Manager) with these ports."""
    from tiktok_relay.pipeline import runtime
    from tiktok_relay.pipeline.aws import ManagedSecret, SqsQueue, dynamodb_idempotency_store
    from tiktok_relay.pipeline.receive import Receiver
    from tiktok_relay.sources.shopify.receiver import ShopifySource
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    source = ShopifySource(secrets=secrets or ManagedSecret(os.environ["SHOPIFY_WEBHOOK_SECRET_NAME"],
                                                            "SHOPIFY_WEBHOOK_SECRET_NAME"),
                           settings=ShopifySettings(), pixel_id=PIXEL_ID)
    runtime.install(receiver=Receiver(
        source=source, queue=queue or SqsQueue(os.environ["EVENTS_QUEUE_URL"]),
        idempotency_store=idempotency_store or dynamodb_idempotency_store(os.environ["IDEMPOTENCY_TABLE"])))


def faulty_client(service: str, operation: str, error: str, *, after_the_call: bool = False):
    """A boto3 client (the relay's options) whose `operation` fails without an answer. before-send
    is botocore's documented hook at its HTTP layer, where moto answers too. On the operation's
    own event the handler runs before moto's (botocore calls the most specific first): the call
    never reaches moto, nothing is stored. On plain before-send, registered after moto's, it runs
    once moto has handled the call: stored, then the answer is lost, as with a read timeout after
    SQS took the message."""
    import boto3
    import botocore.config
    import botocore.exceptions

    from tiktok_relay.pipeline.aws import CLIENT_OPTIONS

    client = boto3.client(service, config=botocore.config.Config(**CLIENT_OPTIONS))
    exception = getattr(botocore.exceptions, error)
    event = f"before-send.{client.meta.service_model.service_id.hyphenize()}.{operation}"

    def fail(**kwargs):
        if kwargs.get("event_name") == event:
            raise exception(endpoint_url=f"https://{service}.us-east-1.amazonaws.com/")

    client.meta.events.register("before-send" if after_the_call else event, fail)
    return client


def run_sender(app, records, *, timeout_seconds: float = 60.0) -> dict:
    return app.lambda_handler({"Records": records}, FakeLambdaContext(function_name="sender",
                                                                      timeout_seconds=timeout_seconds))


def letters(aws) -> list[dict]:
    return [json.loads(m["Body"]) for m in aws.messages(aws.dlq_url, max_messages=100)]


def drips(fake, count: int = 1) -> list[tuple[int, int]]:
    """The fake's drip records, once its handler threads have noticed the client hung up (they
    write on until a write fails): a bounded wait for another thread, not a timing assertion."""
    for _ in range(200):
        if len(fake.dripped) >= count:
            break
        time.sleep(0.025)
    return fake.dripped


def client_for(fake, **options):
    from tiktok_relay.tiktok.client import TikTokClient

    options.setdefault("pool", urllib3.PoolManager(retries=False))
    options.setdefault("sleep", lambda seconds: None)
    return TikTokClient(fake.access_token, base_url=fake.base_url, **options)


def events(n: int, prefix: str = "e") -> list:
    from tiktok_relay.tiktok.models import Event

    return [Event(event="Purchase", event_time=int(time.time()) - 60, event_id=f"{prefix}{i}",
                  properties={"currency": "EUR", "value": 1.0}) for i in range(n)]


# --- 1. The sender ignored the Lambda deadline --------------------------------------------------------


def test_a_drip_fed_answer_is_cut_at_the_request_limit_not_waited_for(fake_tiktok):
    """The fake takes the request and answers a byte every 50 ms (about 6 s for its answer); each
    byte arrives well within the 5 s read timeout, so a per-read timeout alone waits it out. The
    1 s request limit cuts it: failed-retryable, and the fake wrote only part of its answer.
    Copies: 1 accepted (the client cannot know; a retry would be deduplicated by event_id)."""
    from tiktok_relay.retry import RetryPolicy
    from tiktok_relay.tiktok.client import Status

    fake_tiktok.fail_next("drip")
    client = client_for(fake_tiktok, timeout=urllib3.Timeout(connect=2, read=5), request_limit=1.0,
                        retry=RetryPolicy(max_attempts=1))
    result = client.send_events(events(1), event_source_id=PIXEL_ID)

    [outcome] = result.outcomes
    assert (outcome.status, outcome.attempted) == (Status.FAILED_RETRYABLE, True)
    assert "timed out" in outcome.message
    [(written, whole)] = drips(fake_tiktok)
    assert written < whole  # the client hung up before the answer was complete
    assert fake_tiktok.accepted_ids() == ["e0"]


def test_a_request_that_starts_near_the_deadline_is_limited_to_the_time_left(fake_tiktok):
    """The request limit is 15 s, but the deadline is 1.5 s away: the drip is cut within the time
    left, and nothing is retried after it."""
    from tiktok_relay.tiktok.client import Status

    fake_tiktok.fail_next("drip", "drip")
    client = client_for(fake_tiktok, timeout=urllib3.Timeout(connect=2, read=5))
    result = client.send_events(events(1), event_source_id=PIXEL_ID, deadline=time.monotonic() + 1.5)
    assert [o.status for o in result.outcomes] == [Status.FAILED_RETRYABLE]
    [(written, whole)] = drips(fake_tiktok)
    assert result.requests_sent == 1 and written < whole


def test_the_split_after_a_data_error_stops_when_the_time_is_up():
    """One poisoned event in 8, TikTok answering in 0.3 s, 1.5 s to the deadline: isolating it
    needs 7 requests (2.1 s). What the split did not reach is failed-retryable (redelivered),
    never rejected; only the poisoned event can be rejected. Losses: none (all redelivered)."""
    from tiktok_relay.tiktok.client import Status

    with FakeTikTok() as fake:
        fake.answer_delay = 0.3
        fake.reject_events({"e5"})
        result = client_for(fake).send_events(events(8), event_source_id=PIXEL_ID, deadline=time.monotonic() + 1.5)
    by_status = collections.defaultdict(set)
    for outcome in result.outcomes:
        by_status[outcome.status].add(outcome.event_id)
    assert by_status[Status.REJECTED] <= {"e5"}
    assert by_status[Status.FAILED_RETRYABLE], "the deadline came before the poisoned event was isolated"
    assert any(not o.attempted and "deadline" in o.message for o in result.outcomes)
    assert by_status[Status.DELIVERED] == set(fake.accepted_ids())  # delivered means TikTok has it


def test_a_poisoned_event_with_a_slow_tiktok_under_a_short_deadline_kills_nothing_and_delivers_every_good_event_once(
        relay, sender_app, monkeypatch):
    """The measured failure, scaled down: one poisoned event in 20 (4 queue messages of 5), TikTok
    answering every request in 0.25 s, a 12 s Lambda timeout (so 2 s of sending, 10 s kept for the
    writes and the answer). Each invocation returns before its timeout with time to spare; what it
    did not send is requeued or redelivered; SQS runs until the queue is empty.
    Measured: every one of the 19 good events accepted exactly once (copies 1, lost 0), the
    poisoned one dead-lettered once with TikTok's message, no dead letter for lack of time, no
    invocation killed, and at least two invocations needed (the deadline did cut the first)."""
    from tiktok_relay.pipeline.send import FINAL_RESERVE_SECONDS, SETTLE_SECONDS

    fake = FakeTikTok()
    fake.start()
    try:
        fake.answer_delay = 0.25
        fake.reject_events({"e13"}, message="Invalid value for properties.value.")
        monkeypatch.setenv("TIKTOK_API_BASE_URL", fake.base_url)
        import boto3

        boto3.client("secretsmanager").put_secret_value(SecretId="tiktok-relay/tiktok-access-token",
                                                        SecretString=fake.access_token)
        sender_with(monkeypatch)
        ids = [f"e{n}" for n in range(20)]
        for m in range(4):
            body = json.loads(record(f"m{m}", request_of(*(purchase(i) for i in ids[m * 5:(m + 1) * 5])),
                                     webhook_id=f"wh-{m}")["body"])
            relay.sqs.send_message(QueueUrl=relay.queue_url, MessageBody=json.dumps(body))
        contexts: list = []
        left_at_return = []
        timeout = FINAL_RESERVE_SECONDS + SETTLE_SECONDS + 2.0
        for _ in range(30):
            round_ = relay.poll_and_send(sender_app, timeout_seconds=timeout, contexts=contexts)
            if round_["records"] == 0:
                break
            left_at_return.append(contexts[-1].get_remaining_time_in_millis())
        else:
            pytest.fail("the queue did not drain in 30 invocations")
    finally:
        fake.stop()

    accepted = collections.Counter(fake.accepted_ids())
    assert accepted == collections.Counter({i: 1 for i in ids if i != "e13"}), accepted
    [letter] = letters(relay)
    assert (letter["reason"], letter["code"]) == ("rejected by TikTok", 40002)
    assert [e["event_id"] for e in letter["request"]["data"]] == ["e13"]
    assert all(left > 0 for left in left_at_return), left_at_return  # no invocation outlived its timeout
    assert len(left_at_return) >= 2


# --- 2. Delivered events were re-sent -------------------------------------------------------------------


def _one_record_partly_delivered(fake, relay, sender_app):
    """One queue message of 4 events; TikTok refuses the batch for e2 (40002), takes [e0, e1], then
    fails [e2, e3] with 50002 on every attempt."""
    def after_first_half(body):
        if [e["event_id"] for e in body["data"]] == ["e0", "e1"]:
            fake.fail_randomly(1.0, ["50002"])

    fake._on_accept = after_first_half
    fake.reject_events({"e2"})
    body = json.loads(record("m1", request_of(*(purchase(f"e{n}") for n in range(4))), webhook_id="wh-1")["body"])
    relay.sqs.send_message(QueueUrl=relay.queue_url, MessageBody=json.dumps(body))
    return relay.poll_and_send(sender_app)


def test_a_partly_delivered_record_is_requeued_without_what_was_delivered(relay, sender_app, fake_tiktok,
                                                                          monkeypatch):
    """Before: SQS redelivered the whole record and e0, e1 were sent again on every receive.
    Now the record is acknowledged and [e2, e3] go back on the queue as a new message.
    Measured: e0, e1, e3 accepted once each (copies 1), e2 dead-lettered once, lost 0."""
    sleeps = sender_with(monkeypatch)
    first = _one_record_partly_delivered(fake_tiktok, relay, sender_app)
    assert first == {"records": 1, "failed": []}  # acknowledged: the rest is on the queue anew
    assert len(sleeps) == 3  # [e2, e3] had its 4 attempts (backoff recorded, not slept)
    [requeued] = relay.sqs.receive_message(QueueUrl=relay.queue_url, VisibilityTimeout=0)["Messages"]
    message = json.loads(requeued["Body"])
    assert [e["event_id"] for e in message["request"]["data"]] == ["e2", "e3"]
    assert message["webhook_id"] == "wh-1"

    fake_tiktok.fail_randomly(0.0)  # TikTok is back
    fake_tiktok._on_accept = None
    assert relay.poll_and_send(sender_app) == {"records": 1, "failed": []}
    assert collections.Counter(fake_tiktok.accepted_ids()) == {"e0": 1, "e1": 1, "e3": 1}
    [letter] = letters(relay)
    assert [e["event_id"] for e in letter["request"]["data"]] == ["e2"]


def test_when_the_requeue_fails_the_record_is_retried_whole(relay, sender_app, fake_tiktok):
    """The events queue refuses the requeue: the record is not acknowledged, SQS redelivers it
    whole. At-least-once: e0 and e1 reach TikTok twice (copies 2, deduplicated by TikTok's
    event_id within 48 h), nothing is lost."""
    from tiktok_relay.pipeline.aws import SqsQueue

    sender_on(requeue=SqsQueue("https://sqs.us-east-1.amazonaws.com/123456789012/no-such-queue"))
    first = _one_record_partly_delivered(fake_tiktok, relay, sender_app)
    assert first["records"] == 1 and first["failed"]  # retried whole
    fake_tiktok.fail_randomly(0.0)
    fake_tiktok._on_accept = None
    assert relay.poll_and_send(sender_app)["failed"] == []
    assert collections.Counter(fake_tiktok.accepted_ids()) == {"e0": 2, "e1": 2, "e3": 1}


# --- 3. Retry-After was never read ----------------------------------------------------------------------


@pytest.mark.parametrize("status", ["http429", "http503"])
def test_a_retry_after_longer_than_the_policy_allows_is_not_hammered(fake_tiktok, status):
    """Before: 4 requests within 2.3 s of a 429 with Retry-After: 30. Now: one request, no sleep,
    failed-retryable (SQS redelivers after its visibility timeout, 6 minutes)."""
    from tiktok_relay.tiktok.client import Status

    fake_tiktok.retry_after = "30"
    fake_tiktok.fail_randomly(1.0, [status])
    sleeps: list[float] = []
    result = client_for(fake_tiktok, sleep=sleeps.append).send_events(events(1), event_source_id=PIXEL_ID)
    assert result.requests_sent == 1 and sleeps == []
    assert [o.status for o in result.outcomes] == [Status.FAILED_RETRYABLE]


def test_a_retry_after_within_the_policy_is_waited_exactly(fake_tiktok):
    fake_tiktok.retry_after = "2"
    fake_tiktok.fail_next("http429", "http503")
    sleeps: list[float] = []
    result = client_for(fake_tiktok, sleep=sleeps.append).send_events(events(1), event_source_id=PIXEL_ID)
    assert sleeps == [2.0, 2.0] and result.ok and result.requests_sent == 3


def test_a_retry_after_past_the_deadline_is_not_waited(fake_tiktok):
    fake_tiktok.retry_after = "5"
    fake_tiktok.fail_next("http429")
    sleeps: list[float] = []
    result = client_for(fake_tiktok, sleep=sleeps.append).send_events(events(1), event_source_id=PIXEL_ID,
                                                                     deadline=time.monotonic() + 4)
    assert sleeps == [] and result.requests_sent == 1 and not result.ok


def test_the_sender_lambda_honours_retry_after(relay, sender_app, fake_tiktok, monkeypatch):
    """Through the sender Lambda: a 429 asking for 30 s makes one request and a batch item failure."""
    sleeps = sender_with(monkeypatch)
    fake_tiktok.retry_after = "30"
    fake_tiktok.fail_randomly(1.0, ["http429"])
    result = run_sender(sender_app, [record("m1", request_of(purchase("o-1")))])
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert len(fake_tiktok.received) == 1 and sleeps == []


def test_a_tiktok_that_takes_the_request_and_resets_the_connection_gets_the_same_event_ids_again(fake_tiktok):
    """TikTok has the events but the client only sees a reset connection: it retries, with the
    same events and event_ids. Copies: 2 (TikTok deduplicates the same event + event_id within
    48 h; the fake does not), lost 0."""
    fake_tiktok.fail_next("reset")
    sleeps: list[float] = []
    result = client_for(fake_tiktok, sleep=sleeps.append).send_events(events(3), event_source_id=PIXEL_ID)
    assert result.ok and result.requests_sent == 2 and len(sleeps) == 1
    first, second = fake_tiktok.accepted
    assert first["data"] == second["data"] and [r.fault for r in fake_tiktok.received] == ["reset", None]


# --- 4. AWS errors without a response crashed the error path ----------------------------------------------


@pytest.mark.parametrize("after_the_call", [False, True], ids=["timeout-before-storing", "timeout-after-storing"])
@pytest.mark.parametrize("error", ["ReadTimeoutError", "ConnectionClosedError"])
def test_an_sqs_timeout_at_the_receiver_is_answered_503_never_a_bug(aws, receiver_app, after_the_call, error,
                                                                      powertools_stdout):
    """Before: 500 "internal_error ... a tiktok-relay bug" (AttributeError on response=None), and
    botocore's own retries of a stored message added copies (5 measured; its defaults stored 3
    per attempt against moto here). Now: 503 unavailable, and the SDK does not retry. Measured
    copies on the queue after Shopify's retry: 1 when the message was not stored, 2 when it was
    (one extra, the same event and event_id: TikTok deduplicates it), lost 0."""
    from tiktok_relay.pipeline import runtime
    from tiktok_relay.pipeline.aws import SqsQueue

    receiver_on(queue=SqsQueue(aws.queue_url, client=faulty_client("sqs", "SendMessage", error,
                                                                    after_the_call=after_the_call)))
    event = signed("orders/paid", recent_order(1))

    status, body = invoke(receiver_app, event)
    assert (status, body["status"]) == (503, "unavailable"), body
    assert "bug" not in body["reason"] and error in body["reason"]
    metrics = [line for line in json_lines(powertools_stdout.readouterr().out) if "WebhooksFailed" in line]
    assert [line["reason"] for line in metrics] == ["unavailable"]  # what ReceiverFailingAlarm reads

    runtime.install()  # Shopify retries; SQS answers this time
    assert invoke(receiver_app, event)[0] == 202
    assert len(aws.messages()) == (2 if after_the_call else 1)


def test_a_dynamodb_timeout_at_the_receiver_is_answered_503(aws, receiver_app):
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    store = DynamoDBPersistenceLayer(table_name=aws.table,
                                     boto3_client=faulty_client("dynamodb", "PutItem", "ReadTimeoutError"))
    receiver_on(idempotency_store=store)
    status, body = invoke(receiver_app, signed("orders/paid", recent_order(2)))
    assert (status, body["status"]) == (503, "unavailable") and "idempotency table" in body["reason"]
    assert aws.messages() == []


def test_a_secrets_manager_timeout_is_503_not_misconfigured(aws, receiver_app):
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from tiktok_relay.pipeline.aws import ManagedSecret

    provider = SecretsProvider(boto3_client=faulty_client("secretsmanager", "GetSecretValue", "ReadTimeoutError"))
    receiver_on(secrets=ManagedSecret(os.environ["SHOPIFY_WEBHOOK_SECRET_NAME"], "SHOPIFY_WEBHOOK_SECRET_NAME",
                                      provider=provider))
    status, body = invoke(receiver_app, signed("orders/paid", recent_order(3)))
    assert (status, body["status"]) == (503, "unavailable")
    assert "SHOPIFY_WEBHOOK_SECRET_NAME" in body["reason"] and "ReadTimeoutError" in body["reason"]


def test_a_dead_letter_write_that_times_out_retries_that_record_only(relay, sender_app, fake_tiktok):
    """Before: the AttributeError failed the whole invocation and the whole batch was sent again.
    Now the invocation returns; only the poisoned event's record is retried, and its dead letter
    is written on the next receive. Copies: each good event 1, lost 0."""
    from tiktok_relay.pipeline.aws import SqsQueue

    sender_on(dead_letters=SqsQueue(relay.dlq_url, client=faulty_client("sqs", "SendMessage", "ReadTimeoutError")))
    fake_tiktok.reject_events({"o-2"})
    records = [record(f"m{i}", request_of(purchase(f"o-{i}")), webhook_id=f"wh-{i}") for i in range(4)]

    assert run_sender(sender_app, records) == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert letters(relay) == []
    sender_on()  # SQS answers again
    assert run_sender(sender_app, [records[2]]) == {"batchItemFailures": []}
    assert [letter["webhook_id"] for letter in letters(relay)] == ["wh-2"]
    assert collections.Counter(fake_tiktok.accepted_ids()) == {"o-0": 1, "o-1": 1, "o-3": 1}


@pytest.mark.parametrize("error", ["ReadTimeoutError", "ConnectionClosedError", "EndpointConnectionError"])
def test_errors_without_an_answer_are_named_by_their_class(error):
    import botocore.exceptions

    from tiktok_relay.pipeline.aws import _aws_error_name

    exc = getattr(botocore.exceptions, error)(endpoint_url="https://sqs.us-east-1.amazonaws.com/")
    assert getattr(exc, "response", None) is None
    assert _aws_error_name(exc) == error


# --- 5. Deduplication trusted unsigned headers -----------------------------------------------------------


def test_a_replayed_body_with_fresh_webhook_ids_is_answered_duplicate(aws, receiver_app):
    """Before: a captured signed order body replayed with 50 fresh X-Shopify-Webhook-Id values was
    queued 50 times. Now: queued once, 49 answered "duplicate" (DynamoDB, moto)."""
    body = json.dumps(recent_order(5)).encode()
    answers = collections.Counter()
    for _ in range(50):
        status, reply = invoke(receiver_app, shopify_event("orders/paid", body, LOCAL_WEBHOOK_SECRET, shop=SHOP,
                                                           webhook_id=str(uuid.uuid4())))
        answers[(status, reply["status"])] += 1
        if reply["status"] == "duplicate":
            assert reply["reason"] == DUPLICATE_REASON
    assert answers == {(202, "queued"): 1, (200, "duplicate"): 49}
    assert len(aws.messages(max_messages=100)) == 1


def test_two_subscriptions_to_one_topic_queue_one_message(aws, receiver_app):
    """Shopify sends each subscription its own delivery (its own webhook id), same body."""
    body = json.dumps(recent_order(6)).encode()
    first = invoke(receiver_app, shopify_event("orders/paid", body, LOCAL_WEBHOOK_SECRET, shop=SHOP))
    second = invoke(receiver_app, shopify_event("ORDERS_PAID", body, LOCAL_WEBHOOK_SECRET, shop=SHOP))
    assert (first[0], second[0], second[1]["status"]) == (202, 200, "duplicate")
    assert len(aws.messages()) == 1


@pytest.mark.parametrize("topic", ["carts/create", "carts/update", "checkouts/create", "checkouts/update"])
def test_an_order_body_under_a_cart_or_checkout_topic_produces_nothing(aws, receiver_app, topic):
    """Before: new AddToCart / InitiateCheckout events with new event_ids (not deduplicated)."""
    status, body = invoke(receiver_app, signed(topic, recent_order(7)))
    assert (status, body["status"]) == (200, "ignored")
    assert body["reason"].startswith("the body is a Shopify order payload")
    assert aws.messages() == []


# --- 6. Unsigned header values reached the logs ----------------------------------------------------------


FORGED_MARKER = "forgedheadermarker"


def _forged_headers(event: dict) -> dict:
    event["headers"].update({"x-shopify-shop-domain": FORGED_MARKER * 170, "x-shopify-topic": FORGED_MARKER * 170,
                             "x-shopify-webhook-id": FORGED_MARKER * 170})  # ~9.2 KB
    return event


def test_forged_headers_never_reach_the_logs(relay, receiver_app, powertools_stdout):
    """Before: the shop and topic headers, and the webhook id as correlation id, were logged before
    the signature check: a forged request with large headers wrote 9.5 KB of log. Now the 401's
    log line has their lengths and short hashes only."""
    event = _forged_headers(signed("orders/paid", recent_order(8), secret="not-the-secret"))
    assert invoke(receiver_app, event)[0] == 401
    out = powertools_stdout.readouterr()
    logs = out.out + out.err
    assert FORGED_MARKER not in logs
    [line] = [line for line in json_lines(logs) if line.get("message") == "delivery not accepted"]
    assert line["unverified_headers"]["x-shopify-shop-domain"].startswith(f"{len(FORGED_MARKER) * 170} chars, sha256 ")
    assert "correlation_id" not in line and "shop" not in line
    assert len(logs.encode()) < 2048  # a few lines, whatever the headers held


def test_a_signed_body_replayed_with_huge_headers_is_refused_without_logging_them(relay, receiver_app,
                                                                                 powertools_stdout):
    event = _forged_headers(signed("orders/paid", recent_order(9)))  # the signature is good
    status, body = invoke(receiver_app, event)
    assert (status, body["status"]) == (400, "rejected") and "not what Shopify sends" in body["reason"]
    out = powertools_stdout.readouterr()
    assert FORGED_MARKER not in out.out + out.err + json.dumps(body)


# --- 8. Strange token characters crashed the sender ---------------------------------------------------


TOKEN = "tt-findings-token-8c2f61d0a9"


@pytest.mark.parametrize("token", [f"{TOKEN}\nX-Extra: 1", f"\u201c{TOKEN}\u201d"], ids=["newline", "smart-quotes"])
def test_a_token_with_a_newline_or_a_smart_quote_is_a_clear_error_in_the_cli(token, tmp_path):
    import subprocess

    from tests.support import clean_env, console_script

    line = json.dumps({"event": "Purchase", "event_time": int(time.time()), "event_id": "cli-1"})
    done = subprocess.run(console_script() + ["send", "--pixel-id", "CPIXEL"], input=line, text=True,
                          capture_output=True, env=clean_env(TIKTOK_ACCESS_TOKEN=token), timeout=60, check=False)
    assert done.returncode == 2
    assert "TIKTOK_ACCESS_TOKEN" in done.stderr and "Traceback" not in done.stderr
    assert TOKEN not in done.stdout + done.stderr


@pytest.mark.parametrize("token", [f"{TOKEN}\nX-Extra: 1", f"{TOKEN}\u2019s"], ids=["newline", "smart-quote"])
def test_a_token_with_a_newline_or_a_smart_quote_is_a_clear_error_in_the_sender_lambda(
        relay, sender_app, powertools_stdout, token):
    """Before: a traceback, and the newline case printed the token. Now one log line names the
    setting; the invocation fails (SenderErrorsAlarm), and SQS keeps the batch."""
    import traceback

    import boto3

    from tiktok_relay.errors import ConfigurationError
    from tiktok_relay.pipeline import runtime

    boto3.client("secretsmanager").put_secret_value(SecretId="tiktok-relay/tiktok-access-token", SecretString=token)
    runtime.install()
    with pytest.raises(ConfigurationError) as caught, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Powertools: "No application metrics to publish"
        run_sender(sender_app, [record("m1", request_of(purchase("o-1")))])
    assert "TIKTOK_ACCESS_TOKEN_SECRET_NAME" in str(caught.value)
    out = powertools_stdout.readouterr()
    everything = out.out + out.err + "".join(traceback.format_exception(caught.value))
    assert TOKEN not in everything
    [line] = [line for line in json_lines(out.out) if line.get("message") == "relay misconfigured"]
    assert line["level"] == "ERROR" and "TIKTOK_ACCESS_TOKEN_SECRET_NAME" in line["reason"]


def test_a_webhook_secret_with_a_smart_quote_is_500_misconfigured_naming_the_setting(aws, receiver_app):
    import boto3

    from tiktok_relay.pipeline import runtime

    boto3.client("secretsmanager").put_secret_value(SecretId="tiktok-relay/shopify-webhook-secret",
                                                    SecretString=f"{LOCAL_WEBHOOK_SECRET}\u2019")
    runtime.install()
    status, body = invoke(receiver_app, signed("orders/paid", recent_order(10)))
    assert (status, body["status"]) == (500, "misconfigured")
    assert "SHOPIFY_WEBHOOK_SECRET_NAME" in body["reason"] and LOCAL_WEBHOOK_SECRET not in body["reason"]


# --- 10. Forged requests cost more than they needed to -------------------------------------------------


@pytest.fixture
def hmac_calls(monkeypatch):
    import hashlib
    import hmac as real_hmac
    from types import SimpleNamespace

    from tiktok_relay.sources.common import signing as signature  # every store's HMAC is computed there

    calls: list[int] = []

    def new(key, message, digestmod):
        calls.append(len(message))
        return real_hmac.new(key, message, digestmod)

    monkeypatch.setattr(signature, "hmac", SimpleNamespace(new=new, compare_digest=real_hmac.compare_digest))
    assert signature.hashlib is hashlib
    return calls


def test_an_oversized_forged_body_is_refused_before_any_hashing(relay, receiver_app, hmac_calls):
    from tiktok_relay.pipeline.receive import MAX_BODY_BYTES

    big = b'{"id": 1, "junk": "' + b"x" * MAX_BODY_BYTES + b'"}'
    built = [shopify_event("orders/paid", big, "forged", shop=SHOP, base64_body=b64) for b64 in (False, True)]
    hmac_calls.clear()  # signing the test's events hashed them; the receiver must not
    for event in built:
        status, body = invoke(receiver_app, event)
        assert (status, body["status"]) == (400, "rejected") and "larger than 5 MiB" in body["reason"]
    assert hmac_calls == []


def test_a_forged_body_is_hashed_once_per_secret_when_the_refresh_returns_the_same_secrets(aws, receiver_app,
                                                                                          hmac_calls):
    """Before: hashed twice (re-verified after a refresh that was rate-limited and returned the
    cached secret). The Secrets Manager secret lists two secrets: two HMACs per forged request."""
    import boto3

    from tiktok_relay.pipeline import runtime

    boto3.client("secretsmanager").put_secret_value(SecretId="tiktok-relay/shopify-webhook-secret",
                                                    SecretString=f"new-secret, {LOCAL_WEBHOOK_SECRET}")
    runtime.install()
    good = signed("orders/paid", recent_order(11))
    forged = [signed("orders/paid", recent_order(12 + n), secret="forged") for n in range(3)]
    assert invoke(receiver_app, good)[0] == 202  # the secrets are read and cached
    hmac_calls.clear()
    for event in forged:  # the first one's refresh reads them again; the others' are rate-limited
        assert invoke(receiver_app, event)[0] == 401
    assert len(hmac_calls) == 3 * 2


# --- 11. Oversized dead letters were lost with their reason ----------------------------------------------


def test_a_near_limit_malformed_record_reaches_the_dlq_with_its_reason(relay, sender_app, monkeypatch):
    """A record body of ~250 KB that is not a queue message: its dead letter, the body escaped into
    JSON, would exceed SQS's 256 KiB. It is cut to fit and keeps its reason (moto checks the size)."""
    sender_with(monkeypatch)
    body = json.dumps({"v": 1, "junk": "\u0001" * 40_000})  # 6 characters each once escaped again
    bad = record("m1", request_of(purchase("o-1")))
    bad["body"] = body
    assert run_sender(sender_app, [bad]) == {"batchItemFailures": []}
    [letter] = letters(relay)
    assert letter["reason"].startswith("malformed queue message")
    assert letter["cut"] and letter["cut"][0].startswith("body (its first")


# --- stale events --------------------------------------------------------------------------------------


def test_events_older_than_the_max_event_age_are_dead_lettered_as_stale_not_sent(relay, sender_app, fake_tiktok,
                                                                              monkeypatch):
    """Default TIKTOK_MAX_EVENT_AGE (48 h, TikTok's deduplication window): 49 h old is dead-lettered
    with the reason "stale", 47 h old is sent. A record holding both sends the fresh one only."""
    sender_with(monkeypatch, TIKTOK_MAX_EVENT_AGE=None)
    now = int(time.time())
    records = [record("old", request_of(purchase("o-old", event_time=now - 49 * 3600)), webhook_id="wh-old"),
               record("new", request_of(purchase("o-new", event_time=now - 47 * 3600)), webhook_id="wh-new"),
               record("both", request_of(purchase("o-b1", event_time=now - 60 * 3600),
                                         purchase("o-b2", event_time=now - 60)), webhook_id="wh-both")]
    assert run_sender(sender_app, records) == {"batchItemFailures": []}
    assert sorted(fake_tiktok.accepted_ids()) == ["o-b2", "o-new"]
    stale = {letter["webhook_id"]: letter for letter in letters(relay)}
    assert set(stale) == {"wh-old", "wh-both"}
    assert all(letter["reason"] == "stale" and "TIKTOK_MAX_EVENT_AGE" in letter["message"] for letter in stale.values())
    assert [e["event_id"] for e in stale["wh-both"]["request"]["data"]] == ["o-b1"]


def test_a_message_redrive_forced_is_sent_whatever_its_age_and_others_are_not(relay, sender_app, fake_tiktok,
                                                                             monkeypatch):
    """`redrive --force` marks the message it queues (`ignore_age`): the operator knows TikTok
    never counted those events. The same events without the mark are stale."""
    sender_with(monkeypatch, TIKTOK_MAX_EVENT_AGE=None)
    old = request_of(purchase("o-forced", event_time=int(time.time()) - 72 * 3600))
    forced = record("forced", old, webhook_id="wh-forced")
    forced["body"] = json.dumps({**json.loads(forced["body"]), "ignore_age": True})
    assert run_sender(sender_app, [forced, record("plain", old, webhook_id="wh-plain")]) == {"batchItemFailures": []}
    assert fake_tiktok.accepted_ids() == ["o-forced"]
    assert [(letter["webhook_id"], letter["reason"]) for letter in letters(relay)] == [("wh-plain", "stale")]


def test_test_events_are_sent_whatever_their_age(relay, sender_app, fake_tiktok, monkeypatch):
    """A test event (TikTokTestEventCode) counts in no report, so it cannot be counted twice:
    `replay --live` of the old samples in events/ with a test event code reaches Test Events."""
    sender_with(monkeypatch, TIKTOK_MAX_EVENT_AGE=None)
    old = purchase("o-test", event_time=int(time.time()) - 30 * 24 * 3600)
    assert run_sender(sender_app, [record("t", request_of(old, test_event_code="TEST123"))]) == \
        {"batchItemFailures": []}
    assert fake_tiktok.accepted_ids() == ["o-test"] and letters(relay) == []

