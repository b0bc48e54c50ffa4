"""In-memory and file-backed stand-ins for SQS and DynamoDB (idempotency, remembered state and
the ledger of delivered events).

Used by `tiktok-relay replay` and `serve`, and by the tests: real objects with the same
behaviour as the AWS ones where it matters (receive counts, dead letters, conditional puts).
Secrets given as values are `tiktok_relay.pipeline.runtime.StaticSecret`.
"""

from __future__ import annotations

import datetime
import json
import threading
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from tiktok_relay.errors import UsageError
from tiktok_relay.local.files import append_locked
from tiktok_relay.pipeline.ledger import LedgerEntry
from tiktok_relay.pipeline.messages import DeadLetter
from tiktok_relay.pipeline.ports import LedgerError, QueueError, StateError


@dataclass
class QueuedMessage:
    message_id: str
    body: str
    attributes: dict[str, str]
    receive_count: int = 0

    def as_sqs_record(self) -> dict[str, Any]:
        """The record shape Lambda's SQS event source hands the sender."""
        return {
            "messageId": self.message_id,
            "receiptHandle": f"replay-{self.message_id}",
            "body": self.body,
            "attributes": {"ApproximateReceiveCount": str(self.receive_count)},
            "messageAttributes": {
                k: {"stringValue": v, "dataType": "String"} for k, v in self.attributes.items()
            },
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:local:000000000000:tiktok-relay-events",
            "awsRegion": "local",
        }


class MemoryQueue:
    """A FIFO-ish queue with SQS receive counts. `available=False` simulates an outage."""

    def __init__(self) -> None:
        self._messages: list[QueuedMessage] = []
        self._lock = threading.Lock()
        self.available = True
        self.sent: list[QueuedMessage] = []  # everything ever enqueued, for reports

    def send(self, body: str, attributes: dict[str, str]) -> None:
        if not self.available:
            raise QueueError("queue unavailable")
        message = QueuedMessage(str(uuid.uuid4()), body, dict(attributes))
        with self._lock:
            self._messages.append(message)
            self.sent.append(message)

    def receive(self, max_messages: int) -> list[QueuedMessage]:
        with self._lock:
            batch, self._messages = self._messages[:max_messages], self._messages[max_messages:]
        for message in batch:
            message.receive_count += 1
        return batch

    def release(self, message: QueuedMessage) -> None:
        """Make a received message visible again (what SQS does after the visibility timeout)."""
        with self._lock:
            self._messages.append(message)

    def __len__(self) -> int:
        with self._lock:
            return len(self._messages)


@dataclass
class MemoryDeadLetters:
    """Dead letters kept as their stored records (dicts), for assertions."""

    records: list[dict[str, Any]] = field(default_factory=list)
    available: bool = True

    def put(self, letter: DeadLetter) -> None:
        if not self.available:
            raise QueueError("dead-letter store unavailable")
        self.records.append(letter.to_record())


class FileDeadLetters:
    """Dead letters as NDJSON, one record per line, appended under the file's lock (local/files.py),
    so that `redrive`, which rewrites the file, never loses a line appended meanwhile."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.count = 0
        self._lock = threading.Lock()

    def put(self, letter: DeadLetter) -> None:
        try:
            with self._lock:
                append_locked(self.path, letter.to_json() + "\n")
        except OSError as exc:
            raise QueueError(f"cannot write {self.path}: {exc.strerror}") from None
        self.count += 1


class FileLedger:
    """The ledger of delivered events (pipeline/ledger.py) as NDJSON, one entry per line,
    appended; the last line of a key wins. Kept for ever (delete the file to start afresh). A
    file that does not exist is an empty ledger; a line that is not an entry is a UsageError
    naming the file and the line (reading around it could take a delivered order for a missed one)."""

    retention_seconds: float | None = None

    def __init__(self, path: str | Path, flag: str = "--ledger"):
        self.path = Path(path)
        self._flag = flag
        self._lock = threading.Lock()

    def delivered(self, keys: Collection[str]) -> dict[str, LedgerEntry]:
        wanted = set(keys)
        return {key: entry for key, entry in self.entries().items() if key in wanted}

    def entries(self) -> dict[str, LedgerEntry]:
        """Every entry, by key."""
        try:
            with self._lock:
                text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise LedgerError(f"cannot read {self._flag} {self.path}: {getattr(exc, 'strerror', None) or 'not text'}"
                              ) from None
        found: dict[str, LedgerEntry] = {}
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            entry = LedgerEntry.from_record(record) if isinstance(record, dict) else None
            if entry is None:
                raise UsageError(f"{self._flag} {self.path}: line {number} is not a ledger entry (the file is not "
                                 "a tiktok-relay ledger, or was edited)")
            found[entry.key] = entry
        return found

    def record(self, entries: Sequence[LedgerEntry]) -> None:
        if not entries:
            return
        lines = "".join(json.dumps(entry.to_record(), separators=(",", ":")) + "\n" for entry in entries)
        try:
            with self._lock, self.path.open("a", encoding="utf-8") as handle:
                handle.write(lines)
        except OSError as exc:
            raise LedgerError(f"cannot write {self._flag} {self.path}: {exc.strerror}") from None


class MemoryStateStore:
    """Remembered state in a dict (no expiry: a local run is short). `available=False` simulates an
    outage; `puts` counts writes, for assertions."""

    def __init__(self) -> None:
        self._states: dict[str, str] = {}
        self._lock = threading.Lock()
        self.available = True
        self.puts = 0

    def get(self, key: str) -> dict[str, Any] | None:
        if not self.available:
            raise StateError("state store unavailable")
        with self._lock:
            text = self._states.get(key)
        return json.loads(text) if text is not None else None

    def put(self, key: str, state: dict[str, Any]) -> None:
        if not self.available:
            raise StateError("state store unavailable")
        with self._lock:
            self._states[key] = json.dumps(state)  # a copy, as a real store holds
            self.puts += 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._states)


class MemoryIdempotencyStore(BasePersistenceLayer):
    """Powertools idempotency persistence in a dict: the same semantics as the DynamoDB layer
    (conditional put, in-progress records, expiry), so local runs deduplicate like Lambda."""

    def __init__(self) -> None:
        super().__init__()
        self._records: dict[str, DataRecord] = {}
        self._lock = threading.Lock()

    def _get_record(self, idempotency_key) -> DataRecord:
        with self._lock:
            record = self._records.get(idempotency_key)
        if record is None:
            raise IdempotencyItemNotFoundError
        return record

    def _put_record(self, data_record: DataRecord) -> None:
        now = int(datetime.datetime.now().timestamp())
        with self._lock:
            existing = self._records.get(data_record.idempotency_key)
            if existing is not None and not existing.is_expired and existing.status != "EXPIRED":
                in_progress_expired = (
                    existing.status == "INPROGRESS"
                    and existing.in_progress_expiry_timestamp is not None
                    and existing.in_progress_expiry_timestamp < now * 1000
                )
                if not in_progress_expired:
                    raise IdempotencyItemAlreadyExistsError(old_data_record=existing)
            self._records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self._records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self._records.pop(data_record.idempotency_key, None)
