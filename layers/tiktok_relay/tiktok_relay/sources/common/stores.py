"""What a source needs to know about the store a delivery names: the secrets that sign its
deliveries, its mapping settings and the pixel its events go to, found by the store's identity
(a WooCommerce store's URL, a Stripe account). One seam for every store platform.

A deployment of one store has one `StoreConfig`, whatever store a delivery names (`SingleStore`).
A deployment of many (the tenants document) answers `find` from its entries instead: the sources
call nothing else, so plugging it in changes only what they are given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from tiktok_relay.pipeline.ports import SecretSource

S = TypeVar("S")


@dataclass(frozen=True)
class StoreConfig(Generic[S]):
    """One store: `secrets` (a SecretSource: comma-separated, re-read after a rotation),
    `settings` (the platform's mapping settings) and `pixel_id` (the event_source_id of its web
    events). Secrets never show in its repr."""

    secrets: SecretSource
    settings: S
    pixel_id: str


class SingleStore(Generic[S]):
    """The stores of a single-store deployment: `config` for whatever store a delivery names."""

    def __init__(self, config: StoreConfig[S]):
        self._config = config

    def find(self, store: str | None) -> StoreConfig[S]:
        """The configuration of the store whose identity is `store` (None: the delivery named
        none). A directory of many stores raises SignatureError for an unknown one (the receiver
        answers 401, telling an unverified request nothing) and ConfigurationError naming the
        store and the setting for a broken entry."""
        return self._config

    def __repr__(self) -> str:
        return "SingleStore(***)"
