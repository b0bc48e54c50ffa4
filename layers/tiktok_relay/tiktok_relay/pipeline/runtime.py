"""Where the Lambda handlers get their receivers (one per store platform) and sender.

In Lambda they are built once per container from the environment (see `ENVIRONMENT`), lazily
on the first invocation of each (a platform's receiver on its first delivery) so that a
configuration error becomes a clear 500/log line instead of an import crash, and a deployment
that receives only one platform's webhooks never reads the others' secrets. The local replay,
`serve` and the tests call `install()` with in-memory ports and then run the very same handler
modules.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tiktok_relay.config import TikTokSettings, checked_secret, env_value, max_event_age_from_env, require
from tiktok_relay.errors import ConfigurationError
from tiktok_relay.pipeline.ports import SecretSource, WebhookSource

if TYPE_CHECKING:
    from tiktok_relay.pipeline.messages import QueuedDelivery
    from tiktok_relay.pipeline.ports import Tenants
    from tiktok_relay.pipeline.receive import Receiver
    from tiktok_relay.pipeline.reconcile import ReconcileTarget, ScheduledReconcile
    from tiktok_relay.pipeline.send import QueueSender, Route
    from tiktok_relay.pipeline.tenants import DocumentTenants
    from tiktok_relay.tiktok.client import TikTokClient

# Every variable the deployed functions read. The SAM template must set each one of them
# (tests/integration/test_template.py checks it); LOCAL_ONLY ones are for running outside AWS
# and must never be set by the template (they would hold secrets in plaintext).
_SHOPIFY_ENVIRONMENT = (
    "TIKTOK_PIXEL_ID", "EVENTS_QUEUE_URL", "IDEMPOTENCY_TABLE", "SHOPIFY_WEBHOOK_SECRET_NAME",
    "TIKTOK_TEST_EVENT_CODE", "TIKTOK_PHONE_REGION", "SHOPIFY_TOPIC_EVENTS", "SHOPIFY_CURRENCY",
    "SHOPIFY_CONTENT_ID", "STATE_TABLE", "TIKTOK_OFFLINE_EVENT_SET_ID", "SHOPIFY_SOURCE_CHANNELS",
    "SHOPIFY_STOREFRONT_DOMAIN", "SHOPIFY_CONSENT", "TENANTS_SECRET_NAME",
)
RECEIVER_ENVIRONMENT = (
    *_SHOPIFY_ENVIRONMENT, "RECEIVER_PLATFORMS", "WOOCOMMERCE_WEBHOOK_SECRET_NAME", "WOOCOMMERCE_PAID_STATUSES",
    "WOOCOMMERCE_CONTENT_ID", "STRIPE_WEBHOOK_SECRET_NAME", "STRIPE_EVENTS",
)
SENDER_ENVIRONMENT = (
    "TIKTOK_ACCESS_TOKEN_SECRET_NAME", "DEAD_LETTER_QUEUE_URL", "EVENTS_QUEUE_URL", "TIKTOK_API_VERSION",
    "TIKTOK_API_BASE_URL", "TIKTOK_MAX_EVENT_AGE", "TENANTS_SECRET_NAME", "LEDGER_TABLE",
)
# The EventBridge intake does what the receiver does for Shopify, without a signature: no webhook secret.
EVENTBRIDGE_ENVIRONMENT = tuple(name for name in _SHOPIFY_ENVIRONMENT if name != "SHOPIFY_WEBHOOK_SECRET_NAME")
# The scheduled reconcile function (handlers/reconcile.py): the shop's orders and the mapping
# settings (the receiver's), the ledger to look them up in, the queue for the missed ones.
RECONCILE_ENVIRONMENT = (
    "TIKTOK_PIXEL_ID", "EVENTS_QUEUE_URL", "LEDGER_TABLE", "SHOPIFY_SHOP", "SHOPIFY_ADMIN_ACCESS_TOKEN_SECRET_NAME",
    "RECONCILE_WINDOW", "TIKTOK_MAX_EVENT_AGE", "TIKTOK_TEST_EVENT_CODE", "TIKTOK_PHONE_REGION", "SHOPIFY_TOPIC_EVENTS",
    "SHOPIFY_CURRENCY", "SHOPIFY_CONTENT_ID", "TIKTOK_OFFLINE_EVENT_SET_ID", "SHOPIFY_SOURCE_CHANNELS",
    "SHOPIFY_STOREFRONT_DOMAIN", "SHOPIFY_CONSENT", "TENANTS_SECRET_NAME",
)
LOCAL_ONLY = ("TIKTOK_ACCESS_TOKEN", "SHOPIFY_WEBHOOK_SECRET", "WOOCOMMERCE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET",
              "TIKTOK_RELAY_TENANTS", "SHOPIFY_ADMIN_ACCESS_TOKEN", "SHOPIFY_ADMIN_BASE_URL")
# The scheduled window when RECONCILE_WINDOW is unset (template.yaml's ReconcileWindow default).
DEFAULT_RECONCILE_WINDOW = "6h"
# Which store platforms' webhooks a deployment receives (RECEIVER_PLATFORMS, the template's
# StorePlatforms). A delivery to another platform's route is answered 404: a request to a route
# nobody configured is refused as unknown, never a 5xx that pages someone and makes the store retry.
PLATFORMS_VARIABLE = "RECEIVER_PLATFORMS"
DEFAULT_PLATFORMS = ("shopify",)

# Clients the sender keeps, one per tenant token: far more than one stack's tenants (the tenants
# document holds about 200 at most, Secrets Manager's 64 KB).
MAX_CLIENTS = 1000

# What install() gave, or what was built from the environment on first use: "receiver:<platform>",
# "sender", "event_receiver", "reconcile".
_built: dict[str, Any] = {}


def install(*, receiver: Receiver | None = None, sender: QueueSender | None = None,
            event_receiver: Receiver | None = None, receivers: Mapping[str, Receiver] | None = None,
            reconcile: ScheduledReconcile | None = None) -> None:
    """Use these instead of building from the environment (replay, serve, tests): `receivers` by
    platform name, `receiver` as Shopify's; None: build that one from the environment on first use."""
    _built.clear()
    given = {"sender": sender, "event_receiver": event_receiver, "reconcile": reconcile,
             **{f"receiver:{name}": part for name, part in (receivers or {}).items()}}
    if receiver is not None:
        given["receiver:shopify"] = receiver
    _built.update({name: part for name, part in given.items() if part is not None})


def _once(name: str, build: Callable[[Mapping[str, str]], Any]) -> Any:
    if name not in _built:
        _built[name] = build(os.environ)
        gc.freeze()  # boto3's clients and models live as long as the container (see app.py)
    return _built[name]


def enabled_platforms(env: Mapping[str, str]) -> tuple[str, ...]:
    """RECEIVER_PLATFORMS: some of shopify, woocommerce, stripe, comma-separated (default shopify)."""
    from tiktok_relay.sources.routes import PLATFORMS

    raw = env_value(env, "RECEIVER_PLATFORMS")
    if raw is None:
        return DEFAULT_PLATFORMS
    names = tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",") if part.strip()))
    if not names or any(name not in PLATFORMS for name in names):
        raise ConfigurationError(f"{PLATFORMS_VARIABLE} must list some of {', '.join(PLATFORMS)} (comma-separated)")
    return names


def not_received(platform: str) -> str | None:
    """Why this deployment does not receive `platform`'s webhooks (RECEIVER_PLATFORMS leaves it
    out, or a tenants document cannot serve it, and none was installed); None when it does.
    ConfigurationError for a bad RECEIVER_PLATFORMS."""
    from tiktok_relay.pipeline.tenants import tenants_configured
    from tiktok_relay.sources.routes import DISPLAY_NAMES

    if f"receiver:{platform}" in _built:
        return None
    if platform == "stripe" and tenants_configured(os.environ):
        return ("this deployment has a tenants document, and a Stripe delivery names no store before its signature "
                "is checked: Stripe webhooks are received by a stack of one Stripe account (README \"Stripe\")")
    if platform in enabled_platforms(os.environ):
        return None
    return (f"this deployment does not receive {DISPLAY_NAMES.get(platform, platform)} webhooks: add {platform} to "
            f"{PLATFORMS_VARIABLE} (the StorePlatforms parameter of the SAM template)")


def receiver(platform: str = "shopify") -> Receiver:
    """The receiver of `platform`'s webhooks (tiktok_relay.sources.routes.PLATFORMS): the one
    installed, else built from the environment."""
    return _once(f"receiver:{platform}", lambda env: build_receiver(env, platform))


def sender() -> QueueSender:
    return _once("sender", build_sender)


def event_receiver() -> Receiver:
    """The EventBridge intake's receiver (handlers/eventbridge.py)."""
    return _once("event_receiver", build_event_receiver)


def scheduled_reconcile() -> ScheduledReconcile:
    """The scheduled reconcile function's work (handlers/reconcile.py)."""
    return _once("reconcile", build_reconcile)


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


def build_source(env: Mapping[str, str], platform: str = "shopify", *, signed: bool = True) -> WebhookSource:
    """`platform`'s webhook source: the tenants document's stores (pipeline/tenants.py) when one
    is configured, else the one store of TIKTOK_PIXEL_ID and the platform's secret (Secrets
    Manager, or the plain variable outside AWS) and settings: ConfigurationError naming what is
    missing or wrong. `signed=False`: for the EventBridge intake, which checks no signature (no
    secret is read)."""
    from tiktok_relay.pipeline.tenants import tenants_from_env

    pixel = ("TIKTOK_PIXEL_ID", "as the event_source_id of every event")
    tenants = tenants_from_env(env)
    if platform == "woocommerce":
        from tiktok_relay.sources.woocommerce.receiver import WooCommerceSource
        from tiktok_relay.sources.woocommerce.settings import WooCommerceSettings

        if tenants is not None:
            return WooCommerceSource(tenants=tenants)
        return WooCommerceSource(secrets=_secret(env, "WOOCOMMERCE_WEBHOOK_SECRET", "WOOCOMMERCE_WEBHOOK_SECRET_NAME"),
                                 settings=WooCommerceSettings.from_env(env), pixel_id=require(env, *pixel))
    if platform == "stripe":
        from tiktok_relay.sources.stripe.receiver import StripeSource
        from tiktok_relay.sources.stripe.settings import StripeSettings

        return StripeSource(secrets=_secret(env, "STRIPE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET_NAME"),
                            settings=StripeSettings.from_env(env), pixel_id=require(env, *pixel))
    from tiktok_relay.sources.shopify.receiver import ShopifySource
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    if tenants is not None:
        return ShopifySource(tenants=tenants)
    return ShopifySource(
        secrets=_secret(env, "SHOPIFY_WEBHOOK_SECRET", "SHOPIFY_WEBHOOK_SECRET_NAME") if signed else None,
        settings=ShopifySettings.from_env(env), pixel_id=require(env, *pixel))


def build_receiver(env: Mapping[str, str], platform: str = "shopify", *, signed: bool = True) -> Receiver:
    """`platform`'s receiver: its source, the queue, the idempotency and state tables."""
    from tiktok_relay.pipeline.aws import DynamoDBStateStore, SqsQueue, dynamodb_idempotency_store
    from tiktok_relay.pipeline.receive import Receiver

    source = build_source(env, platform, signed=signed)
    return Receiver(
        source=source,
        queue=SqsQueue(require(env, "EVENTS_QUEUE_URL", "to enqueue deliveries")),
        idempotency_store=dynamodb_idempotency_store(
            require(env, "IDEMPOTENCY_TABLE", "to deduplicate deliveries")
        ),
        state_store=DynamoDBStateStore(require(env, "STATE_TABLE", "to remember carts and sent orders between "
                                                                  "deliveries")),
    )


def build_event_receiver(env: Mapping[str, str]) -> Receiver:
    """What the EventBridge intake runs: the receiver, reading no webhook secret."""
    return build_receiver(env, signed=False)


def build_sender(env: Mapping[str, str], *, sleep: Callable[[float], None] = time.sleep) -> QueueSender:
    """The sender Lambda runs; `sleep` is how its client waits between retries. With a tenants
    document, each message's tenant gives the token (TIKTOK_ACCESS_TOKEN(_SECRET_NAME) is not read).
    LEDGER_TABLE (template.yaml's LedgerTable) is where it records what TikTok accepted; unset,
    nothing is."""
    from tiktok_relay.pipeline.aws import DynamoDBLedger, SqsQueue
    from tiktok_relay.pipeline.send import QueueSender
    from tiktok_relay.pipeline.tenants import tenants_from_env

    settings = TikTokSettings.from_env(env)
    dead_letters = SqsQueue(require(env, "DEAD_LETTER_QUEUE_URL", "to dead-letter events TikTok refuses"))
    requeue = SqsQueue(require(env, "EVENTS_QUEUE_URL", "to requeue the undelivered rest of a partly sent message"))
    max_event_age = max_event_age_from_env(env)
    ledger = DynamoDBLedger(table) if (table := env_value(env, "LEDGER_TABLE")) is not None else None
    if (tenants := tenants_from_env(env)) is not None:
        return QueueSender(router=tenant_router(settings, tenants, max_event_age=max_event_age, sleep=sleep),
                           dead_letters=dead_letters, requeue=requeue, ledger=ledger)
    token = _secret(env, "TIKTOK_ACCESS_TOKEN", "TIKTOK_ACCESS_TOKEN_SECRET_NAME")
    return QueueSender(client=client_factory(settings, token, sleep=sleep), dead_letters=dead_letters,
                       requeue=requeue, max_event_age=max_event_age, ledger=ledger)


def tenant_router(settings: TikTokSettings, tenants: Tenants, *, max_event_age: float | None,
                  **client_options: Any) -> Callable[[QueuedDelivery], Route]:
    """Each queue message's route: the client with its tenant's token (one per token, kept
    while the process lives), the tenant's TIKTOK_MAX_EVENT_AGE or else `max_event_age`.
    ConfigurationError for a shop the document no longer lists (or lists broken)."""
    from tiktok_relay.pipeline.ports import UnknownTenant
    from tiktok_relay.pipeline.send import Route
    from tiktok_relay.tiktok.client import TikTokClient

    clients: dict[str, TikTokClient] = {}

    def route(delivery: QueuedDelivery) -> Route:
        key = delivery.tenant or delivery.shop  # a message queued before the stack had tenants names none
        try:
            tenant = tenants.find(delivery.source, key)
        except UnknownTenant:
            raise ConfigurationError(f"tenant {key} is not in the tenants document (any more)") from None
        token = tenant.access_token or ""
        if token not in clients:
            if len(clients) >= MAX_CLIENTS:  # rotated tokens would pile up otherwise
                clients.clear()
            clients[token] = TikTokClient(token, base_url=settings.base_url, api_version=settings.api_version,
                                          **client_options)
        client = clients[token]
        own = tenant.parsed.get("sender")
        return Route(tenant.key, lambda: client, max_event_age if own is None else own)

    return route


def build_reconcile(env: Mapping[str, str], *, sleep: Callable[[float], None] = time.sleep) -> ScheduledReconcile:
    """The scheduled reconcile function's work (pipeline/reconcile.py): RECONCILE_WINDOW (at
    most MAX_RECONCILE_WINDOW_SECONDS: the ledger forgets after LEDGER_TTL_SECONDS), the ledger,
    the events queue, the shops `reconcile_targets` gives. `sleep`: how the Admin API client waits."""
    from tiktok_relay.config import parse_duration
    from tiktok_relay.pipeline.aws import DynamoDBLedger, SqsQueue
    from tiktok_relay.pipeline.ledger import MAX_RECONCILE_WINDOW_SECONDS
    from tiktok_relay.pipeline.reconcile import QueueDispatch, ScheduledReconcile

    window = parse_duration(env_value(env, "RECONCILE_WINDOW") or DEFAULT_RECONCILE_WINDOW)
    if window is None or window > MAX_RECONCILE_WINDOW_SECONDS:
        raise ConfigurationError("RECONCILE_WINDOW must be a duration such as 6h or 2d, at most 7d (the ledger "
                                 "remembers deliveries for 8 days)")
    return ScheduledReconcile(
        targets=lambda: reconcile_targets(env, sleep=sleep),  # each run: the tenants document may have changed
        ledger=DynamoDBLedger(require(env, "LEDGER_TABLE", "to look up what was delivered")),
        dispatch=QueueDispatch(SqsQueue(require(env, "EVENTS_QUEUE_URL", "to queue the missed orders' events"))),
        window_seconds=window, max_event_age=max_event_age_from_env(env))


def reconcile_targets(env: Mapping[str, str], *, sleep: Callable[[float], None] = time.sleep
                      ) -> list[ReconcileTarget]:
    """The shops the scheduled function reconciles. With a tenants document: every Shopify tenant,
    each with its own admin_access_token, pixel and settings (one without a token is skipped, a
    broken entry reported). A single-shop deployment has one: SHOPIFY_SHOP, its Admin API token
    (SHOPIFY_ADMIN_ACCESS_TOKEN_SECRET_NAME, or SHOPIFY_ADMIN_ACCESS_TOKEN outside AWS), the
    pixel and mapping settings the receiver has."""
    from tiktok_relay.pipeline.reconcile import ReconcileTarget
    from tiktok_relay.pipeline.tenants import tenants_from_env
    from tiktok_relay.sources.shopify.receiver import ShopifySource
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    if (tenants := tenants_from_env(env)) is not None:
        return tenant_targets(tenants, env, sleep=sleep)
    shop = _shop(require(env, "SHOPIFY_SHOP", "to reconcile its orders (the shop's myshopify.com domain)"))
    token = _secret(env, "SHOPIFY_ADMIN_ACCESS_TOKEN", "SHOPIFY_ADMIN_ACCESS_TOKEN_SECRET_NAME")
    source = ShopifySource(secrets=None, settings=ShopifySettings.from_env(env),
                           pixel_id=require(env, "TIKTOK_PIXEL_ID", "as the event_source_id of every event"))
    return [ReconcileTarget(shop, source, admin_orders(shop, token, env, sleep=sleep))]


def tenant_targets(tenants: DocumentTenants, env: Mapping[str, str], *, sleep: Callable[[float], None]
                   ) -> list[ReconcileTarget]:
    """One target per Shopify shop of the tenants document (see reconcile_targets)."""
    from tiktok_relay.pipeline.reconcile import ReconcileTarget
    from tiktok_relay.sources.shopify.receiver import ShopifySource

    directory = tenants.directory()
    source = ShopifySource(tenants=tenants)
    targets = []
    for key in directory.keys:
        if key in directory.problems:
            targets.append(ReconcileTarget(key, source, _no_orders, tenant=key, error=(
                f"its entry in {directory.origin} is broken: " + "; ".join(directory.problems[key]))))
            continue
        tenant = directory.tenants[key]
        if tenant.platform != source.name:
            continue
        if not tenant.admin_access_token:
            targets.append(ReconcileTarget(key, source, _no_orders, tenant=key, skip=(
                "no admin_access_token in the tenants document (add the shop's Admin API token to reconcile it)")))
            continue
        token = StaticSecret(tenant.admin_access_token, "admin_access_token")
        targets.append(ReconcileTarget(key, source, admin_orders(key, token, env, sleep=sleep), tenant=key))
    return targets


def _no_orders(since: object, until: object) -> list:
    return []


def _shop(value: str) -> str:
    from tiktok_relay.errors import UsageError
    from tiktok_relay.sources.shopify.register import normalize_shop

    try:
        return normalize_shop(value)
    except UsageError:
        raise ConfigurationError("SHOPIFY_SHOP must be the shop's myshopify.com domain, like example.myshopify.com"
                                 ) from None


def admin_orders(shop: str, token: SecretSource, env: Mapping[str, str], *, sleep: Callable[[float], None]):
    """`orders(since, until)` of a shop: its paid orders through the Admin API, with the token's
    current value (it may rotate between runs)."""
    from tiktok_relay.sources.shopify.admin import ShopifyAdminClient
    from tiktok_relay.sources.shopify.orders import RECONCILE_RETRY, paid_orders
    from tiktok_relay.sources.shopify.register import admin_base_url

    base_url = admin_base_url(shop, env)

    def orders(since, until):
        client = ShopifyAdminClient(shop, token.get(), base_url=base_url, retry=RECONCILE_RETRY, sleep=sleep)
        return paid_orders(client, since, until)

    return orders


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
