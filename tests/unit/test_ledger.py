"""The ledger of delivered events: its key is TikTok's deduplication key, its entries say who
delivered them, and the file ledger (`reconcile --ledger`) never reads a damaged file as empty."""

from __future__ import annotations

import json

import pytest

from tests.support.aws import PIXEL_ID, purchase, request_of
from tiktok_relay.errors import UsageError
from tiktok_relay.local.memory import FileLedger
from tiktok_relay.pipeline.ledger import LedgerEntry, delivered_entries, ledger_key
from tiktok_relay.pipeline.messages import QueuedDelivery
from tiktok_relay.pipeline.ports import LedgerError


def queued(webhook_id: str, *events: dict) -> QueuedDelivery:
    return QueuedDelivery.model_validate({"webhook_id": webhook_id, "shop": "demo.myshopify.com",
                                          "topic": "orders/paid", "request": request_of(*events)})


def test_the_key_is_the_pixel_the_event_and_the_event_id():
    assert ledger_key("CPIXEL", "Purchase", "shopify-order-1") == "CPIXEL|Purchase|shopify-order-1"
    # TikTok deduplicates per event name: an order's PlaceAnOrder and its Purchase are two conversions.
    assert ledger_key("CPIXEL", "PlaceAnOrder", "shopify-order-1") != ledger_key("CPIXEL", "Purchase", "shopify-order-1")
    # Pixel codes and event names are letters and digits: an event_id (last) may hold the separator.
    assert ledger_key("CPIXEL", "Purchase", "a|b").split("|", 2) == ["CPIXEL", "Purchase", "a|b"]


def test_entries_of_a_webhook_delivery_and_of_a_reconcile_say_who_delivered_them():
    webhook = delivered_entries(queued("wh-1", purchase("shopify-order-1")), [purchase("shopify-order-1")],
                                delivered_at=1_800_000_000)
    resent = delivered_entries(queued("reconcile-20261201", purchase("shopify-order-2")),
                               [purchase("shopify-order-2")], delivered_at=1_800_000_000)
    assert [(e.key, e.via, e.shop) for e in webhook] == [(f"{PIXEL_ID}|Purchase|shopify-order-1", "webhook",
                                                          "demo.myshopify.com")]
    assert [e.via for e in resent] == ["reconcile"]
    assert webhook[0].event_time == purchase("x")["event_time"] and webhook[0].delivered_at == 1_800_000_000


def test_an_event_without_an_event_id_has_no_entry():
    event = {k: v for k, v in purchase("x").items() if k != "event_id"}
    assert delivered_entries(queued("wh-1", purchase("y")), [event], delivered_at=1) == []


def test_a_record_round_trips_and_anything_else_is_not_an_entry():
    entry = LedgerEntry("CPIXEL", "Purchase", "shopify-order-1", "demo.myshopify.com", "webhook", 10, 20)
    assert LedgerEntry.from_record(json.loads(json.dumps(entry.to_record()))) == entry
    for broken in ({}, {**entry.to_record(), "via": "carrier pigeon"}, {**entry.to_record(), "event_time": "10"},
                   {**entry.to_record(), "event_id": ""}, {**entry.to_record(), "delivered_at": True}):
        assert LedgerEntry.from_record(broken) is None


def entry(n: int, via: str = "webhook") -> LedgerEntry:
    return LedgerEntry("CPIXEL", "Purchase", f"shopify-order-{n}", "demo.myshopify.com", via, 100 + n, 200 + n)


def test_the_file_ledger_finds_what_it_recorded_and_the_last_line_of_a_key_wins(tmp_path):
    ledger = FileLedger(tmp_path / "ledger.ndjson")
    assert ledger.delivered([entry(1).key]) == {}  # no file yet: nothing delivered
    ledger.record([entry(1), entry(2)])
    ledger.record([entry(2, via="reconcile")])
    found = ledger.delivered([entry(1).key, entry(2).key, entry(3).key])
    assert found == {entry(1).key: entry(1), entry(2).key: entry(2, via="reconcile")}
    assert len((tmp_path / "ledger.ndjson").read_text().splitlines()) == 3  # appended, never rewritten


def test_a_damaged_ledger_file_is_refused_naming_the_line_never_read_as_empty(tmp_path):
    path = tmp_path / "ledger.ndjson"
    path.write_text(json.dumps(entry(1).to_record()) + "\n{not json\n")
    with pytest.raises(UsageError, match=r"--ledger .*ledger\.ndjson: line 2 is not a ledger entry"):
        FileLedger(path).delivered([entry(1).key])


def test_a_ledger_that_cannot_be_written_is_a_ledger_error(tmp_path):
    ledger = FileLedger(tmp_path / "missing-directory" / "ledger.ndjson")
    with pytest.raises(LedgerError, match="cannot write --ledger"):
        ledger.record([entry(1)])
