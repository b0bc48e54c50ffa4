"""What every store's `WebhookSource` does around its own signature and headers: find the tenant
a delivery names (the one store of a single-store deployment, or an entry of the tenants
document: pipeline/tenants.py), check the signature with that tenant's secrets (reading them
again once after a failure: a rotation), call the platform's mapping with the tenant's settings,
and put the events in an envelope of the tenant's pixel. A source adds `verify` (its headers and
its signature scheme) and how its stores are named (`canonical`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from tiktok_relay.errors import ConfigurationError, SignatureError
from tiktok_relay.pipeline.ports import Tenant, Tenants, UnknownTenant
from tiktok_relay.pipeline.tenants import SingleTenant
from tiktok_relay.sources.common.events import envelope_for

if TYPE_CHECKING:
    from tiktok_relay.pipeline.ports import Delivery, SecretSource
    from tiktok_relay.sources.common.result import MappingResult

S = TypeVar("S")
# A platform's map_webhook(topic, payload, store, settings, *, now, previous_state) and
# state_key(topic, payload, store, settings), as its mapping package exports them.
MapWebhook = Callable[..., "MappingResult"]
StateKey = Callable[[str, Any, str, Any], "str | None"]
TENANT_SECRETS = "the shop's webhook_secret in the tenants document"  # where a tenant's secrets are


class MappedSource(Generic[S]):
    """The tenant-finding and mapping half of a WebhookSource (tiktok_relay.pipeline.ports). A
    single-store deployment gives `secrets`, `settings` and `pixel_id` (one tenant, whatever
    store a delivery names); a deployment of many gives `tenants`, and the store a delivery
    names picks its tenant. Tenant.parsed[`name`] holds the platform's settings."""

    name: str
    secret_variable: str  # where a single store's secrets are configured, for messages
    # Why a delivery naming no store (or no store of this platform's form) cannot be verified
    # with many tenants: the receiver answers 401.
    unknown_store: str

    def __init__(self, *, secrets: SecretSource | None = None, settings: S | None = None, pixel_id: str | None = None,
                 tenants: Tenants | None = None, map_webhook: MapWebhook, state_key: StateKey, default_settings: S):
        self._many = tenants is not None
        self._tenants: Tenants = tenants if tenants is not None else SingleTenant(
            self.name, pixel_id=pixel_id or "", secrets=secrets,
            parsed={self.name: settings if settings is not None else default_settings})
        self._map_webhook = map_webhook
        self._state_key = state_key

    def canonical(self, store: str) -> str | None:
        """The tenant key of a store as the delivery names it; None when it is not one."""
        raise NotImplementedError

    def _key(self, store: str | None) -> str | None:
        """The tenant key the delivery names; with many tenants, UnknownTenant when it names none."""
        key = self.canonical(store) if store is not None else None
        if key is None and self._many:
            raise UnknownTenant(self.unknown_store)
        return key

    def _verified_tenant(self, key: str | None, check: Callable[[tuple[str, ...], str], object]) -> Tenant:
        """The tenant whose secrets pass `check(secrets, where they are configured)`: the one the
        key names, or its entry read again. A rotated secret may still be cached: the current
        ones are read once before refusing, and checked again only if they changed (a refresh is
        rate-limited and then returns the cached secrets: a forged request costs one pass over
        each secret)."""
        where = TENANT_SECRETS if self._many else self.secret_variable
        tenant = self._tenants.find(self.name, key)
        try:
            check(tenant.webhook_secrets, where)
            return tenant
        except SignatureError:
            fresh = self._tenants.find(self.name, key, refresh=True)
            if fresh.webhook_secrets == tenant.webhook_secrets:
                raise
        check(fresh.webhook_secrets, where)
        return fresh

    def _tenant(self, delivery: Delivery) -> Tenant:
        if delivery.tenant is not None:
            return delivery.tenant
        try:
            return self._tenants.find(self.name, self._key(delivery.shop))
        except UnknownTenant as exc:  # removed from the document since the delivery was verified
            raise ConfigurationError(str(exc)) from None

    def _settings(self, delivery: Delivery) -> S:
        settings: S = self._tenant(delivery).parsed[self.name]
        return settings

    def state_key(self, delivery: Delivery, payload: dict[str, Any]) -> str | None:
        return self._state_key(delivery.topic, payload, delivery.shop, self._settings(delivery))

    def map(self, delivery: Delivery, payload: dict[str, Any], *, now: int,
            previous_state: dict[str, Any] | None = None) -> MappingResult:
        return self._map_webhook(delivery.topic, payload, delivery.shop, self._settings(delivery), now=now,
                                 previous_state=previous_state)

    def envelope(self, delivery: Delivery, result: MappingResult) -> dict[str, Any]:
        tenant = self._tenant(delivery)
        settings = tenant.parsed[self.name]
        return envelope_for(pixel_id=tenant.pixel_id, test_event_code=getattr(settings, "test_event_code", None),
                            event_source=result.event_source,
                            offline_event_set_id=getattr(settings, "offline_event_set_id", None))
