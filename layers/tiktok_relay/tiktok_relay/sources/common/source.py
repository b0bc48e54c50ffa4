"""What a store's `WebhookSource` does once a delivery is verified, the same for every store: find
the store's configuration (stores.py), call the platform's mapping with its settings, and put the
events in an envelope of its pixel. A source adds its signature and headers (`verify`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from tiktok_relay.sources.common.events import envelope_for
from tiktok_relay.sources.common.stores import SingleStore, StoreConfig

if TYPE_CHECKING:
    from tiktok_relay.pipeline.ports import Delivery, SecretSource
    from tiktok_relay.sources.common.result import MappingResult
    from tiktok_relay.tiktok.models import Envelope

S = TypeVar("S")
# A platform's map_webhook(topic, payload, store, settings, *, now, previous_state) and
# state_key(topic, payload, store, settings), as its mapping package exports them.
MapWebhook = Callable[..., "MappingResult"]
StateKey = Callable[[str, Any, str, Any], "str | None"]


class MappedSource(Generic[S]):
    """The mapping half of a WebhookSource (tiktok_relay.pipeline.ports), for one store's
    `secrets`, `settings` and `pixel_id`."""

    def __init__(self, *, secrets: SecretSource, settings: S, pixel_id: str, map_webhook: MapWebhook,
                 state_key: StateKey):
        self._stores = SingleStore(StoreConfig(secrets=secrets, settings=settings, pixel_id=pixel_id))
        self._map_webhook = map_webhook
        self._state_key = state_key

    def state_key(self, delivery: Delivery, payload: dict[str, Any]) -> str | None:
        return self._state_key(delivery.topic, payload, delivery.shop, self._settings(delivery))

    def map(self, delivery: Delivery, payload: dict[str, Any], *, now: int,
            previous_state: dict[str, Any] | None = None) -> MappingResult:
        return self._map_webhook(delivery.topic, payload, delivery.shop, self._settings(delivery), now=now,
                                 previous_state=previous_state)

    def envelope(self, delivery: Delivery, result: MappingResult) -> Envelope:
        config = self._stores.find(delivery.shop)
        return envelope_for(pixel_id=config.pixel_id, test_event_code=getattr(config.settings, "test_event_code", None),
                            event_source=result.event_source,
                            offline_event_set_id=getattr(config.settings, "offline_event_set_id", None))

    def _settings(self, delivery: Delivery) -> S:
        return self._stores.find(delivery.shop).settings
