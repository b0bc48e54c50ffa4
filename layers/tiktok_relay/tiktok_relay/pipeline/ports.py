"""The seams between the pipeline's logic and the outside world.

Lambda plugs in SQS, DynamoDB and Secrets Manager (pipeline/aws.py); the local replay, `serve`
and the tests plug in the in-memory versions (pipeline/memory.py). The logic never knows which.
"""

from __future__ import annotations

from typing import Protocol

from tiktok_relay.errors import TikTokRelayError


class QueueError(TikTokRelayError):
    """A message could not be put on a queue. The caller must not acknowledge what it holds."""


class Queue(Protocol):
    def send(self, body: str, attributes: dict[str, str]) -> None:
        """Enqueue one message; raise QueueError when it is not certainly stored."""


class DeadLetters(Protocol):
    def put(self, record: dict) -> None:
        """Store one dead-letter record (only hashed data); raise QueueError on failure."""


class SecretSource(Protocol):
    def get(self, *, refresh: bool = False) -> str:
        """The secret's current value. `refresh` bypasses any cache (used after a rotation)."""
