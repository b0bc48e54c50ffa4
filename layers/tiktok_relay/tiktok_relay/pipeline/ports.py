"""The seams between the pipeline's logic and the outside world.

Lambda plugs in SQS, DynamoDB and Secrets Manager (pipeline/aws.py); the local replay, `serve`
and the tests plug in the in-memory versions (tiktok_relay.local.memory). Each store platform
plugs in its rules as a `WebhookSource` (sources/<store>/receiver.py). The logic never knows which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tiktok_relay.errors import TikTokRelayError

if TYPE_CHECKING:
    from tiktok_relay.pipeline.messages import DeadLetter
    from tiktok_relay.sources.common.result import MappingResult
    from tiktok_relay.tiktok.models import Envelope


class QueueError(TikTokRelayError):
    """A message could not be put on a queue. The caller must not acknowledge what it holds."""


class Queue(Protocol):
    def send(self, body: str, attributes: dict[str, str]) -> None:
        """Enqueue one message; raise QueueError when it is not certainly stored."""


class DeadLetters(Protocol):
    def put(self, letter: DeadLetter) -> None:
        """Store one dead letter (only hashed data); raise QueueError on failure."""


class SecretSource(Protocol):
    def get(self, *, refresh: bool = False) -> str:
        """The secret's current value. `refresh` bypasses any cache (used after a rotation).
        Raise ConfigurationError naming the setting when it cannot be read."""


@dataclass(frozen=True)
class Delivery:
    """A webhook delivery whose signature checked out: the store's delivery id, its topic and
    shop (lower case), and the body bytes exactly as delivered."""

    webhook_id: str
    topic: str
    shop: str
    body: bytes


class WebhookSource(Protocol):
    """One store platform's webhooks: how to verify them and what they become."""

    name: str  # the queue messages' `source`, and the idempotency key prefix: never change it
    display_name: str  # for messages: "Shopify"
    webhook_id_header: str  # the lower-case header holding the delivery id (the dedup key)
    webhook_id_name: str  # that header as the store's documentation spells it

    def verify(self, headers: dict[str, str], raw: bytes) -> Delivery:
        """The delivery, when `raw` is signed with a configured secret. Headers have lower-case
        names. Raise SignatureError (the receiver answers 401) or DeliveryRejected (400) naming
        what is wrong, never a value; ConfigurationError when no secret is configured."""

    def map(self, delivery: Delivery, payload: dict[str, Any], *, now: int) -> MappingResult:
        """The events the payload becomes. Pure and total: never raises for a dict payload."""

    def envelope(self, delivery: Delivery) -> Envelope:
        """Where the delivery's events go: event source, pixel or event set, test event code."""
