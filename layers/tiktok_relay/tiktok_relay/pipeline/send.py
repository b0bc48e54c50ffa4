"""Sending a batch of queued deliveries to TikTok. No Powertools wiring here (that is
functions/sender/app.py, which turns the report into a partial batch response).

For each queue record the outcome is one of:
    done        every event delivered, or refused for good and put in the dead-letter store
    retry       something transient failed (or TikTok refused the token/account); the record
                is reported as a batch item failure, SQS redelivers it, and after the queue's
                maxReceiveCount SQS moves it to the dead-letter queue itself
A record that cannot be parsed goes to the dead-letter store at once: it will never parse.
Events TikTok refuses for bad data go to the dead-letter store at once, with TikTok's code
and message, without holding back the good events they were batched with.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tiktok_relay.errors import EventValidationError
from tiktok_relay.pipeline.messages import DeadLetter, QueuedDelivery
from tiktok_relay.pipeline.ports import DeadLetters, QueueError
from tiktok_relay.tiktok.client import EventOutcome, Status, TikTokClient
from tiktok_relay.tiktok.models import WireRequest

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@dataclass
class BatchReport:
    """What one batch did: counts for metrics and logs, and the records to retry. No PII."""

    records: int = 0
    events: int = 0
    delivered: int = 0
    rejected: int = 0
    dead_lettered: int = 0
    failed: int = 0
    malformed: int = 0
    requests_sent: int = 0
    tiktok_latencies: list[float] = field(default_factory=list)
    retry_message_ids: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)  # every record's, in order

    def batch_item_failures(self) -> dict[str, list[dict[str, str]]]:
        """The documented SQS partial batch response: the records to redeliver, in record order."""
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in self.message_ids
                                      if message_id in self.retry_message_ids]}


@dataclass
class _Parsed:
    message_id: str
    receive_count: int
    delivery: QueuedDelivery
    first: int = 0  # index of the record's first event in the combined send


class QueueSender:
    def __init__(self, *, client: Callable[[], TikTokClient], dead_letters: DeadLetters,
                 on_report: Callable[[BatchReport], None] | None = None):
        self._client = client  # a factory: the token may rotate between invocations
        self._dead_letters = dead_letters
        self._on_report = on_report

    def send_batch(self, records: Sequence[dict[str, Any]], *, deadline: float | None = None) -> BatchReport:
        report = BatchReport(records=len(records))
        parsed: list[_Parsed] = []
        for record in records:
            message_id = str(record.get("messageId"))
            report.message_ids.append(message_id)
            receive_count = int((record.get("attributes") or {}).get("ApproximateReceiveCount") or 1)
            try:  # not JSON, not our shape: EventValidationError either way, naming the problem
                delivery = QueuedDelivery.parse(record.get("body") or "")
            except EventValidationError as exc:
                report.malformed += 1
                reason = "malformed queue message: " + "; ".join(str(p) for p in exc.problems)[:1000]
                self._dead_letter_or_retry(report, message_id, DeadLetter(
                    reason=reason, body=record.get("body"), receive_count=receive_count))
                continue
            parsed.append(_Parsed(message_id, receive_count, delivery))

        position = 0
        for item in parsed:
            item.first = position
            position += len(item.delivery.request.data)
        report.events = position
        if parsed:
            result = self._client().send_wire([p.delivery.request for p in parsed], deadline=deadline)
            report.requests_sent = result.requests_sent
            report.tiktok_latencies = result.latencies
            for item in parsed:
                size = len(item.delivery.request.data)
                self._settle(report, item, result.outcomes[item.first : item.first + size])
        if self._on_report is not None:
            self._on_report(report)
        return report

    def _settle(self, report: BatchReport, item: _Parsed, outcomes: Sequence[EventOutcome]) -> None:
        retry = False
        for outcome in outcomes:
            if outcome.status is Status.DELIVERED:
                report.delivered += 1
            elif outcome.is_data_error:
                report.rejected += 1
                event = item.delivery.request.data[outcome.index - item.first]
                request = WireRequest.model_construct(**item.delivery.request.envelope().__dict__, data=[event])
                letter = DeadLetter(
                    reason="rejected by TikTok", webhook_id=item.delivery.webhook_id, code=outcome.code,
                    message=outcome.message, request_id=outcome.request_id, request=request,
                    receive_count=item.receive_count,
                )
                if self._dead_letter_or_retry(report, item.message_id, letter):
                    report.dead_lettered += 1
                report.problems.append(
                    f"event {outcome.event_id} of webhook {item.delivery.webhook_id} rejected: "
                    f"{outcome.code} {outcome.message} (request_id {outcome.request_id})"
                )
            else:
                # Transient failure, or TikTok refused the token or account (fixable by the
                # operator): let SQS redeliver; after maxReceiveCount it dead-letters the record.
                report.failed += 1
                retry = True
                report.problems.append(
                    f"event {outcome.event_id} of webhook {item.delivery.webhook_id} not delivered "
                    f"({outcome.status.value}): {outcome.code} {outcome.message}"
                )
        if retry:
            report.retry_message_ids.add(item.message_id)

    def _dead_letter_or_retry(self, report: BatchReport, message_id: str, letter: DeadLetter) -> bool:
        try:
            self._dead_letters.put(letter)
            return True
        except QueueError as exc:
            report.problems.append(f"dead-letter store unavailable ({exc}); message {message_id} will be retried")
            report.retry_message_ids.add(message_id)
            return False


def deadline_from(context: LambdaContext | None, *, margin_seconds: float = 3.0) -> float | None:
    """A monotonic deadline a little before the Lambda timeout, so retries stop in time."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return time.monotonic() + max(0.0, remaining() / 1000 - margin_seconds)
