"""The DynamoDB ledger (template.yaml's LedgerTable) through moto: what the sender records is
found, past DynamoDB's per-call limits; expired entries read as absent; AWS failures and items
DynamoDB keeps leaving unprocessed are LedgerErrors, never "not delivered"."""

from __future__ import annotations

import pytest

from tiktok_relay.pipeline.aws import DynamoDBLedger
from tiktok_relay.pipeline.ledger import LEDGER_TTL_SECONDS, MAX_RECONCILE_WINDOW_SECONDS, LedgerEntry
from tiktok_relay.pipeline.ports import LedgerError

TABLE = "tiktok-relay-ledger"
NOW = 1_800_000_000


@pytest.fixture
def dynamodb():
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        yield client


def entry(n: int, via: str = "webhook") -> LedgerEntry:
    return LedgerEntry("CPIXEL", "Purchase", f"shopify-order-{n}", "demo.myshopify.com", via, NOW - n, NOW)


def test_what_is_recorded_is_found_past_the_per_call_limits(dynamodb):
    ledger = DynamoDBLedger(TABLE, client=dynamodb, clock=lambda: NOW)
    ledger.record([entry(n) for n in range(260)])  # 11 BatchWriteItem calls of at most 25
    keys = [entry(n).key for n in range(0, 300)]  # 3 BatchGetItem calls of at most 100
    found = ledger.delivered(keys)
    assert set(found) == {entry(n).key for n in range(260)}
    assert found[entry(7).key] == entry(7)


def test_an_entry_expires_after_the_ttl_which_outlasts_any_reconcile_window(dynamodb):
    ledger = DynamoDBLedger(TABLE, client=dynamodb, clock=lambda: NOW)
    ledger.record([entry(1)])
    item = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": entry(1).key}})["Item"]
    assert int(item["expiration"]["N"]) == NOW + LEDGER_TTL_SECONDS
    assert LEDGER_TTL_SECONDS > MAX_RECONCILE_WINDOW_SECONDS and ledger.retention_seconds == LEDGER_TTL_SECONDS
    later = DynamoDBLedger(TABLE, client=dynamodb, clock=lambda: NOW + LEDGER_TTL_SECONDS + 1)
    assert later.delivered([entry(1).key]) == {}  # DynamoDB's TTL deletes lag; the reader does not


def test_a_later_delivery_of_the_same_key_replaces_the_entry(dynamodb):
    ledger = DynamoDBLedger(TABLE, client=dynamodb, clock=lambda: NOW)
    ledger.record([entry(1, via="reconcile"), entry(1)])
    ledger.record([entry(2)])
    ledger.record([entry(2, via="reconcile")])
    found = ledger.delivered([entry(1).key, entry(2).key])
    assert found[entry(1).key].via == "webhook" and found[entry(2).key].via == "reconcile"


def test_a_missing_table_is_a_ledger_error_never_an_empty_answer(dynamodb):
    ledger = DynamoDBLedger("no-such-table", client=dynamodb)
    with pytest.raises(LedgerError, match=r"the ledger table did not answer \(ResourceNotFoundException\)"):
        ledger.delivered([entry(1).key])
    with pytest.raises(LedgerError):
        ledger.record([entry(1)])


class LeavesHalfUnprocessed:
    """DynamoDB under throttling: each batch call handles only its first half, `times` times."""

    def __init__(self, client, times: int):
        self._client, self.times, self.calls = client, times, 0

    def batch_write_item(self, RequestItems):  # noqa: N803 - boto3's own argument name
        self.calls += 1
        items = RequestItems[TABLE]
        if self.times <= 0 or len(items) < 2:
            return self._client.batch_write_item(RequestItems=RequestItems)
        self.times -= 1
        half = len(items) // 2
        self._client.batch_write_item(RequestItems={TABLE: items[:half]})
        return {"UnprocessedItems": {TABLE: items[half:]}}


def test_unprocessed_items_are_written_again_with_backoff(dynamodb):
    sleeps: list[float] = []
    throttled = LeavesHalfUnprocessed(dynamodb, times=2)
    DynamoDBLedger(TABLE, client=throttled, clock=lambda: NOW, sleep=sleeps.append).record(
        [entry(n) for n in range(8)])
    assert throttled.calls == 3 and sleeps == [0.05, 0.1]
    assert len(DynamoDBLedger(TABLE, client=dynamodb, clock=lambda: NOW).delivered(
        [entry(n).key for n in range(8)])) == 8


class ProcessesNothing:
    def batch_write_item(self, RequestItems):  # noqa: N803 - boto3's own argument name
        return {"UnprocessedItems": RequestItems}


def test_items_left_unprocessed_for_good_are_a_ledger_error():
    sleeps: list[float] = []
    ledger = DynamoDBLedger(TABLE, client=ProcessesNothing(), sleep=sleeps.append)
    with pytest.raises(LedgerError, match="left part of a batch_write_item unprocessed"):
        ledger.record([entry(n) for n in range(8)])
    assert sleeps == [0.05, 0.1, 0.2, 0.4]
