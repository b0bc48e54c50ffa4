"""The sender Lambda (functions/sender/app.py): SQS batches in, the fake TikTok over HTTP,
partial batch responses, and the dead-letter queue (moto)."""

from __future__ import annotations

import copy
import json

from tests.support import event_file
from tests.support.aws import PIXEL_ID, purchase, record, request_of


def run(app, records):
    from tiktok_relay.local.lambda_context import FakeLambdaContext

    return app.lambda_handler({"Records": records}, FakeLambdaContext(function_name="sender", timeout_seconds=60))


def test_events_sqs_file_is_delivered(relay, sender_app, fake_tiktok, monkeypatch):
    from tiktok_relay.local.lambda_context import FakeLambdaContext
    from tiktok_relay.pipeline import runtime

    event = event_file("sqs/sender_batch.json")
    # The sample file's event is from 2026-11 (the files are written once, reproducibly): older
    # than the default 48 h, it would be dead-lettered as stale. This test is about the file.
    monkeypatch.setenv("TIKTOK_MAX_EVENT_AGE", "3650d")
    runtime.install()

    result = sender_app.lambda_handler(event, FakeLambdaContext(function_name="sender"))

    assert result == {"batchItemFailures": []}
    [accepted] = fake_tiktok.events
    assert accepted["event"] == "Purchase" and accepted["event_id"] == "shopify-order-5829310123456"
    assert accepted["_request"]["event_source_id"]


def test_a_batch_becomes_one_request_per_source_and_test_code(relay, sender_app, fake_tiktok):
    records = [record(f"m{i}", request_of(purchase(f"order-{i}"))) for i in range(25)]
    records.append(record("test", request_of(purchase("order-test"), test_event_code="TEST123")))

    assert run(sender_app, records) == {"batchItemFailures": []}
    sizes = sorted(len(body["data"]) for body in fake_tiktok.accepted)
    assert sizes == [1, 25]
    test_request = next(body for body in fake_tiktok.accepted if body.get("test_event_code"))
    assert [e["event_id"] for e in test_request["data"]] == ["order-test"]


def test_poisoned_event_goes_to_the_dlq_at_once_and_its_batch_mates_arrive(relay, sender_app, fake_tiktok):
    fake_tiktok.reject_events({"order-7"}, message="Invalid value for currency.")
    records = [record(f"m{i}", request_of(purchase(f"order-{i}")), webhook_id=f"wh-{i}") for i in range(10)]

    result = run(sender_app, records)

    assert result == {"batchItemFailures": []}  # nothing to retry: the bad one is dead-lettered
    assert sorted(fake_tiktok.accepted_ids()) == sorted(f"order-{i}" for i in range(10) if i != 7)
    [dead] = relay.messages(relay.dlq_url)
    letter = json.loads(dead["Body"])
    assert letter["reason"] == "rejected by TikTok"
    assert letter["code"] == 40002 and "Invalid value for currency." in letter["message"]
    assert letter["webhook_id"] == "wh-7"
    # Where it came from, so that a redrive queues it again for the same shop (the tenant).
    assert (letter["source"], letter["shop"], letter["topic"]) == ("shopify", "demo.myshopify.com", "orders/paid")
    assert [e["event_id"] for e in letter["request"]["data"]] == ["order-7"]
    assert letter["request_id"]


def test_transient_failure_is_a_batch_item_failure(relay, sender_app, fake_tiktok):
    import os

    from tiktok_relay.pipeline import runtime

    sleeps: list[float] = []
    runtime.install(sender=runtime.build_sender(os.environ, sleep=sleeps.append))  # backoff recorded, not waited
    fake_tiktok.fail_randomly(1.0, ["50002"])  # every attempt, so the client's retries run out
    records = [record("m1", request_of(purchase("order-1"))), record("m2", request_of(purchase("order-2")))]

    result = run(sender_app, records)
    assert len(sleeps) == 3  # four attempts

    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == ["m1", "m2"]
    assert fake_tiktok.accepted == []
    assert relay.messages(relay.dlq_url) == []  # SQS dead-letters it after maxReceiveCount


def test_token_refused_is_retried_not_dead_lettered(relay, sender_app, fake_tiktok):
    import boto3

    from tiktok_relay.pipeline import runtime

    boto3.client("secretsmanager").put_secret_value(SecretId="tiktok-relay/tiktok-access-token",
                                                    SecretString="a-wrong-token")
    runtime.install()  # a new sender reads the secret afresh (each one caches what it read)
    result = run(sender_app, [record("m1", request_of(purchase("order-1")))])
    assert result["batchItemFailures"] == [{"itemIdentifier": "m1"}]
    assert relay.messages(relay.dlq_url) == []


def test_malformed_message_is_dead_lettered_not_retried(relay, sender_app, fake_tiktok):
    bad = record("bad", request_of(purchase("order-1")))
    bad["body"] = json.dumps({"v": 1, "webhook_id": "wh", "shop": "s", "topic": "t",
                              "request": {"event_source": "web", "event_source_id": PIXEL_ID,
                                          "data": [{"event": "Purchase", "event_time": "not a time"}]}})
    not_json = record("nojson", request_of(purchase("order-2")))
    not_json["body"] = "{{{"
    good = record("good", request_of(purchase("order-3")))

    result = run(sender_app, [bad, not_json, good])

    assert result == {"batchItemFailures": []}
    assert fake_tiktok.accepted_ids() == ["order-3"]
    letters = [json.loads(m["Body"]) for m in relay.messages(relay.dlq_url)]
    assert sorted(letter["reason"].split(":")[0] for letter in letters) == ["malformed queue message"] * 2
    assert any("event_time" in letter["reason"] for letter in letters)


def test_dlq_outage_turns_a_rejection_into_a_retry(relay, sender_app, fake_tiktok, monkeypatch):
    from tiktok_relay.pipeline import runtime

    fake_tiktok.reject_events({"order-1"})
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", relay.dlq_url.replace("tiktok-relay-dlq", "gone"))
    runtime.install()
    result = run(sender_app, [record("m1", request_of(purchase("order-1")))])
    assert result["batchItemFailures"] == [{"itemIdentifier": "m1"}]  # never lost


def test_metrics_and_logs(relay, sender_app, fake_tiktok, powertools_stdout):
    from tests.support import json_lines

    fake_tiktok.reject_events({"order-2"})
    run(sender_app, [record("m1", request_of(purchase("order-1"))), record("m2", request_of(purchase("order-2")))])
    docs = json_lines(powertools_stdout.readouterr().out)
    emf = next(doc for doc in docs if "EventsSent" in doc)
    assert emf["EventsSent"] == [1.0] and emf["EventsRejected"] == [1.0] and emf["EventsDeadLettered"] == [1.0]
    assert "TikTokLatency" in emf
    warnings = [doc for doc in docs if doc.get("level") == "WARNING"]
    assert any("order-2" in doc["message"] and "40002" in doc["message"] for doc in warnings)


def test_value_and_ids_keep_their_wire_types(relay, sender_app, fake_tiktok):
    event = purchase("order-big")
    event["properties"]["order_id"] = "98765432109876543210"  # beyond 2^53, a string all the way
    event = copy.deepcopy(event)
    run(sender_app, [record("m1", request_of(event))])
    [accepted] = fake_tiktok.events
    assert accepted["properties"]["order_id"] == "98765432109876543210"
    assert accepted["properties"]["value"] == 10.0
