"""Where the Lambda handlers get their receiver and sender.

In Lambda they are built once per container from the environment (see `ENVIRONMENT`), lazily
on the first invocation so that a configuration error becomes a clear 500/log line instead of
an import crash. The local replay, `serve` and the tests call `install()` with in-memory ports
and then run the very same handler modules.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tiktok_relay.config import TikTokSettings, checked_secret, env_value, max_event_age_from_env, require
from tiktok_relay.errors import ConfigurationError
from tiktok_relay.pipeline.ports import SecretSource

if TYPE_CHECKING:
    from tiktok_relay.pipeline.receive import Receiver
    from tiktok_relay.pipeline.send import QueueSender
    from tiktok_relay.tiktok.client import TikTokClient

# Every variable the deployed functions read. The SAM template must set each one of them
# (tests/integration/test_template.py checks it); LOCAL_ONLY ones are for running outside AWS
# and must never be set by the template (they would hold secrets in plaintext).
RECEIVER_ENVIRONMENT = (
    "TIKTOK_PIXEL_ID", "EVENTS_QUEUE_URL", "IDEMPOTENCY_TABLE", "SHOPIFY_WEBHOOK_SECRET_NAME",
    "TIKTOK_TEST_EVENT_CODE", "TIKTOK_PHONE_REGION", "SHOPIFY_TOPIC_EVENTS", "SHOPIFY_CURRENCY",
    "SHOPIFY_CONTENT_ID", "STATE_TABLE", "TIKTOK_OFFLINE_EVENT_SET_ID", "SHOPIFY_SOURCE_CHANNELS",
    "SHOPIFY_STOREFRONT_DOMAIN", "SHOPIFY_CONSENT",
)
SENDER_ENVIRONMENT = (
    "TIKTOK_ACCESS_TOKEN_SECRET_NAME", "DEAD_LETTER_QUEUE_URL", "EVENTS_QUEUE_URL", "TIKTOK_API_VERSION",
    "TIKTOK_API_BASE_URL", "TIKTOK_MAX_EVENT_AGE",
)
LOCAL_ONLY = ("TIKTOK_ACCESS_TOKEN", "SHOPIFY_WEBHOOK_SECRET")

_receiver: Receiver | None = None
_sender: QueueSender | None = None


def install(*, receiver: Receiver | None = None, sender: QueueSender | None = None) -> None:
    """Use these instead of building from the environment (replay, serve, tests)."""
    global _receiver, _sender
    _receiver, _sender = receiver, sender


def receiver() -> Receiver:
    global _receiver
    if _receiver is None:
        _receiver = build_receiver(os.environ)
        gc.freeze()  # boto3's clients and models live as long as the container (see app.py)
    return _receiver


def sender() -> QueueSender:
    global _sender
    if _sender is None:
        _sender = build_sender(os.environ)
        gc.freeze()
    return _sender


class StaticSecret:
    """A secret given as a value: from the environment outside AWS, or by the local tools.
    `variable` names where it came from, for the error a line break or non-ASCII character in
    it raises (ConfigurationError, never quoting the value)."""

    def __init__(self, value: str, variable: str = "the secret"):
        self._value = checked_secret(value, variable)

    def get(self, *, refresh: bool = False) -> str:
        return self._value

    def __repr__(self) -> str:
        return "StaticSecret(***)"


def _secret(env: Mapping[str, str], plain_var: str, name_var: str) -> SecretSource:
    """A secret from Secrets Manager (name in `name_var`) or, outside AWS, from `plain_var`."""
    if (value := env_value(env, plain_var)) is not None:
        return StaticSecret(value, plain_var)
    if (name := env_value(env, name_var)) is not None:
        from tiktok_relay.pipeline.aws import ManagedSecret

        return ManagedSecret(name, name_var)
    raise ConfigurationError(f"{name_var} is not set (or {plain_var} when running outside AWS)")


def build_receiver(env: Mapping[str, str]) -> Receiver:
    from tiktok_relay.pipeline.aws import DynamoDBStateStore, SqsQueue, dynamodb_idempotency_store
    from tiktok_relay.pipeline.receive import Receiver
    from tiktok_relay.sources.shopify.receiver import ShopifySource
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    source = ShopifySource(
        secrets=_secret(env, "SHOPIFY_WEBHOOK_SECRET", "SHOPIFY_WEBHOOK_SECRET_NAME"),
        settings=ShopifySettings.from_env(env),
        pixel_id=require(env, "TIKTOK_PIXEL_ID", "as the event_source_id of every event"),
    )
    return Receiver(
        source=source,
        queue=SqsQueue(require(env, "EVENTS_QUEUE_URL", "to enqueue deliveries")),
        idempotency_store=dynamodb_idempotency_store(
            require(env, "IDEMPOTENCY_TABLE", "to deduplicate deliveries")
        ),
        state_store=DynamoDBStateStore(require(env, "STATE_TABLE", "to remember carts between deliveries")),
    )


def build_sender(env: Mapping[str, str], *, sleep: Callable[[float], None] = time.sleep) -> QueueSender:
    """The sender Lambda runs; `sleep` is how its client waits between retries."""
    from tiktok_relay.pipeline.aws import SqsQueue
    from tiktok_relay.pipeline.send import QueueSender

    settings = TikTokSettings.from_env(env)
    token = _secret(env, "TIKTOK_ACCESS_TOKEN", "TIKTOK_ACCESS_TOKEN_SECRET_NAME")
    dead_letters = SqsQueue(require(env, "DEAD_LETTER_QUEUE_URL", "to dead-letter events TikTok refuses"))
    requeue = SqsQueue(require(env, "EVENTS_QUEUE_URL", "to requeue the undelivered rest of a partly sent message"))
    return QueueSender(client=client_factory(settings, token, sleep=sleep), dead_letters=dead_letters,
                       requeue=requeue, max_event_age=max_event_age_from_env(env))


def client_factory(settings: TikTokSettings, token: SecretSource, **client_options: Any
                   ) -> Callable[[], TikTokClient]:
    """A TikTokClient per token value: a rotated token (Secrets Manager) gets a new client."""
    from tiktok_relay.tiktok.client import TikTokClient

    cache: dict[str, TikTokClient] = {}

    def current() -> TikTokClient:
        value = token.get()
        if value not in cache:
            cache.clear()
            cache[value] = TikTokClient(value, base_url=settings.base_url, api_version=settings.api_version,
                                        **client_options)
        return cache[value]

    return current
