"""Bringing dead letters back, as `tiktok-relay redrive` does (cli/redrive.py prints the result).

Dead letters are kept in one of two places:
- the dead-letter file `replay` and `serve` write: its events are posted to TikTok with the
  configured token, then the file is rewritten to hold only what is still dead (lines appended
  meanwhile are kept: memory.rewrite_dead_letters);
- the deployed dead-letter queue: each message's events go back on the events queue, as the
  queue message the receiver wrote (naming its shop, so its tenant), for the sender to send
  like any other. A message is deleted from the dead-letter queue only once the events queue
  has taken its events; anything else is released, visible again at once.

Which events go back is decided one record at a time (`plan`), the same way for both:
- events older than TIKTOK_MAX_EVENT_AGE (the sender's stale rule, `send.by_age`) stay dead
  unless `force`: past TikTok's 48 h deduplication window, a second copy could be counted;
- events TikTok refused for their data (reason REJECTED) stay dead unless `include_rejected`:
  sent again unchanged, they are refused again;
- a record that cannot be read (a malformed queue message, a body cut to fit SQS) stays as it is;
- everything else goes back: queue messages that failed their receives (TikTok down, the token
  refused) and, when asked, the stale and refused.
A record only part of whose events go back is replaced by a stale letter holding the rest.

Every event read ends up counted once: redriven, stale, rejected (kept by the rules) or failed
(tried, still dead: TikTok refused or did not answer, the events queue did not take it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from tiktok_relay.errors import ConfigurationError, EventValidationError, UsageError
from tiktok_relay.local.files import rewrite_dead_letters
from tiktok_relay.pipeline.messages import REJECTED, STALE, DeadLetter, QueuedDelivery
from tiktok_relay.pipeline.ports import DeadLetters, Queue, QueueError, QueueReader, ReceivedMessage
from tiktok_relay.pipeline.send import by_age, stale_message
from tiktok_relay.tiktok.client import EventOutcome, Status
from tiktok_relay.tiktok.models import MAX_EVENTS_PER_REQUEST, WireRequest

if TYPE_CHECKING:
    from tiktok_relay.tiktok.client import TikTokClient

# Messages a run has received stay hidden from other readers this long (it releases those it
# keeps when it ends; a crashed run's come back by themselves after this).
VISIBILITY_SECONDS = 300
# Long polling, however short, asks every SQS server; a short poll can miss the messages of a small queue.
WAIT_SECONDS = 1
# Receives that bring only messages seen already (a run longer than VISIBILITY_SECONDS) before
# the queue counts as read.
IDLE_ROUNDS = 3

Kept = Literal["stale", "rejected", "unreadable"]


class DeadLetterQueue(QueueReader, DeadLetters, Protocol):
    """The dead-letter queue: read, emptied, and written (what stays dead of a message)."""


@dataclass(frozen=True)
class Rules:
    """What goes back. `max_event_age` in seconds (None: no limit). `shop` is given to letters
    that name none (written before dead letters did); `need_shop`: such a letter cannot go back
    without it (the events queue's sender finds a message's tenant by its tenant key, else its shop)."""

    max_event_age: float | None
    force: bool = False
    include_rejected: bool = False
    shop: str | None = None
    need_shop: bool = False


@dataclass
class Plan:
    """What one stored record becomes: `resend`, the events that go back (where they came
    from kept), and `rest`, what stays dead in the record's place when only part of it goes
    back; or `kept`, why the record stays as it is."""

    resend: QueuedDelivery | None = None
    rest: DeadLetter | None = None
    kept: Kept | None = None
    events: int = 0
    stale: int = 0
    rejected: int = 0
    note: str | None = None  # why it cannot be read, or what was cut from it


def _with(request: WireRequest, events: list[dict[str, Any]]) -> WireRequest:
    return WireRequest.model_construct(**request.envelope().__dict__, data=events)


def _origin(record: str, rules: Rules) -> tuple[QueuedDelivery | None, bool, str | None]:
    """(the record's events as a queue message, whether TikTok refused their data, a note);
    no message when the record cannot be read (the note says why)."""
    try:
        return QueuedDelivery.parse(record), False, None  # a message SQS moved after its receives
    except EventValidationError:
        pass
    try:
        letter = DeadLetter.model_validate_json(record)
    except EventValidationError:
        return None, False, "neither a dead letter nor a queue message"
    cut = f"it was cut to fit one SQS message (without {'; '.join(letter.cut)})" if letter.cut else None
    if letter.request is not None:
        shop = letter.shop or rules.shop
        if shop is None and letter.tenant is None and rules.need_shop:
            return None, False, "it names no shop (written before dead letters did): give --shop SHOP"
        delivery = QueuedDelivery(source=letter.source or "shopify", webhook_id=letter.webhook_id or "",
                                  shop=shop or "", topic=letter.topic or "", tenant=letter.tenant,
                                  request=letter.request)
        return delivery, letter.reason == REJECTED, cut
    try:
        return QueuedDelivery.parse(letter.body or ""), False, cut
    except EventValidationError:
        return None, False, f"it holds no readable events ({letter.reason[:120]})"


def plan(record: str, rules: Rules, now: float) -> Plan:
    """What redriving `record` (a dead-letter file's line, a dead-letter queue message's body)
    does under `rules`, at `now`. Pure: nothing is sent."""
    delivery, refused, note = _origin(record, rules)
    if delivery is None:
        return Plan(kept="unreadable", note=note)
    events = delivery.request.data
    result = Plan(events=len(events), note=note)
    if refused and not rules.include_rejected:
        result.kept, result.rejected = "rejected", len(events)
        return result
    fresh, stale = (events, []) if delivery.ignore_age else by_age(delivery.request, rules.max_event_age, now)
    if stale and rules.force:
        delivery = delivery.model_copy(update={"ignore_age": True})  # the sender sends them too
    elif stale:
        result.stale = len(stale)
        if not fresh:
            result.kept = "stale"
            return result
        result.rest = DeadLetter.of(delivery, reason=STALE, message=stale_message(rules.max_event_age),
                                    request=_with(delivery.request, stale))
        delivery = delivery.model_copy(update={"request": _with(delivery.request, fresh)})
    result.resend = delivery
    return result


@dataclass
class RedriveReport:
    """What a run did, in events (and unreadable records). `source` is what was read (a path,
    a queue URL), `target` where the events went (TikTok's URL, the events queue's)."""

    source: str
    target: str
    dry_run: bool
    letters: int = 0
    events: int = 0
    redriven: int = 0
    stale: int = 0
    rejected: int = 0
    failed: int = 0
    unreadable: int = 0
    requests_sent: int = 0
    problems: list[str] = field(default_factory=list)  # event and webhook ids, TikTok's codes; no PII

    def count(self, where: str, planned: Plan) -> None:
        self.letters += 1
        self.events += planned.events
        self.stale += planned.stale
        self.rejected += planned.rejected
        if planned.kept == "unreadable":
            self.unreadable += 1
            self.problems.append(f"{where} kept: {planned.note}")
        elif planned.note:
            self.problems.append(f"{where}: {planned.note}; redriven as it is")

    def as_dict(self) -> dict[str, Any]:
        """`redrive --json`'s object (relied upon; cli/redrive.py documents it)."""
        return {"from": self.source, "to": self.target, "dry_run": self.dry_run, "letters": self.letters,
                "events": self.events, "redriven": self.redriven, "stale": self.stale, "rejected": self.rejected,
                "failed": self.failed, "unreadable": self.unreadable, "requests_sent": self.requests_sent,
                "problems": list(self.problems)}


Progress = Callable[[int, int], None]  # (records done, records in all, as far as known)


def _no_progress(done: int, total: int) -> None:
    pass


# --- the dead-letter file ------------------------------------------------------------------------------------------


@dataclass
class _Line:
    number: int
    text: str
    planned: Plan
    keep: list[str] | None = None  # what replaces the line in the file (None: the line itself)

    @property
    def resend(self) -> QueuedDelivery:
        assert self.planned.resend is not None  # only lines with events to post are posted
        return self.planned.resend


def redrive_file(path: str | Path, *, client_for: Callable[[QueuedDelivery], TikTokClient] | None, rules: Rules,
                 target: str, clock: Callable[[], float] = time.time, progress: Progress = _no_progress
                 ) -> RedriveReport:
    """Post the events of the dead-letter file at `path` to TikTok, each with the client
    `client_for` gives for it (its tenant's token; ConfigurationError when there is none: that
    record stays), None for a dry run (nothing sent or rewritten); then rewrite the file with
    what is still dead. UsageError when the file cannot be read."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except OSError as exc:
        raise UsageError(f"--dead-letter {path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise UsageError(f"--dead-letter {path}: not a dead-letter file (not UTF-8 text)") from None
    report = RedriveReport(str(path), target, dry_run=client_for is None)
    now = clock()
    lines = [_Line(number, line, plan(line, rules, now)) for number, line in enumerate(text.splitlines(), 1)
             if line.strip()]
    for line in lines:
        report.count(f"line {line.number}", line.planned)
    resent = [line for line in lines if line.planned.resend is not None]
    if client_for is None:
        report.redriven = sum(len(line.resend.request.data) for line in resent)
        progress(len(lines), len(lines))
        return report
    resent = [line for line in resent if _has_client(report, line, client_for)]
    done = len(lines) - len(resent)
    for client, chunk in _chunks(resent, client_for):
        _post(report, client, chunk)
        done += len(chunk)
        progress(done, len(lines))
    if any(line.keep is not None for line in lines):
        rewrite_dead_letters(path, len(raw), [kept for line in lines
                                              for kept in (line.keep if line.keep is not None else [line.text])])
    return report


def _has_client(report: RedriveReport, line: _Line, client_for: Callable[[QueuedDelivery], TikTokClient]) -> bool:
    """Whether the line's events can be posted: ConfigurationError from `client_for` (no token
    for its tenant) leaves the line as it is, its events failed."""
    try:
        client_for(line.resend)
    except ConfigurationError as exc:
        report.failed += len(line.resend.request.data)
        report.problems.append(f"line {line.number} kept: {exc}")
        return False
    return True


def _chunks(lines: list[_Line], client_for: Callable[[QueuedDelivery], TikTokClient]
            ) -> list[tuple[TikTokClient, list[_Line]]]:
    """The lines to post, by client (a tenant's token), in chunks of at most one request's
    events (the client would split larger ones itself; chunks are what the progress bar counts)."""
    groups: dict[int, tuple[TikTokClient, list[_Line]]] = {}
    for line in lines:
        client = client_for(line.resend)
        groups.setdefault(id(client), (client, []))[1].append(line)
    chunks: list[tuple[TikTokClient, list[_Line]]] = []
    for client, group in groups.values():
        chunk: list[_Line] = []
        size = 0
        for line in group:
            events = len(line.resend.request.data)
            if chunk and size + events > MAX_EVENTS_PER_REQUEST:
                chunks.append((client, chunk))
                chunk, size = [], 0
            chunk.append(line)
            size += events
        chunks.append((client, chunk))
    return chunks


def _post(report: RedriveReport, client: TikTokClient, chunk: list[_Line]) -> None:
    result = client.send_wire([line.resend.request for line in chunk])
    report.requests_sent += result.requests_sent
    first = 0
    for line in chunk:
        count = len(line.resend.request.data)
        line.keep = _still_dead(report, line.planned, line.resend, result.outcomes[first:first + count])
        first += count


def _still_dead(report: RedriveReport, planned: Plan, delivery: QueuedDelivery,
                outcomes: Sequence[EventOutcome]) -> list[str] | None:
    """Count what became of one record's posted events; the lines that stay in its place (None:
    the record itself, when none of its events settled)."""
    events = delivery.request.data
    failed = [event for outcome, event in zip(outcomes, events, strict=True)
              if outcome.status is Status.FAILED_RETRYABLE]
    refused = [(outcome, event) for outcome, event in zip(outcomes, events, strict=True)
               if outcome.status is Status.REJECTED]
    report.redriven += len(events) - len(failed) - len(refused)
    report.failed += len(failed) + len(refused)
    for outcome in outcomes:
        if outcome.status is not Status.DELIVERED:
            report.problems.append(f"event {outcome.event_id} of webhook {delivery.webhook_id} not redriven "
                                   f"({outcome.status.value}): {outcome.code} {outcome.message} "
                                   f"[request_id {outcome.request_id}]")
    if len(failed) == len(events) and planned.rest is None:
        return None
    letters = [planned.rest] if planned.rest is not None else []
    letters += [DeadLetter.of(delivery, reason=REJECTED, code=outcome.code, message=outcome.message,
                              request_id=outcome.request_id, request=_with(delivery.request, [event]))
                for outcome, event in refused]
    if failed:
        last = next(o for o in outcomes if o.status is Status.FAILED_RETRYABLE)
        letters.append(DeadLetter.of(delivery, reason="not delivered by redrive", code=last.code, message=last.message,
                                     request=_with(delivery.request, failed)))
    return [letter.to_json() for letter in letters]


# --- the dead-letter queue -----------------------------------------------------------------------------------------


def redrive_queue(dead_letters: DeadLetterQueue, events_queue: Queue | None, *, rules: Rules, source: str,
                  target: str, expected: int = 0, clock: Callable[[], float] = time.time,
                  progress: Progress = _no_progress) -> RedriveReport:
    """Put the events of every message in `dead_letters` back on `events_queue` (None: a dry
    run, nothing moved). `expected`: about how many messages there are, for `progress`."""
    report = RedriveReport(source, target, dry_run=events_queue is None)
    seen: set[str] = set()
    written: set[str] = set()  # the stale rests this run put in the dead-letter queue: not read again
    held: list[ReceivedMessage] = []  # received and kept: made visible again at the end
    idle = 0
    try:
        while idle < IDLE_ROUNDS:
            batch = dead_letters.receive(10, visibility_timeout=VISIBILITY_SECONDS, wait_seconds=WAIT_SECONDS)
            if not batch:
                break
            new = [m for m in batch if m.message_id not in seen and m.body not in written]
            held += [m for m in batch if m.message_id in seen or m.body in written]
            idle = 0 if new else idle + 1
            for message in new:
                seen.add(message.message_id)
                if not _move(report, message, dead_letters, events_queue, rules, clock(), written):
                    held.append(message)
                progress(len(seen), max(expected, len(seen)))
    finally:
        _release(report, dead_letters, held)
    return report


def _move(report: RedriveReport, message: ReceivedMessage, dead_letters: DeadLetterQueue,
          events_queue: Queue | None, rules: Rules, now: float, written: set[str]) -> bool:
    """Redrive one message; True once it is deleted from the dead-letter queue, which happens
    only after the events queue took its events (and the dead-letter queue what stays dead,
    whose body is added to `written`)."""
    where = f"message {message.message_id}"
    planned = plan(message.body, rules, now)
    report.count(where, planned)
    delivery = planned.resend
    if delivery is None:
        return False
    events = len(delivery.request.data)
    if events_queue is None:
        report.redriven += events
        return False
    try:
        events_queue.send(delivery.to_message(), {"topic": delivery.topic, "shop": delivery.shop})
    except QueueError as exc:
        report.failed += events
        report.problems.append(f"{where}: the events queue did not take its {events} event(s) ({exc}); "
                               "it stays in the dead-letter queue")
        return False
    report.redriven += events
    again = "a later redrive queues its events again (TikTok deduplicates the copies by event_id within 48 h)"
    if planned.rest is not None:
        try:
            written.add(planned.rest.to_json())
            dead_letters.put(planned.rest)
        except QueueError as exc:
            report.problems.append(f"{where}: its events are back on the events queue, but its stale rest could "
                                   f"not be stored on its own ({exc}), so it stays in the dead-letter queue; {again}")
            return False
    try:
        dead_letters.delete(message)
    except QueueError as exc:
        twice = "; its stale rest is in the dead-letter queue twice (in it and in a new message)" \
            if planned.rest else ""
        report.problems.append(f"{where}: its events are back on the events queue, but it could not be deleted "
                               f"from the dead-letter queue ({exc}); {again}{twice}")
        return False
    return True


def _release(report: RedriveReport, dead_letters: DeadLetterQueue, held: list[ReceivedMessage]) -> None:
    if not held:
        return
    try:
        dead_letters.release(held)
    except QueueError as exc:
        report.problems.append(f"{len(held)} message(s) kept could not be made visible again at once ({exc}); "
                               f"they are within {VISIBILITY_SECONDS} s")
