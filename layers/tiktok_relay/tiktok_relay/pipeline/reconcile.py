"""Reconciliation: of the orders paid in a window, which the relay delivered; the rest sent; and
the coverage report (README "Reconciliation"). No Powertools wiring and no printing here (that
is handlers/reconcile.py and cli/reconcile.py).

Each order goes through the webhook path's own mapping (the source's `map` and `envelope`, as a
delivery of orders/paid, or orders/create when only that topic is mapped), so it gets the same
event_id, channel, consent and test rules. Its event is looked up in the ledger (what TikTok
accepted, pipeline/ledger.py) by TikTok's deduplication key. Each order ends in one outcome:

    ignored     the mapping sends nothing for it; `ignored` says why (test, channel, consent,
                no_event_for_topic, unmappable, other: sources/common/result.py)
    delivered   its event is in the ledger, delivered by its webhook
    reconciled  its event is in the ledger, delivered by an earlier reconcile
    sent        missed, and sent now: TikTok accepted it (the command line)
    queued      missed, and put on the events queue now, for the sender (the scheduled function)
    would_send  missed, and this is a dry run
    old         missed, and its event_time is older than the stale limit (TIKTOK_MAX_EVENT_AGE,
                48 h: TikTok's deduplication window, so the storefront pixel's copy could be
                counted again): reported, not sent, unless `force`. Test events are never old.
    failed      missed, and sending it failed now (`reason` says how)

The report (`Report.to_json`, the relied-upon object of `reconcile --json`) counts them in all
and per sales channel (the order's source_name: web, pos, shopify_draft_order, an app's id or
handle), and gives the delivered share of paid web orders: of the orders whose event goes to
the pixel, those delivered by their webhook. It names orders by id, name, event_id and times
only: no customer data.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from tiktok_relay.errors import TikTokRelayError, UsageError
from tiktok_relay.pipeline.ledger import RECONCILE_ID_PREFIX, LedgerEntry, ledger_key
from tiktok_relay.pipeline.messages import DeadLetter, QueuedDelivery
from tiktok_relay.pipeline.ports import Delivery, Ledger, Queue, QueueError, WebhookSource
from tiktok_relay.sources.common.result import IGNORED_REASONS, IgnoredReason, MappingResult
from tiktok_relay.tiktok.models import WireRequest

if TYPE_CHECKING:
    from tiktok_relay.pipeline.ports import DeadLetters
    from tiktok_relay.pipeline.send import QueueSender

REPORT_VERSION = 1
# The topics an order's purchase is mapped under, the first one mapped to an event wins.
ORDER_TOPICS = ("orders/paid", "orders/create")
UNKNOWN_CHANNEL = "unknown"  # an order without a source_name

Outcome = Literal["ignored", "delivered", "reconciled", "sent", "queued", "would_send", "old", "failed"]
OUTCOMES: tuple[Outcome, ...] = ("ignored", "delivered", "reconciled", "sent", "queued", "would_send", "old", "failed")
MISSED: tuple[Outcome, ...] = ("sent", "queued", "would_send", "old", "failed")


class Dispatch(Protocol):
    """Where the missed orders' events go."""

    success: Literal["sent", "queued"]  # what an order whose event went through counts as

    def send(self, deliveries: Sequence[QueuedDelivery]) -> dict[str, str | None]:
        """By webhook_id: None when the delivery went through, else why not (codes, TikTok's
        message; no customer data). Raise nothing for one delivery's failure."""


@dataclass(frozen=True)
class Window:
    """Orders processed from `since` (inclusive) to `until` (exclusive), UTC."""

    since: datetime
    until: datetime

    def check(self, now: float, retention_seconds: float | None) -> None:
        """UsageError when the window is empty, ends in the future, or starts before the ledger's
        memory (an order delivered then would look missed)."""
        if self.since >= self.until:
            raise UsageError("--since must be before --until")
        if self.until.timestamp() > now + 60:
            raise UsageError("--until is in the future")
        if retention_seconds is not None and self.since.timestamp() < now - retention_seconds:
            days = (now - self.since.timestamp()) / 86400
            raise UsageError(f"--since reaches back {days:.1f} days, further than the ledger remembers deliveries "
                             f"({retention_seconds / 86400:g} days): orders delivered before then would look missed")


@dataclass
class OrderOutcome:
    """What became of one order (no customer data)."""

    id: str | None
    name: str | None
    channel: str
    outcome: Outcome
    ignored: IgnoredReason | None = None
    event_id: str | None = None
    event_time: int | None = None
    event_source: str | None = None  # "web" (the pixel) or "offline", when the order has an event
    reason: str | None = None  # why it is ignored, failed or old

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "channel": self.channel, "outcome": self.outcome,
                "ignored": self.ignored, "event_id": self.event_id, "event_time": self.event_time,
                "event_source": self.event_source, "reason": self.reason}


def _counts(outcomes: Iterable[OrderOutcome]) -> dict[str, Any]:
    items = list(outcomes)
    counts: dict[str, Any] = {"orders": len(items)}
    for name in OUTCOMES[1:]:
        counts[name] = sum(1 for o in items if o.outcome == name)
    counts["ignored"] = {reason: sum(1 for o in items if o.ignored == reason) for reason in IGNORED_REASONS}
    return counts


@dataclass
class Report:
    """The coverage report of one shop and window (see the module docstring)."""

    shop: str
    window: Window
    dry_run: bool
    force: bool
    max_event_age: float | None
    orders: list[OrderOutcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for o in self.orders if o.outcome == outcome)

    @property
    def web_orders(self) -> list[OrderOutcome]:
        """The orders whose event goes to the pixel."""
        return [o for o in self.orders if o.outcome != "ignored" and o.event_source == "web"]

    @property
    def web_delivered_share(self) -> float | None:
        """Of the paid web orders, the share their webhooks delivered; None when there are none."""
        web = self.web_orders
        return round(sum(1 for o in web if o.outcome == "delivered") / len(web), 4) if web else None

    @property
    def undelivered(self) -> int:
        """Orders that should have an event at TikTok and, after this run, may not (a dry run's
        would_send, old ones, failures)."""
        return sum(1 for o in self.orders if o.outcome in ("would_send", "old", "failed"))

    def channels(self) -> dict[str, dict[str, Any]]:
        names = sorted({o.channel for o in self.orders})
        return {name: _counts(o for o in self.orders if o.channel == name) for name in names}

    def to_json(self) -> dict[str, Any]:
        """The relied-upon JSON object (README "The coverage report"): keys are only ever added."""
        return {
            "version": REPORT_VERSION, "shop": self.shop,
            "since": _iso(self.window.since), "until": _iso(self.window.until),
            "dry_run": self.dry_run, "force": self.force,
            "max_event_age_seconds": None if self.max_event_age is None else int(self.max_event_age),
            **_counts(self.orders),
            "web_orders": len(self.web_orders), "web_delivered_share": self.web_delivered_share,
            "channels": self.channels(),
            "missed": [o.to_json() for o in self.orders if o.outcome in MISSED],
            "ignored_orders": [o.to_json() for o in self.orders if o.outcome == "ignored"],
            "problems": list(self.problems),
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Mapped:
    outcome: OrderOutcome
    delivery: QueuedDelivery | None = None  # the order's request, when it has an event
    key: str | None = None


def reconcile(orders: Iterable[Mapping[str, Any]], *, shop: str, source: WebhookSource, ledger: Ledger,
              dispatch: Dispatch | None, window: Window, now: float, max_event_age: float | None,
              force: bool = False, tenant: str | None = None) -> Report:
    """Reconcile `orders` (webhook-shaped, sources/shopify/orders.py) of `shop`: look their
    events up in `ledger`, send the missed ones through `dispatch` (None: a dry run, nothing is
    sent), and report. `tenant`: the shop's key in the tenants document, named in the queue
    messages (the sender takes the token there). Raises LedgerError when the ledger cannot be
    read; a failure to send is an order's outcome."""
    report = Report(shop, window, dispatch is None, force, max_event_age)
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    mapped = [_map(order, shop, source, int(now), stamp, tenant) for order in orders]
    found = ledger.delivered([m.key for m in mapped if m.key is not None])
    oldest = None if max_event_age is None or force else now - max_event_age
    missing = []
    for item in mapped:
        if item.key is None or item.delivery is None:
            continue
        entry: LedgerEntry | None = found.get(item.key)
        if entry is not None:
            item.outcome.outcome = "delivered" if entry.via == "webhook" else "reconciled"
        elif (oldest is not None and not item.delivery.request.test_event_code
              and (item.outcome.event_time or 0) < oldest):
            item.outcome.outcome = "old"
            item.outcome.reason = (f"event_time more than {max_event_age:.0f} s ago (TIKTOK_MAX_EVENT_AGE): past "
                                   "TikTok's deduplication window, the storefront pixel's copy could be counted again; "
                                   "--force sends it")
        else:
            missing.append(item)
    _dispatch(report, dispatch, missing)
    report.orders = [m.outcome for m in mapped]
    return report


def _dispatch(report: Report, dispatch: Dispatch | None, missing: list[_Mapped]) -> None:
    if dispatch is None:
        for item in missing:
            item.outcome.outcome = "would_send"
        return
    if not missing:
        return
    failures = dispatch.send([item.delivery for item in missing if item.delivery is not None])
    for item in missing:
        assert item.delivery is not None
        failure = failures.get(item.delivery.webhook_id, "no outcome was reported")
        item.outcome.outcome = dispatch.success if failure is None else "failed"
        item.outcome.reason = failure


def _map(order: Mapping[str, Any], shop: str, source: WebhookSource, now: int, stamp: str,
         tenant: str | None = None) -> _Mapped:
    """The order through the webhook path's mapping, as the first of ORDER_TOPICS mapped to an event."""
    order_id = _text(order.get("id"))
    channel = _channel(order.get("source_name"))
    outcome = OrderOutcome(order_id, _text(order.get("name")), channel, "ignored")
    webhook_id = f"{RECONCILE_ID_PREFIX}{stamp}-{order_id or 'order'}"
    result: MappingResult | None = None
    for topic in ORDER_TOPICS:
        delivery = Delivery(webhook_id=webhook_id, topic=topic, shop=shop, body=b"")
        result = source.map(delivery, dict(order), now=now)
        if result.ignored != "no_event_for_topic":
            break
    assert result is not None
    if not result.sent:
        outcome.ignored, outcome.reason = result.ignored or "other", result.reason
        return _Mapped(outcome)
    request = WireRequest(**source.envelope(delivery, result), data=result.wire_events)
    event = request.data[0]
    outcome.event_id, outcome.event_time, outcome.event_source = event.get("event_id"), event.get("event_time"), \
        request.event_source
    queued = QueuedDelivery(source=source.name, webhook_id=webhook_id, shop=shop, topic=delivery.topic, tenant=tenant,
                            request=request)
    return _Mapped(outcome, queued, ledger_key(request.event_source_id, event["event"], event["event_id"]))


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    text = str(value).strip()
    return text[:100] if text else None


def _channel(source_name: Any) -> str:
    """The order's sales channel for the report: its source_name, printable ASCII, bounded."""
    text = _text(source_name)
    if text is None:
        return UNKNOWN_CHANNEL
    cleaned = "".join(ch if " " < ch <= "~" else "_" for ch in text.lower()[:60])
    return cleaned or UNKNOWN_CHANNEL


class QueueDispatch:
    """The missed orders' events onto the events queue (the scheduled function): the sender
    delivers them, records them in the ledger, and dead-letters what TikTok refuses."""

    success: Literal["sent", "queued"] = "queued"

    def __init__(self, queue: Queue):
        self._queue = queue

    def send(self, deliveries: Sequence[QueuedDelivery]) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for delivery in deliveries:
            try:
                self._queue.send(delivery.to_message(), {"topic": delivery.topic, "shop": delivery.shop})
                out[delivery.webhook_id] = None
            except QueueError as exc:
                out[delivery.webhook_id] = f"not queued: the events queue did not take it ({exc})"
        return out


class _Refused:
    """The dead letters of a direct send, kept to say why an order failed."""

    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    def put(self, letter: DeadLetter) -> None:
        self.letters.append(letter)


class SenderDispatch:
    """The missed orders' events straight to TikTok, through the sender's own code (QueueSender:
    its grouping into requests, its retries, its ledger records), as one batch (the command line).
    `make_sender(dead_letters)` builds that sender around a store of this dispatch's."""

    success: Literal["sent", "queued"] = "sent"

    def __init__(self, make_sender: Callable[[DeadLetters], QueueSender]):
        self._refused = _Refused()
        self._sender = make_sender(self._refused)

    def send(self, deliveries: Sequence[QueuedDelivery]) -> dict[str, str | None]:
        records = [{"messageId": d.webhook_id, "body": d.to_message(), "attributes": {"ApproximateReceiveCount": "1"}}
                   for d in deliveries]
        report = self._sender.send_batch(records)
        refused = {letter.webhook_id: letter for letter in self._refused.letters}
        out: dict[str, str | None] = {}
        for delivery in deliveries:
            letter = refused.get(delivery.webhook_id)
            if letter is not None:
                out[delivery.webhook_id] = f"{letter.reason} ({letter.code}): {letter.message}"
            elif delivery.webhook_id in report.retry_message_ids:
                why = [p for p in report.problems if delivery.webhook_id in p]
                out[delivery.webhook_id] = "not delivered, run reconcile again: " + ("; ".join(why) or "TikTok failed")
            else:
                out[delivery.webhook_id] = None
        return out


# --- the scheduled function --------------------------------------------------------------------

# A paid order's webhook normally reaches TikTok within seconds (the queue's 5 s batching window);
# a scheduled window ends this long before now, so that orders still on their way (a redelivery
# after the queue's 360 s visibility timeout) are not taken for missed. One sent anyway is
# harmless: TikTok deduplicates its event_id.
SETTLE_SECONDS = 10 * 60
# A shop is started only with this much of the invocation left: paging its orders and queueing
# the missed ones takes a few seconds a page.
MIN_SHOP_SECONDS = 60.0


@dataclass(frozen=True)
class ReconcileTarget:
    """One shop to reconcile: its identity, the source that maps its orders (its pixel and
    settings) and `orders(since, until)`, its paid orders of a window (the Admin API, its token).
    `tenant`: its key in the tenants document, named in its queue messages (None: one shop).
    `error`: why it cannot be reconciled (a broken entry: reported as a failure); `skip`: why it
    is not meant to be (no Admin API token given: reported, not a failure)."""

    shop: str
    source: WebhookSource
    orders: Callable[[datetime, datetime], Iterable[Mapping[str, Any]]]
    tenant: str | None = None
    error: str | None = None
    skip: str | None = None


@dataclass
class ShopRun:
    """What one scheduled run did for one shop: its report, or why it has none (no customer
    data); `skipped`: not a failure (the shop is not set up for reconciling)."""

    shop: str
    report: Report | None = None
    error: str | None = None
    skipped: bool = False


class ScheduledReconcile:
    """What the scheduled function runs: every target's window of `window_seconds` ending
    SETTLE_SECONDS ago, its missed orders onto the events queue (`dispatch`). A shop that cannot
    be reconciled now (Shopify refused or failed, the ledger or a secret store did not answer,
    its settings are broken) is reported and the others go on; so is one the deadline leaves no
    time for (`deadline`: a time.monotonic() value)."""

    def __init__(self, *, targets: Callable[[], Sequence[ReconcileTarget]], ledger: Ledger, dispatch: Dispatch,
                 window_seconds: float, max_event_age: float | None, clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic):
        self._targets = targets
        self._ledger = ledger
        self._dispatch = dispatch
        self.window_seconds = window_seconds
        self._max_event_age = max_event_age
        self._clock = clock
        self._monotonic = monotonic

    def run(self, *, deadline: float | None = None) -> list[ShopRun]:
        now = self._clock()
        until = datetime.fromtimestamp(now - SETTLE_SECONDS, UTC)
        window = Window(datetime.fromtimestamp(until.timestamp() - self.window_seconds, UTC), until)
        runs = []
        for target in self._targets():
            if target.skip is not None or target.error is not None:
                runs.append(ShopRun(target.shop, error=f"not reconciled: {target.skip or target.error}",
                                    skipped=target.skip is not None))
                continue
            if deadline is not None and deadline - self._monotonic() < MIN_SHOP_SECONDS:
                runs.append(ShopRun(target.shop, error="not reconciled: no time left in this run; the next run "
                                                       "covers it"))
                continue
            try:
                report = reconcile(target.orders(window.since, window.until), shop=target.shop, source=target.source,
                                   ledger=self._ledger, dispatch=self._dispatch, window=window, now=now,
                                   max_event_age=self._max_event_age, tenant=target.tenant)
            except TikTokRelayError as exc:  # raised on purpose: the message names no value
                runs.append(ShopRun(target.shop, error=f"not reconciled: {exc}"))
                continue
            runs.append(ShopRun(target.shop, report=report))
        return runs
