"""Sending a batch of queued deliveries to TikTok. No Powertools wiring here (that is
functions/sender/app.py, which turns the report into a partial batch response).

For each queue record the outcome is one of:
    done        every event delivered, or dead-lettered (refused by TikTok for bad data, or
                stale), and the dead letters stored
    requeued    some events were delivered (or dead-lettered) and others failed transiently:
                the undelivered ones go back on the events queue as a new message and the record
                is acknowledged, so nothing already delivered is sent again
    retry       nothing was settled (or a store write failed): the record is reported as a batch
                item failure, SQS redelivers it, and after the queue's maxReceiveCount SQS moves
                it to the dead-letter queue itself
A record that cannot be parsed goes to the dead-letter store at once: it will never parse.

Time. `deadline` is the last moment a store write (dead letter, requeue) may start, a little
before the Lambda timeout (`deadline_from`). Requests to TikTok stop SETTLE_SECONDS before it,
so the writes that follow them have their time. Events not sent by then are failed-retryable:
redelivered (or requeued), never dead-lettered for lack of time. A write that would start after
the deadline is not made; its record is retried instead.

The ledger. Every event TikTok accepted is recorded in the ledger of delivered events
(pipeline/ledger.py), in one call per batch after the sends: `reconcile` sends only what it does
not find there. A ledger that cannot be written is reported (`unrecorded`), not retried: the
events were delivered, and a missing entry only makes `reconcile` send one again under its
event_id, which TikTok deduplicates within 48 h.

Stale events. An event whose event_time is more than `max_event_age` ago (TIKTOK_MAX_EVENT_AGE,
default 48 h) is not sent but dead-lettered with the reason "stale": TikTok deduplicates an
event_id only within 48 h of the first copy (the storefront pixel's, at about event_time), so a
later send could count the same purchase twice. Test events (a test_event_code) are sent
whatever their age: they count in no report. So is a message `redrive --force` queued
(`ignore_age`): its operator knows TikTok never counted those events.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tiktok_relay.config import DEFAULT_MAX_EVENT_AGE_SECONDS
from tiktok_relay.errors import ConfigurationError, EventValidationError
from tiktok_relay.pipeline.ledger import delivered_entries
from tiktok_relay.pipeline.messages import REJECTED, STALE, DeadLetter, QueuedDelivery
from tiktok_relay.pipeline.ports import DeadLetters, Ledger, LedgerError, Queue, QueueError, Unavailable
from tiktok_relay.tiktok.client import EventOutcome, Status, TikTokClient
from tiktok_relay.tiktok.matching import add_match_keys, no_match_keys
from tiktok_relay.tiktok.models import WireRequest

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

# The Lambda timeout budget (README "Reliability"): no store write starts in the last
# FINAL_RESERVE_SECONDS (each SQS write is limited to about 3 s, pipeline/aws.py, and the handler
# must still answer), and no TikTok request ends in the SETTLE_SECONDS before that (the dead
# letters and requeues of a batch of 100 records take about 1-3 s). 10 s of the template's 60 s.
FINAL_RESERVE_SECONDS = 4.0
SETTLE_SECONDS = 6.0


@dataclass
class BatchReport:
    """What one batch did: counts for metrics and logs, and the records to retry. No PII."""

    records: int = 0
    events: int = 0
    delivered: int = 0
    rejected: int = 0
    stale: int = 0
    dead_lettered: int = 0
    failed: int = 0
    requeued: int = 0  # events put back on the queue in a new message (their record acknowledged)
    malformed: int = 0
    unrecorded: int = 0  # delivered events the ledger could not record
    requests_sent: int = 0
    tiktok_latencies: list[float] = field(default_factory=list)
    retry_message_ids: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)  # every record's, in order
    shops: set[str] = field(default_factory=set)  # the shops whose messages the batch held (at most its size)
    accepted: list[tuple[QueuedDelivery, dict[str, Any]]] = field(default_factory=list, repr=False)  # for the ledger
    match_keys: dict[str, int] = field(default_factory=no_match_keys)  # of the delivered events

    def batch_item_failures(self) -> dict[str, list[dict[str, str]]]:
        """The documented SQS partial batch response: the records to redeliver, in record order."""
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in self.message_ids
                                      if message_id in self.retry_message_ids]}


@dataclass(frozen=True)
class Route:
    """Where one queue message's events go: `client` makes the client holding its tenant's
    token, `max_event_age` is the stale limit for them (seconds, None: none). Messages with the
    same `key` (the tenant) are sent together; each key on its own, so a tenant whose token
    TikTok refuses holds back no other."""

    key: str | None
    client: Callable[[], TikTokClient]
    max_event_age: float | None


@dataclass
class _Parsed:
    message_id: str
    receive_count: int
    delivery: QueuedDelivery
    route: Route
    fresh: list[dict[str, Any]]  # the events to send
    stale: list[dict[str, Any]]  # the events too old to send
    first: int = 0  # index of the record's first fresh event in the combined send

    def request_of(self, events: list[dict[str, Any]]) -> WireRequest:
        """This record's envelope with `events` (the record's own request when they are all of it:
        the usual case, where building another took 60 k instructions per record)."""
        request = self.delivery.request
        return request if events is request.data else request.model_copy(update={"data": events})


class QueueSender:
    def __init__(self, *, client: Callable[[], TikTokClient] | None = None, dead_letters: DeadLetters,
                 requeue: Queue | None = None, max_event_age: float | None = DEFAULT_MAX_EVENT_AGE_SECONDS,
                 router: Callable[[QueuedDelivery], Route] | None = None,
                 clock: Callable[[], float] = time.time, on_report: Callable[[BatchReport], None] | None = None,
                 ledger: Ledger | None = None):
        """`client` makes the client of a single-shop deployment (a factory: the token may
        rotate between invocations); `router` instead finds each message's route (its tenant's
        client and stale limit: runtime.tenant_router), raising ConfigurationError or
        Unavailable for a message whose tenant cannot be used now (it is retried, the others
        are sent). `requeue` is the events queue (for the undelivered rest of a partly delivered
        record; without it such a record is retried whole). `max_event_age` in seconds, None: no limit.
        `ledger` records what TikTok accepted (None: nothing is recorded)."""
        if router is None:
            if client is None:
                raise TypeError("QueueSender needs a client or a router")
            route = Route(None, client, max_event_age)
            router = lambda delivery: route  # noqa: E731 - one route for every message
        self._router = router
        self._dead_letters = dead_letters
        self._requeue = requeue
        self._clock = clock
        self._on_report = on_report
        self._ledger = ledger

    def send_batch(self, records: Sequence[dict[str, Any]], *, deadline: float | None = None) -> BatchReport:
        report = BatchReport(records=len(records))
        parsed = [item for record in records if (item := self._parse(report, record, deadline)) is not None]
        groups: dict[str | None, list[_Parsed]] = {}
        for item in parsed:
            groups.setdefault(item.route.key, []).append(item)
        position = 0
        for item in (item for items in groups.values() for item in items):  # each group's events together
            item.first = position
            position += len(item.fresh)
        report.events = position + sum(len(item.stale) for item in parsed)
        outcomes: list[EventOutcome | None] = [None] * position
        send_deadline = None if deadline is None else deadline - SETTLE_SECONDS
        for items in groups.values():
            if not self._send_group(report, items, outcomes, send_deadline):
                unsent = {id(item) for item in items}
                parsed = [item for item in parsed if id(item) not in unsent]
        # Did this batch settle anything? Then records it only did not reach in time may be
        # requeued (their receive count starts afresh) without risking an endless loop.
        progress = any(item.stale for item in parsed) or any(
            o is not None and (o.status is Status.DELIVERED or o.is_data_error) for o in outcomes)
        for item in parsed:
            settled = [o for o in outcomes[item.first: item.first + len(item.fresh)] if o is not None]
            self._settle(report, item, settled, deadline, progress)
        self._record_accepted(report, deadline)
        if self._on_report is not None:
            self._on_report(report)
        return report

    def _send_group(self, report: BatchReport, items: list[_Parsed], outcomes: list[EventOutcome | None],
                    deadline: float | None) -> bool:
        """Send one route's fresh events, putting each outcome at its index; False (and its
        records retried) when the route's client could not be made now."""
        sending = [item for item in items if item.fresh]
        if not sending:
            return True
        try:
            client = items[0].route.client()
        except Unavailable as exc:  # the token's secret store did not answer: nothing sent
            report.problems.append(f"not sent: {exc}; the batch will be retried")
            report.retry_message_ids.update(item.message_id for item in items)
            return False
        result = client.send_wire([item.request_of(item.fresh) for item in sending], deadline=deadline)
        report.requests_sent += result.requests_sent
        report.tiktok_latencies += result.latencies
        base = sending[0].first  # the group's events sit together from here in the batch's numbering
        for outcome in result.outcomes:  # renumbered only when needed (a replace costs 25 k instructions)
            index = base + outcome.index
            outcomes[index] = dataclasses.replace(outcome, index=index) if base else outcome
        return True

    def _parse(self, report: BatchReport, record: dict[str, Any], deadline: float | None) -> _Parsed | None:
        message_id = str(record.get("messageId"))
        report.message_ids.append(message_id)
        receive_count = int((record.get("attributes") or {}).get("ApproximateReceiveCount") or 1)
        try:  # not JSON, not our shape: EventValidationError either way, naming the problem
            delivery = QueuedDelivery.parse(record.get("body") or "")
        except EventValidationError as exc:
            report.malformed += 1
            reason = "malformed queue message: " + "; ".join(str(p) for p in exc.problems)[:1000]
            self._store(report, message_id, DeadLetter(reason=reason, body=record.get("body"),
                                                        receive_count=receive_count), deadline)
            return None
        report.shops.add(delivery.shop)
        try:
            route = self._router(delivery)
        except (ConfigurationError, Unavailable) as exc:  # its tenant cannot be used now: retried
            report.failed += len(delivery.request.data)
            report.retry_message_ids.add(message_id)
            report.problems.append(f"message {message_id} of shop {delivery.shop} not sent: {exc}; it will be retried")
            return None
        stale: list[dict[str, Any]] = []
        if delivery.ignore_age:  # redrive --force: the operator knows TikTok never counted them
            fresh = delivery.request.data
        else:
            fresh, stale = by_age(delivery.request, route.max_event_age, self._clock())
        return _Parsed(message_id, receive_count, delivery, route, fresh, stale)

    def _settle(self, report: BatchReport, item: _Parsed, outcomes: Sequence[EventOutcome],
                deadline: float | None, batch_progress: bool) -> None:
        """Count and store what happened to one record's events; then acknowledge it, requeue
        its undelivered events, or have it retried."""
        stored = self._dead_letter_stale(report, item, deadline) if item.stale else True
        failed: list[dict[str, Any]] = []
        unsent = 0  # of the failed: not sent at all, the deadline came first
        for outcome in outcomes:
            event = item.fresh[outcome.index - item.first]
            if outcome.status is Status.DELIVERED:
                report.delivered += 1
                report.accepted.append((item.delivery, event))
                add_match_keys(report.match_keys, event)
            elif outcome.is_data_error:
                report.rejected += 1
                stored &= self._dead_letter_rejected(report, item, outcome, event, deadline)
            else:
                # Transient failure, out of time, or TikTok refused the token or account (fixable
                # by the operator): redelivered; after maxReceiveCount SQS dead-letters the record.
                report.failed += 1
                failed.append(event)
                unsent += not outcome.attempted
                report.problems.append(
                    f"event {outcome.event_id} of webhook {item.delivery.webhook_id} not delivered "
                    f"({outcome.status.value}): {outcome.code} {outcome.message}"
                )
        if not stored:
            report.retry_message_ids.add(item.message_id)
        elif failed and not self._requeued(report, item, failed, unsent, batch_progress, deadline):
            report.retry_message_ids.add(item.message_id)

    def _requeued(self, report: BatchReport, item: _Parsed, failed: list[dict[str, Any]], unsent: int,
                  batch_progress: bool, deadline: float | None) -> bool:
        """Requeue a record's failed events when it made progress itself (some of its events
        settled), or when they were only not reached in time while the batch made progress: a
        record must not use up its receives, and reach the DLQ, for lack of time. Each requeue
        follows settled events, so requeueing ends. Otherwise the record is retried (SQS counts
        its receives and dead-letters it after maxReceiveCount)."""
        own_progress = len(failed) < len(item.fresh) + len(item.stale)
        if not (own_progress or (batch_progress and unsent == len(failed))):
            return False
        return self._requeue_rest(report, item, failed, deadline)

    def _record_accepted(self, report: BatchReport, deadline: float | None) -> None:
        """The one ledger call of a batch: every event TikTok accepted (see the module docstring).
        Like any store write, it does not start after the deadline."""
        if self._ledger is None or not report.accepted:
            return
        now = int(self._clock())
        entries = [entry for delivery, event in report.accepted
                   for entry in delivered_entries(delivery, [event], delivered_at=now)]
        try:
            if _past(deadline):
                raise LedgerError("no time left in this invocation")
            self._ledger.record(entries)
        except LedgerError as exc:
            report.unrecorded += len(entries)
            report.problems.append(f"{len(entries)} delivered event(s) not recorded in the ledger ({exc}); "
                                   "reconcile will send them again under their event_ids")

    def _dead_letter_stale(self, report: BatchReport, item: _Parsed, deadline: float | None) -> bool:
        report.stale += len(item.stale)
        letter = DeadLetter.of(item.delivery, reason=STALE, receive_count=item.receive_count,
                               message=stale_message(item.route.max_event_age), request=item.request_of(item.stale))
        report.problems.append(f"{len(item.stale)} stale event(s) of webhook {item.delivery.webhook_id} "
                               "dead-lettered, not sent")
        if self._store(report, item.message_id, letter, deadline):
            report.dead_lettered += len(item.stale)
            return True
        return False

    def _dead_letter_rejected(self, report: BatchReport, item: _Parsed, outcome: EventOutcome,
                              event: dict[str, Any], deadline: float | None) -> bool:
        letter = DeadLetter.of(item.delivery, reason=REJECTED, code=outcome.code, message=outcome.message,
                               request_id=outcome.request_id, request=item.request_of([event]),
                               receive_count=item.receive_count)
        report.problems.append(
            f"event {outcome.event_id} of webhook {item.delivery.webhook_id} rejected: "
            f"{outcome.code} {outcome.message} (request_id {outcome.request_id})"
        )
        if self._store(report, item.message_id, letter, deadline):
            report.dead_lettered += 1
            return True
        return False

    def _requeue_rest(self, report: BatchReport, item: _Parsed, failed: list[dict[str, Any]],
                      deadline: float | None) -> bool:
        """Put the undelivered events back on the events queue as a new message. False when
        there is no queue to put them on, no time, or the write failed."""
        if self._requeue is None or _past(deadline):
            return False
        delivery = item.delivery.model_copy(update={"request": item.request_of(failed)})
        try:
            self._requeue.send(delivery.to_message(), {"topic": delivery.topic, "shop": delivery.shop})
        except QueueError as exc:
            report.problems.append(f"events queue unavailable ({exc}); message {item.message_id} will be retried")
            return False
        report.requeued += len(failed)
        return True

    def _store(self, report: BatchReport, message_id: str, letter: DeadLetter, deadline: float | None) -> bool:
        """Store a dead letter; False (and the record is retried) when that failed or there was
        no time left to try."""
        if _past(deadline):
            report.problems.append(f"no time left to store a dead letter; message {message_id} will be retried")
            report.retry_message_ids.add(message_id)
            return False
        try:
            self._dead_letters.put(letter)
            return True
        except QueueError as exc:
            report.problems.append(f"dead-letter store unavailable ({exc}); message {message_id} will be retried")
            report.retry_message_ids.add(message_id)
            return False


def by_age(request: WireRequest, max_event_age: float | None, now: float
           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the events to send, the events older than `max_event_age` seconds at `now`): the stale
    rule, for the sender and `redrive` alike. Test events (a test_event_code) count in no
    report, so they are never stale; nor is an event without an event_time."""
    events = request.data
    if max_event_age is None or request.test_event_code:
        return events, []
    oldest = now - max_event_age
    fresh = [e for e in events if e.get("event_time", oldest) >= oldest]
    if len(fresh) == len(events):
        return events, []
    return fresh, [e for e in events if e.get("event_time", oldest) < oldest]


def stale_message(max_event_age: float | None) -> str:
    """A stale dead letter's `message`."""
    return (f"event_time more than {max_event_age or 0:.0f} s ago (TIKTOK_MAX_EVENT_AGE): past TikTok's "
            "deduplication window, so it was not sent")


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def deadline_from(context: LambdaContext | None, *, reserve_seconds: float = FINAL_RESERVE_SECONDS) -> float | None:
    """The monotonic moment after which no store write starts: `reserve_seconds` before the
    Lambda timeout. TikTok requests stop SETTLE_SECONDS earlier still (QueueSender)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return time.monotonic() + max(0.0, remaining() / 1000 - reserve_seconds)
