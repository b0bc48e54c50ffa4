"""The AWS side of the ports: SQS queues, the DynamoDB idempotency, state and ledger tables, and
secrets read through Powertools Parameters (cached). boto3 is imported here only, and only when used.

Every client comes from boto3's default session. Powertools would build the DynamoDB and
Secrets Manager clients from a new session each, and each new session loads botocore's
endpoint data and models again: about 200 ms more of a cold start (tests/bench/bench_relay.py).

Every client fails fast (CLIENT_OPTIONS): the relay's callers retry anyway (Shopify for the
receiver, SQS redelivery for the sender), and botocore's defaults (60 s timeouts, retries)
would outlast Shopify's 5 s and the sender's deadline. An SQS write that timed out may still
have been stored; the SDK retrying it would only add copies."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

from tiktok_relay.config import checked_secret
from tiktok_relay.errors import ConfigurationError
from tiktok_relay.pipeline.ledger import LEDGER_TTL_SECONDS, LedgerEntry
from tiktok_relay.pipeline.ports import LedgerError, QueueError, ReceivedMessage, StateError, Unavailable

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from tiktok_relay.pipeline.messages import DeadLetter

SECRET_MAX_AGE_SECONDS = 300
# A bad signature may mean the secret was rotated; refetching is allowed this often at most,
# so a flood of forged requests cannot turn into a flood of Secrets Manager calls.
MIN_REFRESH_INTERVAL_SECONDS = 60
# How long a cart's remembered lines are kept after its last delivery. Shopify documents no
# lifetime for online-store carts; 30 days outlives any cart a buyer comes back to (and TikTok's
# 28-day click window). A forgotten cart's next delivery is read as new: its whole contents sent.
STATE_TTL_SECONDS = 30 * 24 * 3600
# 1 s to connect, 2 s per read, one attempt: an AWS call takes about 3 s at most.
CLIENT_OPTIONS = {"connect_timeout": 1, "read_timeout": 2, "retries": {"total_max_attempts": 1, "mode": "standard"}}
# Secrets Manager answers that no retry will change: the setting, or the function's role, is wrong.
# DynamoDB's own limits per call: BatchGetItem reads 100 keys, BatchWriteItem writes 25 items.
_GET_BATCH, _WRITE_BATCH = 100, 25
# Rounds of retrying what a batch call left unprocessed (throttling), 0.05 s, 0.1 s, 0.2 s apart.
_UNPROCESSED_ROUNDS = 4
_SECRET_CONFIGURATION_ERRORS = frozenset({"ResourceNotFoundException", "AccessDeniedException", "DecryptionFailure",
                                          "InvalidRequestException", "InvalidParameterException"})


def aws_client(service: str, *, options: dict[str, Any] | None = None, region: str | None = None) -> Any:
    """A boto3 client of the default session with CLIENT_OPTIONS (or `options`), in the
    session's region (or `region`)."""
    import boto3
    from botocore.config import Config

    return boto3.client(service, region_name=region, config=Config(**(CLIENT_OPTIONS if options is None else options)))


class SqsQueue:
    """Sends to one SQS queue. Any failure becomes QueueError (the receiver answers 503)."""

    def __init__(self, queue_url: str, client: Any = None):
        self.queue_url = queue_url
        self._client = client

    def _sqs(self) -> Any:
        if self._client is None:
            self._client = aws_client("sqs")
        return self._client

    def _call(self, operation: str, **parameters: Any) -> dict[str, Any]:
        """One SQS call on this queue; any failure becomes QueueError naming AWS's error code."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._sqs(), operation)(QueueUrl=self.queue_url, **parameters)
        except (BotoCoreError, ClientError) as exc:
            raise QueueError(_aws_error_name(exc)) from None

    def send(self, body: str, attributes: dict[str, str]) -> None:
        self._call("send_message", MessageBody=body, MessageAttributes={
            k: {"DataType": "String", "StringValue": v} for k, v in attributes.items() if v})

    def put(self, letter: DeadLetter) -> None:
        """As a dead-letter store: one SQS message per dead letter."""
        self.send(letter.to_json(), {"reason": letter.reason[:200]})

    # As a QueueReader (ports.py), for `redrive`.

    def receive(self, max_messages: int, *, visibility_timeout: int, wait_seconds: int) -> list[ReceivedMessage]:
        answer = self._call("receive_message", MaxNumberOfMessages=max_messages, VisibilityTimeout=visibility_timeout,
                            WaitTimeSeconds=wait_seconds)
        return [ReceivedMessage(m["MessageId"], m["ReceiptHandle"], m.get("Body", ""))
                for m in answer.get("Messages", [])]

    def delete(self, message: ReceivedMessage) -> None:
        self._call("delete_message", ReceiptHandle=message.receipt_handle)

    def release(self, messages: Sequence[ReceivedMessage]) -> None:
        failed = 0
        for start in range(0, len(messages), 10):  # SQS takes 10 entries per batch call
            entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                       for i, m in enumerate(messages[start:start + 10])]
            failed += len(self._call("change_message_visibility_batch", Entries=entries).get("Failed", []))
        if failed:
            raise QueueError(f"{failed} message(s) not released")

    def approximate_count(self) -> int:
        """How many messages the queue holds, about (SQS's ApproximateNumberOfMessages). Also
        the check that the queue exists and may be read: QueueError names what SQS answered."""
        answer = self._call("get_queue_attributes", AttributeNames=["ApproximateNumberOfMessages"])
        return int(answer.get("Attributes", {}).get("ApproximateNumberOfMessages", 0))

    def source_queue_urls(self) -> list[str]:
        """The queues whose redrive policy names this one as their dead-letter queue."""
        return list(self._call("list_dead_letter_source_queues").get("queueUrls", []))


class DynamoDBStateStore:
    """Remembered state in a DynamoDB table (template.yaml's StateTable): `id` the key, `state`
    the JSON text, `expiration` the TTL attribute. Reads are consistent: the delivery before may
    have written a moment ago. Any AWS failure becomes StateError (the receiver answers 503)."""

    def __init__(self, table_name: str, *, client: Any = None, ttl_seconds: int = STATE_TTL_SECONDS,
                 clock: Callable[[], float] = time.time):
        self.table_name = table_name
        self._client = client
        self._ttl = ttl_seconds
        self._clock = clock

    def _dynamodb(self) -> Any:
        if self._client is None:
            self._client = aws_client("dynamodb")
        return self._client

    def get(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            item = self._dynamodb().get_item(TableName=self.table_name, Key={"id": {"S": key}},
                                             ConsistentRead=True).get("Item")
        except (BotoCoreError, ClientError) as exc:
            raise StateError(_aws_error_name(exc)) from None
        if not item:
            return None
        expiration = item.get("expiration", {}).get("N")
        if expiration is not None and int(expiration) < self._clock():  # TTL deletes lag by up to days
            return None
        try:
            state = json.loads(item.get("state", {}).get("S") or "null")
        except ValueError:
            return None
        return state if isinstance(state, dict) else None

    def put(self, key: str, state: dict[str, Any]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        item = {"id": {"S": key}, "state": {"S": json.dumps(state, separators=(",", ":"))},
                "expiration": {"N": str(int(self._clock()) + self._ttl)}}
        try:
            self._dynamodb().put_item(TableName=self.table_name, Item=item)
        except (BotoCoreError, ClientError) as exc:
            raise StateError(_aws_error_name(exc)) from None


class DynamoDBLedger:
    """The ledger of delivered events (pipeline/ledger.py) in a DynamoDB table (template.yaml's
    LedgerTable): `id` the ledger key, `shop`, `via`, `event_time`, `delivered_at`, and
    `expiration` the TTL attribute, LEDGER_TTL_SECONDS after the delivery. Reads are consistent
    (the sender may have written a moment ago); an entry past its expiration reads as absent
    (TTL deletes lag by up to days). Any AWS failure, and items left unprocessed after
    _UNPROCESSED_ROUNDS retries, become LedgerError."""

    def __init__(self, table_name: str, *, client: Any = None, ttl_seconds: int = LEDGER_TTL_SECONDS,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        self.table_name = table_name
        self.retention_seconds: float | None = float(ttl_seconds)
        self._client = client
        self._ttl = ttl_seconds
        self._clock = clock
        self._sleep = sleep

    def _dynamodb(self) -> Any:
        if self._client is None:
            self._client = aws_client("dynamodb")
        return self._client

    def delivered(self, keys: Collection[str]) -> dict[str, LedgerEntry]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, LedgerEntry] = {}
        for start in range(0, len(wanted), _GET_BATCH):
            request = {self.table_name: {"Keys": [{"id": {"S": key}} for key in wanted[start:start + _GET_BATCH]],
                                         "ConsistentRead": True}}
            for item in self._batch("batch_get_item", request, "UnprocessedKeys"):
                entry = self._entry(item)
                if entry is not None:
                    found[entry.key] = entry
        return found

    def record(self, entries: Sequence[LedgerEntry]) -> None:
        expiration = str(int(self._clock()) + self._ttl)
        items = {entry.key: self._item(entry, expiration) for entry in entries}  # one write per key
        puts = [{"PutRequest": {"Item": item}} for item in items.values()]
        for start in range(0, len(puts), _WRITE_BATCH):
            self._batch("batch_write_item", {self.table_name: puts[start:start + _WRITE_BATCH]}, "UnprocessedItems")

    def _batch(self, operation: str, request: dict[str, Any], unprocessed: str) -> list[dict[str, Any]]:
        """Run a batch call until nothing is left unprocessed; the items it read."""
        from botocore.exceptions import BotoCoreError, ClientError

        argument = "RequestItems"
        read: list[dict[str, Any]] = []
        for attempt in range(_UNPROCESSED_ROUNDS + 1):
            if attempt:
                self._sleep(0.05 * 2 ** (attempt - 1))
            try:
                answer = getattr(self._dynamodb(), operation)(**{argument: request})
            except (BotoCoreError, ClientError) as exc:
                raise LedgerError(f"the ledger table did not answer ({_aws_error_name(exc)})") from None
            read += answer.get("Responses", {}).get(self.table_name, [])
            request = answer.get(unprocessed) or {}
            if not request:
                return read
        raise LedgerError(f"the ledger table left part of a {operation} unprocessed ({_UNPROCESSED_ROUNDS} retries)")

    @staticmethod
    def _item(entry: LedgerEntry, expiration: str) -> dict[str, Any]:
        item: dict[str, Any] = {"id": {"S": entry.key}, "event_source_id": {"S": entry.event_source_id},
                                "event": {"S": entry.event}, "event_id": {"S": entry.event_id},
                                "shop": {"S": entry.shop}, "via": {"S": entry.via}, "expiration": {"N": expiration}}
        for name, value in (("event_time", entry.event_time), ("delivered_at", entry.delivered_at)):
            if value is not None:
                item[name] = {"N": str(value)}
        return item

    def _entry(self, item: dict[str, Any]) -> LedgerEntry | None:
        expiration = item.get("expiration", {}).get("N")
        if expiration is not None and int(expiration) < self._clock():
            return None
        record: dict[str, Any] = {name: value.get("S") for name, value in item.items() if "S" in value}
        for name in ("event_time", "delivered_at"):
            if name in item and "N" in item[name]:
                record[name] = int(item[name]["N"])
        return LedgerEntry.from_record(record)


def _aws_error_name(exc: BaseException) -> str:
    """The error code AWS answered with (ClientError), else the exception's class name. Errors
    raised without an answer (read timeouts, closed connections: botocore's HTTPClientError
    family) carry `response=None`."""
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    code = error.get("Code") if isinstance(error, dict) else None
    return code if isinstance(code, str) and code else type(exc).__name__


class ManagedSecret:
    """A secret in Secrets Manager (plain string value), read through a Powertools Parameters
    provider of its own, so its cache lives and dies with this object.

    A value is used for SECRET_MAX_AGE_SECONDS, as measured by `clock` (the tests move it):
    then it is fetched again (Powertools' `force_fetch`, whatever its own cache holds). A
    refresh asked for sooner than MIN_REFRESH_INTERVAL_SECONDS after the last one returns the
    cached value."""

    def __init__(self, name: str, env_var: str, provider: SecretsProvider | None = None, *,
                 max_age: float = SECRET_MAX_AGE_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.name = name
        self._env_var = env_var  # for error messages: which setting points here
        self._provider = provider
        self._max_age = max_age
        self._clock = clock
        self._last_refresh = -math.inf
        self._fetched_at = -math.inf

    def _secrets(self) -> SecretsProvider:
        if self._provider is None:
            self._provider = secrets_provider()
        return self._provider

    def get(self, *, refresh: bool = False) -> str:
        """The value as one secret: trimmed, one line of printable ASCII."""
        return checked_secret(self.text(refresh).strip(), f"the secret named by {self._env_var}")

    def text(self, refresh: bool = False) -> str:
        """The value as stored (a document may span lines); ConfigurationError when it is empty
        or not text, or cannot be read as configured; Unavailable when Secrets Manager did not answer."""
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        now = self._clock()
        force = refresh and now - self._last_refresh >= MIN_REFRESH_INTERVAL_SECONDS
        if force:
            self._last_refresh = now
        force = force or now - self._fetched_at >= self._max_age
        try:
            value = self._secrets().get(self.name, max_age=int(self._max_age), force_fetch=force)
        except GetParameterError as exc:
            # Powertools raises GetParameterError while handling botocore's error (implicit chaining).
            underlying = exc.__cause__ or exc.__context__
            cause = _aws_error_name(underlying) if underlying else "error"
            if cause in _SECRET_CONFIGURATION_ERRORS:
                raise ConfigurationError(
                    f"cannot read the secret named by {self._env_var} ({cause}); check that it exists "
                    "and that the function may read it"
                ) from None
            raise Unavailable(f"Secrets Manager did not answer for the secret named by {self._env_var} "
                              f"({cause})") from None
        if force:
            self._fetched_at = now
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                raise ConfigurationError(f"the secret named by {self._env_var} is not text") from None
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError(f"the secret named by {self._env_var} is empty")
        return value

    def __repr__(self) -> str:
        return f"ManagedSecret({self.name!r})"


def secrets_provider() -> SecretsProvider:
    """A Powertools Secrets Manager provider on a client of boto3's default session (see the
    module's docstring). It caches what it reads, for `max_age` seconds per call."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=aws_client("secretsmanager"))


def dynamodb_idempotency_store(table_name: str) -> DynamoDBPersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=aws_client("dynamodb"))
