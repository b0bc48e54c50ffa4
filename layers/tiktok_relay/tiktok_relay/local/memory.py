"""In-memory and file-backed stand-ins for SQS and DynamoDB (idempotency and remembered state).

Used by `tiktok-relay replay` and `serve`, and by the tests: real objects with the same
behaviour as the AWS ones where it matters (receive counts, dead letters, conditional puts).
Secrets given as values are `tiktok_relay.pipeline.runtime.StaticSecret`.
"""

from __future__ import annotations

import datetime
import json
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from tiktok_relay.pipeline.messages import DeadLetter
from tiktok_relay.pipeline.ports import QueueError, StateError


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
    """Dead letters as NDJSON, one record per line, appended."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.count = 0
        self._lock = threading.Lock()

    def put(self, letter: DeadLetter) -> None:
        try:
            with self._lock, self.path.open("a", encoding="utf-8") as handle:
                handle.write(letter.to_json() + "\n")
        except OSError as exc:
            raise QueueError(f"cannot write {self.path}: {exc.strerror}") from None
        self.count += 1


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
