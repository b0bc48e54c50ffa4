"""The ledger of delivered events: what TikTok accepted, so that `reconcile` sends only what the
relay missed (README "Reconciliation").

The sender records every event TikTok accepts (pipeline/send.py, one `Ledger.record` call per
batch); `reconcile` looks its orders' events up. An entry is keyed on what TikTok deduplicates
on: the event source id (the pixel, or the offline event set), the event name and the event_id.
Where it lives: a DynamoDB table in AWS (pipeline/aws.py DynamoDBLedger, template.yaml's
LedgerTable), a file outside it (`reconcile --ledger`, tiktok_relay/local/memory.py FileLedger).

Entries hold ids, names and times only: no customer data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from tiktok_relay.pipeline.messages import QueuedDelivery

# How long the DynamoDB ledger remembers a delivery. It must outlast the longest window a
# reconcile looks back over (MAX_RECONCILE_WINDOW_SECONDS): an order delivered before the
# ledger forgot it would look missed. 8 days: a week's window and a day to spare.
LEDGER_TTL_SECONDS = 8 * 24 * 3600
MAX_RECONCILE_WINDOW_SECONDS = 7 * 24 * 3600
# The webhook_id of the queue messages `reconcile` makes (there is no webhook delivery behind
# them): the ledger tells "delivered by its webhook" from "delivered by an earlier reconcile" by it.
RECONCILE_ID_PREFIX = "reconcile-"

Via = Literal["webhook", "reconcile"]
VIAS: tuple[Via, ...] = ("webhook", "reconcile")


def ledger_key(event_source_id: str, event: str, event_id: str) -> str:
    """TikTok's deduplication key of an event: the same key means the same conversion. Pixel
    codes, event set ids and event names are letters and digits, so the event_id, last, may
    hold anything, the separator too."""
    return f"{event_source_id}|{event}|{event_id}"


def via_of(webhook_id: str) -> Via:
    return "reconcile" if webhook_id.startswith(RECONCILE_ID_PREFIX) else "webhook"


@dataclass(frozen=True)
class LedgerEntry:
    """One delivered event. `via` says who sent it: its webhook's delivery, or `reconcile`."""

    event_source_id: str
    event: str
    event_id: str
    shop: str
    via: Via
    event_time: int | None = None
    delivered_at: int | None = None

    @property
    def key(self) -> str:
        return ledger_key(self.event_source_id, self.event, self.event_id)

    def to_record(self) -> dict[str, Any]:
        """The entry as a JSON object (a line of a ledger file)."""
        return {"key": self.key, "event_source_id": self.event_source_id, "event": self.event,
                "event_id": self.event_id, "shop": self.shop, "via": self.via, "event_time": self.event_time,
                "delivered_at": self.delivered_at}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> LedgerEntry | None:
        """The entry a record holds, None when it is not one."""
        names = ("event_source_id", "event", "event_id", "shop")
        if not all(isinstance(record.get(name), str) and record[name] for name in names):
            return None
        via = record.get("via")
        times = [record.get(name) for name in ("event_time", "delivered_at")]
        if via not in VIAS or not all(t is None or (isinstance(t, int) and not isinstance(t, bool)) for t in times):
            return None
        return cls(record["event_source_id"], record["event"], record["event_id"], record["shop"], via,
                   times[0], times[1])


def delivered_entries(delivery: QueuedDelivery, events: Iterable[Mapping[str, Any]], *,
                      delivered_at: int) -> list[LedgerEntry]:
    """The ledger entries of `events` of one queue message, once TikTok accepted them. Events
    without an event_id are left out: nothing could look them up."""
    source_id = delivery.request.event_source_id
    via = via_of(delivery.webhook_id)
    entries = []
    for event in events:
        event_id, name, when = event.get("event_id"), event.get("event"), event.get("event_time")
        if isinstance(event_id, str) and event_id and isinstance(name, str):
            entries.append(LedgerEntry(source_id, name, event_id, delivery.shop, via,
                                       when if isinstance(when, int) else None, delivered_at))
    return entries
