"""The sender records what TikTok accepted in the ledger (moto's DynamoDB), once per batch:
delivered events only, marked by who sent them; a ledger that cannot be written costs no
retry (the events were delivered) and is counted."""

from __future__ import annotations

from tests.support import json_lines
from tests.support.aws import LEDGER_TABLE, PIXEL_ID, purchase, record, request_of
from tiktok_relay.pipeline.aws import DynamoDBLedger
from tiktok_relay.pipeline.ledger import ledger_key


def run(app, records):
    from tiktok_relay.local.lambda_context import FakeLambdaContext

    return app.lambda_handler({"Records": records}, FakeLambdaContext(function_name="sender", timeout_seconds=60))


def key(event_id: str) -> str:
    return ledger_key(PIXEL_ID, "Purchase", event_id)


def test_delivered_events_are_recorded_and_refused_ones_are_not(relay, sender_app, fake_tiktok):
    fake_tiktok.reject_events({"order-3"})
    records = [record(f"m{i}", request_of(purchase(f"order-{i}")), webhook_id=f"wh-{i}") for i in range(5)]
    records.append(record("r", request_of(purchase("order-9")), webhook_id="reconcile-20261201T000000Z"))

    assert run(sender_app, records) == {"batchItemFailures": []}

    found = DynamoDBLedger(LEDGER_TABLE).delivered([key(f"order-{i}") for i in range(10)])
    assert sorted(found) == sorted(key(f"order-{i}") for i in (0, 1, 2, 4, 9))
    assert found[key("order-0")].via == "webhook" and found[key("order-9")].via == "reconcile"
    assert found[key("order-0")].shop == "demo.myshopify.com"
    assert found[key("order-0")].event_time == purchase("x")["event_time"]


def test_events_not_delivered_are_not_recorded(relay, sender_app, fake_tiktok):
    import os

    from tiktok_relay.pipeline import runtime

    fake_tiktok.fail_next(*["http503"] * 10)
    runtime.install(sender=runtime.build_sender(os.environ, sleep=lambda seconds: None))
    result = run(sender_app, [record("m1", request_of(purchase("order-1")))])

    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert DynamoDBLedger(LEDGER_TABLE).delivered([key("order-1")]) == {}


def test_a_ledger_that_cannot_be_written_costs_no_retry_and_is_counted(relay, sender_app, fake_tiktok,
                                                                        powertools_stdout):
    import boto3

    boto3.client("dynamodb").delete_table(TableName=LEDGER_TABLE)
    result = run(sender_app, [record("m1", request_of(purchase("order-1"), purchase("order-2")))])

    assert result == {"batchItemFailures": []}  # delivered: retrying would only send them again
    assert sorted(fake_tiktok.accepted_ids()) == ["order-1", "order-2"]
    lines = json_lines(powertools_stdout.readouterr().out)
    warnings = [line["message"] for line in lines if line.get("level") == "WARNING"]
    assert any("2 delivered event(s) not recorded in the ledger (the ledger table did not answer "
               "(ResourceNotFoundException))" in w for w in warnings), warnings
    [metrics] = [line for line in lines if "EventsUnrecorded" in line]
    assert metrics["EventsUnrecorded"] in (2.0, [2.0]) and metrics["EventsSent"] in (2.0, [2.0])

