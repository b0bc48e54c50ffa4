"""The whole relay in one process, without Docker or AWS: the real receiver handler, an
in-memory queue with SQS receive counts, the real sender handler, and TikTok (the embedded
fake, or with `--live` the Events API configured in the environment). Used by `replay` and
`serve`.

The handlers are tiktok_relay.handlers.receiver and .sender: the modules Lambda runs (through
functions/*/app.py), never a copy, and part of the installed package.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from tiktok_relay.config import TikTokSettings
from tiktok_relay.errors import ConfigurationError, EventValidationError, UsageError
from tiktok_relay.local import check_local_extra
from tiktok_relay.local.lambda_context import FakeLambdaContext
from tiktok_relay.local.memory import (
    FileDeadLetters,
    MemoryIdempotencyStore,
    MemoryQueue,
    MemoryStateStore,
    QueuedMessage,
)
from tiktok_relay.local.platforms import LOCAL_WEBHOOK_SECRET, PLATFORMS, WebhookSecret, platform, webhook_secret
from tiktok_relay.local.tenants import local_tenants
from tiktok_relay.pipeline import runtime
from tiktok_relay.pipeline.messages import DeadLetter, QueuedDelivery
from tiktok_relay.pipeline.ports import SecretSource, WebhookSource
from tiktok_relay.pipeline.receive import Receiver
from tiktok_relay.pipeline.runtime import StaticSecret
from tiktok_relay.pipeline.send import BatchReport, QueueSender, Route
from tiktok_relay.sources.shopify.eventbridge import is_partner_event
from tiktok_relay.sources.shopify.receiver import ShopifySource
from tiktok_relay.sources.shopify.settings import ShopifySettings
from tiktok_relay.sources.stripe.receiver import StripeSource
from tiktok_relay.sources.stripe.settings import StripeSettings
from tiktok_relay.sources.woocommerce.receiver import WooCommerceSource
from tiktok_relay.sources.woocommerce.settings import WooCommerceSettings
from tiktok_relay.tiktok.matching import no_match_keys

if TYPE_CHECKING:
    from tiktok_relay.pipeline.ports import Tenants
    from tiktok_relay.pipeline.tenants import TenantDirectory
    from tiktok_relay.testing.fake_tiktok import FakeTikTok

__all__ = ["LOCAL_PIXEL_ID", "LOCAL_WEBHOOK_SECRET", "LocalPipeline", "LocalRun", "open_local_pipeline"]

# event_source_id used with the embedded fake when TIKTOK_PIXEL_ID is not set.
LOCAL_PIXEL_ID = "CLOCALDEVPIXEL0000000"
# What Lambda's environment (template.yaml Globals) sets for Powertools; local defaults only.
_POWERTOOLS_DEFAULTS = {
    "POWERTOOLS_SERVICE_NAME": "tiktok-relay",
    "POWERTOOLS_METRICS_NAMESPACE": "TikTokRelay",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_DISABLED": "1",
}
RECEIVER_MODULE = "tiktok_relay.handlers.receiver"
SENDER_MODULE = "tiktok_relay.handlers.sender"
EVENTBRIDGE_MODULE = "tiktok_relay.handlers.eventbridge"


def use_local_powertools_defaults() -> None:
    """For the command-line tools only (they own their process): quiet, no EMF, no X-Ray.
    Anything already set in the environment wins."""
    for name, value in _POWERTOOLS_DEFAULTS.items():
        os.environ.setdefault(name, value)


def load_handlers() -> tuple[ModuleType, ModuleType, ModuleType]:
    """The receiver, sender and EventBridge intake handler modules (imported once per process)."""
    check_local_extra()
    return (importlib.import_module(RECEIVER_MODULE), importlib.import_module(SENDER_MODULE),
            importlib.import_module(EVENTBRIDGE_MODULE))


def check_dead_letter_path(path: str | Path, flag: str = "--dead-letter") -> Path:
    """The dead-letter file, checked before anything is sent: appending to it must work later."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{flag} {target}: is a directory, not a file")
    if target.exists():
        if not os.access(target, os.W_OK):
            raise UsageError(f"{flag} {target}: not writable")
        return target
    parent = target.parent
    if not parent.is_dir():
        raise UsageError(f"{flag} {target}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {target}: cannot create a file in {parent}")
    return target


@dataclass
class Tally:
    webhooks: int = 0
    events: int = 0
    requests_sent: int = 0
    delivered: int = 0
    dead_lettered: int = 0
    match_keys: dict[str, int] = field(default_factory=no_match_keys)  # of the delivered events

    def as_dict(self) -> dict[str, Any]:
        """`replay --json`'s summary (relied upon): the counts, then match_keys (a copy)."""
        return {**self.__dict__, "match_keys": dict(self.match_keys)}


class RecordedClock:
    """The time a request was recorded at (an event's requestContext.timeEpoch), set before each
    delivery: what a Stripe signature's timestamp is checked against, so that a file of events/,
    signed when it was recorded, replays as it was delivered then. `serve` records each request
    as it arrives, so there it is the clock itself."""

    def __init__(self, now: Callable[[], float] = time.time):
        self._now = now
        self._at: float | None = None

    def at(self, seconds: float | None) -> None:
        self._at = seconds

    def __call__(self) -> float:
        return self._now() if self._at is None else self._at


class MissingSecret:
    """A SecretSource for a platform whose secret must be set and is not (`serve --live`): its
    deliveries are answered 500 misconfigured, naming the variable."""

    def __init__(self, variable: str):
        self._variable = variable

    def get(self, *, refresh: bool = False) -> str:
        raise ConfigurationError(f"{self._variable} is not set; with --live, its deliveries are refused until it "
                                 "holds the store's webhook secret (the local development secret is public)")


def local_sources(pixel_id: str, secrets: Mapping[str, SecretSource], shopify: ShopifySettings,
                  env: Mapping[str, str], clock: Callable[[], float],
                  tenants: Tenants | None = None) -> dict[str, WebhookSource]:
    """Every platform's source for a local run: `secrets` by platform, Shopify's settings as given,
    the others' from `env` (ConfigurationError naming a bad setting). With `tenants`, the stores of
    the document, and no Stripe (as in Lambda: runtime.not_received says why)."""
    if tenants is not None:
        return {"shopify": ShopifySource(tenants=tenants), "woocommerce": WooCommerceSource(tenants=tenants)}
    return {
        "shopify": ShopifySource(secrets=secrets["shopify"], settings=shopify, pixel_id=pixel_id),
        "woocommerce": WooCommerceSource(secrets=secrets["woocommerce"], settings=WooCommerceSettings.from_env(env),
                                         pixel_id=pixel_id),
        "stripe": StripeSource(secrets=secrets["stripe"], settings=StripeSettings.from_env(env), pixel_id=pixel_id,
                               clock=clock),
    }


@dataclass
class Drained:
    """What one `drain()` sent: the events it took off the queue, and what became of them."""

    events: list[tuple[str, str | None]] = field(default_factory=list)  # (event name, event_id)
    requests_sent: int = 0
    delivered: int = 0
    dead_lettered: int = 0
    problems: list[str] = field(default_factory=list)  # event ids, codes, TikTok's messages; no PII


class LocalPipeline:
    def __init__(
        self,
        *,
        client_factory,  # () -> TikTokClient, or None for a dry run
        pixel_id: str,
        webhook_secret: str,
        settings: ShopifySettings,
        dead_letter_path: str | Path,
        batch_size: int = 10,
        max_receives: int = 5,
        max_event_age: float | None = None,
        tenants: Tenants | None = None,
        router: Callable[[QueuedDelivery], Route] | None = None,
        secrets: Mapping[str, SecretSource] | None = None,
        env: Mapping[str, str] | None = None,
    ):
        """`max_event_age`: the sender's stale limit in seconds (None: none; see
        `local_max_event_age`). With `tenants` (a tenants document), the shops' own pixels,
        secrets and settings replace `pixel_id`, `webhook_secret` and `settings`, and `router`
        (runtime.tenant_router; None for a dry run) gives each message its tenant's client.
        `webhook_secret`: Shopify's secrets (comma-separated); `secrets`: each platform's
        (default: `webhook_secret` for all); `env`: WooCommerce's and Stripe's settings (default:
        none set)."""
        if batch_size < 1 or max_receives < 1:
            raise UsageError("--batch-size and --max-receives must be at least 1")
        self.queue = MemoryQueue()
        self.states = MemoryStateStore()  # carts remembered across the run's deliveries
        self.dead_letters = FileDeadLetters(dead_letter_path)
        self.tally = Tally()
        self.batch_size = batch_size
        self.max_receives = max_receives
        self.dry_run = client_factory is None and router is None
        self._drained: Drained | None = None
        self.clock = RecordedClock()
        given = {name: StaticSecret(webhook_secret, platform(name).secret_variable) for name in PLATFORMS}
        sources = local_sources(pixel_id, {**given, **(secrets or {})}, settings, env or {}, self.clock, tenants)
        idempotency = MemoryIdempotencyStore()  # one store: its keys start with the platform's name
        receivers = {name: Receiver(source=source, queue=self.queue, idempotency_store=idempotency,
                                    state_store=self.states) for name, source in sources.items()}
        sender = None if self.dry_run else QueueSender(
            client=client_factory, router=router, dead_letters=self.dead_letters, requeue=self.queue,
            max_event_age=max_event_age, on_report=self._count,
        )
        with self.quiet():  # Powertools' Logger keeps the stream it is created with
            self.receiver_app, self.sender_app, self.eventbridge_app = load_handlers()
        # One receiver for both of Shopify's intakes: in AWS they are two functions on the same queue and tables.
        runtime.install(receivers=receivers, sender=sender, event_receiver=receivers["shopify"])

    @staticmethod
    def quiet():
        """Powertools writes logs (and metrics, unless disabled) to stdout; locally they belong on stderr."""
        return contextlib.redirect_stdout(sys.stderr)

    def _count(self, report: BatchReport) -> None:
        self.tally.requests_sent += report.requests_sent
        self.tally.delivered += report.delivered
        self.tally.dead_lettered += report.dead_lettered
        for key, events in report.match_keys.items():
            self.tally.match_keys[key] += events
        if self._drained is not None:
            self._drained.requests_sent += report.requests_sent
            self._drained.delivered += report.delivered
            self._drained.dead_lettered += report.dead_lettered
            self._drained.problems += report.problems

    def deliver(self, event: dict) -> tuple[dict, dict | None]:
        """One event through the handler Lambda would run it with: an API Gateway event through
        the receiver, an EventBridge event through the EventBridge intake. Returns the HTTP
        response (for an EventBridge event, what the receiver would have answered) and the
        Events API request it enqueued (None if it enqueued nothing)."""
        before = len(self.queue.sent)
        self.clock.at(_recorded_at(event))
        with self.quiet():
            if is_partner_event(event):
                response = self._from_eventbridge(event)
            else:
                response = self.receiver_app.lambda_handler(event, FakeLambdaContext(function_name="receiver"))
        self.tally.webhooks += 1
        request = None
        if len(self.queue.sent) > before:
            queued = QueuedDelivery.parse(self.queue.sent[-1].body).request
            request = queued.model_dump(mode="json", exclude_none=True)
            self.tally.events += len(queued.data)
        return response, request

    def _from_eventbridge(self, event: dict) -> dict:
        """What the EventBridge intake made of `event`: its answer, or the one it raised for
        Lambda to retry (a local run reports it instead)."""
        try:
            return self.eventbridge_app.lambda_handler(event, FakeLambdaContext(function_name="eventbridge"))
        except self.eventbridge_app.DeliveryNotAccepted as exc:
            return {"statusCode": exc.reply.status, "body": json.dumps(exc.reply.body)}

    def drain(self) -> Drained:
        """Run the sender over the queue until it is empty, redelivering failed records until
        they reach max_receives, then dead-lettering them, as SQS with a redrive policy does."""
        drained = self._drained = Drained()
        try:
            if not self.dry_run:
                while batch := self.queue.receive(self.batch_size):
                    self._send(batch, drained)
        finally:
            self._drained = None
        return drained

    def _send(self, batch: list[QueuedMessage], drained: Drained) -> None:
        for message in batch:
            if message.receive_count == 1:
                data = QueuedDelivery.parse(message.body).request.data
                drained.events += [(str(e.get("event")), e.get("event_id")) for e in data]
        event = {"Records": [message.as_sqs_record() for message in batch]}
        with self.quiet():
            result = self.sender_app.lambda_handler(event, FakeLambdaContext(function_name="sender"))
        failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        for message in batch:
            if message.message_id not in failed:
                continue
            if message.receive_count < self.max_receives:
                self.queue.release(message)
                continue
            drained.dead_lettered += self._dead_letter(message)

    def _dead_letter(self, message: QueuedMessage) -> int:
        """What SQS's redrive policy does after maxReceiveCount: the record, as it was queued.
        Returns the number of events it held."""
        try:
            queued: QueuedDelivery | None = QueuedDelivery.parse(message.body)
        except EventValidationError:
            queued = None
        self.dead_letters.put(DeadLetter(
            reason=f"not delivered after {message.receive_count} receives (max {self.max_receives})",
            webhook_id=queued.webhook_id if queued else None, body=message.body, receive_count=message.receive_count,
        ))
        events = len(queued.request.data) if queued else 0
        self.tally.dead_lettered += events
        return events


def _recorded_at(event: Mapping[str, Any]) -> float | None:
    """When an API Gateway event says its request arrived (requestContext.timeEpoch), in seconds."""
    context = event.get("requestContext")
    epoch = context.get("timeEpoch") if isinstance(context, dict) else None
    return epoch / 1000 if isinstance(epoch, (int, float)) and not isinstance(epoch, bool) else None


@dataclass(frozen=True)
class Target:
    """Where a local run sends events, and how to name it to the user."""

    settings: TikTokSettings | None  # None on a dry run: nothing is sent
    pixel_id: str
    description: str  # "the embedded fake TikTok (URL)", "TikTok (URL)", "the Events API at URL", "nowhere"
    fake: FakeTikTok | None = None


def choose_target(*, live: bool, dry_run: bool, env=None, tenants: TenantDirectory | None = None
                  ) -> tuple[Target, list[str]]:
    """The embedded fake unless `live`; with `live`, the Events API the environment configures
    (TIKTOK_ACCESS_TOKEN and TIKTOK_PIXEL_ID required, unless `tenants` give each shop its own).
    Also returns notes for the user. The fake is created, not started; it takes each tenant's
    token for the tenant's pixel and offline event set. Raises ConfigurationError naming what is wrong."""
    env = os.environ if env is None else env
    tiktok = TikTokSettings.from_env(env)
    notes: list[str] = []
    if live:
        if tenants is None and not tiktok.access_token:
            raise ConfigurationError("TIKTOK_ACCESS_TOKEN is not set; --live posts to the Events API with it "
                                     "(without --live, the embedded fake TikTok is used)")
        pixel_id = tiktok.require_pixel() if tenants is None else ""
        base = tiktok.base_url.rstrip("/")
        where = f"TikTok ({base})" if base == TikTokSettings.DEFAULT_BASE_URL else f"the Events API at {base}"
        return Target(None if dry_run else tiktok, pixel_id, "nowhere (--dry-run)" if dry_run else where), notes
    pixel_id = tiktok.pixel_id or LOCAL_PIXEL_ID
    configured = [name for name in ("TIKTOK_ACCESS_TOKEN", "TIKTOK_API_BASE_URL") if env.get(name)]
    if configured:
        notes.append(f"{' and '.join(configured)} {'is' if len(configured) == 1 else 'are'} set, but nothing goes "
                     "to TikTok without --live: " + ("this is a dry run" if dry_run else "using the embedded fake"))
    if dry_run:
        return Target(None, pixel_id, "nowhere (--dry-run)"), notes
    from tiktok_relay.testing.fake_tiktok import FakeTikTok

    fake = FakeTikTok()
    for tenant in (tenants.tenants.values() if tenants is not None else ()):
        offline = getattr(tenant.parsed.get(tenant.platform), "offline_event_set_id", None)
        fake.allow_token(tenant.access_token or "", pixels={tenant.pixel_id, *([offline] if offline else [])})
    settings = TikTokSettings(access_token=fake.access_token, pixel_id=pixel_id, api_version=tiktok.api_version,
                              base_url=fake.base_url)
    return Target(settings, pixel_id, f"the embedded fake TikTok ({fake.base_url})", fake), notes


@dataclass
class LocalRun:
    """An opened local pipeline and what the user should be told about it."""

    pipeline: LocalPipeline
    target: Target
    secret: WebhookSecret | None  # the one shop's secrets; None with a tenants document
    notes: list[str]
    tenants: TenantDirectory | None = None
    secrets: dict[str, WebhookSecret] = field(default_factory=dict)  # every platform's, by name (no tenants)

    def describe_secrets(self) -> str:
        """What signatures are checked with, never a value."""
        if self.tenants is not None:
            count = len(self.tenants.tenants)
            return f"each shop's webhook_secret in {self.tenants.origin} ({count} shop{'s' if count > 1 else ''})"
        assert self.secret is not None
        return self.secret.describe()

    def close(self) -> None:
        if self.target.fake is not None:
            self.target.fake.stop()


def local_max_event_age(tiktok_url: str) -> float | None:
    """TIKTOK_MAX_EVENT_AGE when it is set; otherwise TikTok's 48 h deduplication window when
    sending to the real TikTok, and no limit with a test double on this machine (the embedded
    fake, `fake-tiktok`): it keeps no window to protect, and the sample events in events/ are
    older than 48 h."""
    from tiktok_relay.config import is_local_url, max_event_age_from_env

    if not is_local_url(tiktok_url) or os.environ.get("TIKTOK_MAX_EVENT_AGE", "").strip():
        return max_event_age_from_env(os.environ)
    return None


def open_local_pipeline(*, live: bool = False, dry_run: bool = False, dead_letter_path: str | Path,
                        batch_size: int = 10, max_receives: int = 5, require_secret: bool = False) -> LocalRun:
    """What `replay` and `serve` run: the pipeline configured from the environment (the shops of
    TIKTOK_RELAY_TENANTS, or the one shop of the single-shop settings), sending to the embedded
    fake TikTok (started here; `close()` stops it) unless `live`. Everything is checked before
    anything is sent: raises ConfigurationError or UsageError naming what is wrong.
    `require_secret`: the platform's secret variable must be set (no local development secret)."""
    from tiktok_relay.pipeline.runtime import client_factory, tenant_router

    use_local_powertools_defaults()
    tenants = local_tenants()
    directory = tenants.directory() if tenants is not None else None
    shopify = ShopifySettings.from_env() if tenants is None else ShopifySettings()
    found = {name: webhook_secret(platform(name)) for name in PLATFORMS}
    secret = found["shopify"] if tenants is None else None
    if require_secret and tenants is None and not any(each.from_environment for each in found.values()):
        others = ", ".join(each.variable for name, each in found.items() if name != "shopify")
        raise ConfigurationError(f"{found['shopify'].variable} is not set; with --live, set it to your app's secret "
                                 f"(or {others} for those stores; the local development secret is public, so anyone "
                                 "could post to your pixel)")
    secrets: dict[str, SecretSource] = {
        name: StaticSecret(",".join(each.secrets), each.variable) if each.from_environment or not require_secret
        else MissingSecret(each.variable) for name, each in found.items()}
    dead_letters = check_dead_letter_path(dead_letter_path)
    target, notes = choose_target(live=live, dry_run=dry_run, tenants=directory)
    settings = target.settings
    max_event_age = None if settings is None else local_max_event_age(settings.base_url)
    clients = router = None
    if settings is not None and tenants is not None:
        router = tenant_router(settings, tenants, max_event_age=max_event_age)
    elif settings is not None:
        clients = client_factory(settings, StaticSecret(settings.access_token or "", "TIKTOK_ACCESS_TOKEN"))
    try:
        pipeline = LocalPipeline(
            client_factory=clients, router=router, tenants=tenants,
            pixel_id=target.pixel_id, webhook_secret=",".join(secret.secrets) if secret else "", settings=shopify,
            dead_letter_path=dead_letters, batch_size=batch_size, max_receives=max_receives,
            max_event_age=max_event_age, secrets=secrets, env=dict(os.environ),
        )
    except BaseException:
        if target.fake is not None:
            target.fake.close()
        raise
    if target.fake is not None:
        target.fake.start()
    return LocalRun(pipeline, target, secret, notes, directory, {} if tenants is not None else found)
