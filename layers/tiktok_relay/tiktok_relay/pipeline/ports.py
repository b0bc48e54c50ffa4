"""The seams between the pipeline's logic and the outside world.

Lambda plugs in SQS, DynamoDB and Secrets Manager (pipeline/aws.py); the local replay, `serve`
and the tests plug in the in-memory versions (tiktok_relay.local.memory). Each store platform
plugs in its rules as a `WebhookSource` (sources/<store>/receiver.py). The logic never knows which.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tiktok_relay.errors import SignatureError, TikTokRelayError

if TYPE_CHECKING:
    from tiktok_relay.pipeline.ledger import LedgerEntry
    from tiktok_relay.pipeline.messages import DeadLetter
    from tiktok_relay.sources.common.result import MappingResult


class Unavailable(TikTokRelayError):
    """A service the relay depends on (a queue, the idempotency table, a secret store) did not
    answer or refused for a reason that may pass: retry later, nothing was lost. The message
    names the service and the error's kind, never a value."""


class QueueError(Unavailable):
    """A message could not be put on a queue. The caller must not acknowledge what it holds."""


class Queue(Protocol):
    def send(self, body: str, attributes: dict[str, str]) -> None:
        """Enqueue one message; raise QueueError when it is not certainly stored."""


class DeadLetters(Protocol):
    def put(self, letter: DeadLetter) -> None:
        """Store one dead letter (only hashed data); raise QueueError on failure."""


@dataclass(frozen=True)
class ReceivedMessage:
    """A message taken from a queue: its id (the same at every receive), the handle that deletes
    or releases this receive of it, and its body."""

    message_id: str
    receipt_handle: str
    body: str


class QueueReader(Protocol):
    """A queue a person's tool reads (`redrive` reads the dead-letter queue); Lambda reads its
    queue through its event source instead."""

    def receive(self, max_messages: int, *, visibility_timeout: int, wait_seconds: int) -> list[ReceivedMessage]:
        """Up to `max_messages` messages, hidden from other readers for `visibility_timeout`
        seconds; [] when none came within `wait_seconds`. QueueError when the queue did not answer."""

    def delete(self, message: ReceivedMessage) -> None:
        """Remove a received message for good. QueueError when that is not certain: it may come back."""

    def release(self, messages: Sequence[ReceivedMessage]) -> None:
        """Make received messages visible again now. QueueError when that failed: they come back
        anyway once their visibility timeout ends."""


class StateError(Unavailable):
    """Remembered state could not be read or written. The caller must not acknowledge the
    delivery it was handling: the store retries it (the receiver answers 503)."""


class StateStore(Protocol):
    """What a source asks to remember between deliveries of one object (a cart's lines), by key."""

    def get(self, key: str) -> dict[str, Any] | None:
        """The state last put under `key`, None if there is none (or it expired). Raise
        StateError when the store cannot be read: "none" would read a known cart as new."""

    def put(self, key: str, state: dict[str, Any]) -> None:
        """Remember `state` (JSON-able, a few KB at most) under `key`, replacing what was there,
        for the store's time to live. Raise StateError when it is not certainly stored."""


class LedgerError(Unavailable):
    """The ledger of delivered events could not be read or written. A reader must not take
    "not found" for "not delivered"; the sender, whose events TikTok accepted already, only
    reports it (a missing entry makes `reconcile` send the event again, under its event_id)."""


class Ledger(Protocol):
    """Which events TikTok accepted (pipeline/ledger.py), by ledger key."""

    # How long an entry is remembered, in seconds; None: for ever. A reconcile window must not
    # reach further back (an order delivered before then would look missed).
    retention_seconds: float | None

    def delivered(self, keys: Collection[str]) -> dict[str, LedgerEntry]:
        """The entries recorded under `keys` (a key without one is absent). Raise LedgerError
        when the ledger cannot be read."""

    def record(self, entries: Sequence[LedgerEntry]) -> None:
        """Remember these deliveries (an entry under a key already there replaces it). Raise
        LedgerError when they are not all certainly stored."""


class SecretSource(Protocol):
    def get(self, *, refresh: bool = False) -> str:
        """The secret's current value. `refresh` bypasses any cache (used after a rotation).
        Raise ConfigurationError naming the setting when it cannot be read as configured (missing,
        access denied, empty, a line break or non-ASCII character in it), Unavailable when the
        store did not answer (a timeout, throttling: retry later)."""


@dataclass(frozen=True, eq=False)
class Tenant:
    """One store of the tenants document (pipeline/tenants.py), or the one shop a single-shop
    deployment serves (key "": pipeline.tenants.SINGLE_TENANT). `key` is the store's identity as
    its platform names it (a Shopify shop's myshopify.com domain), canonical (lower case);
    `platform` the WebhookSource.name whose deliveries it takes. `access_token` is its TikTok
    Events API token, `admin_access_token` its own store's API token (optional: for jobs that
    call the store). `settings` are the store's own settings by environment name, as given;
    `parsed` what each settings parser made of them (tenants.settings_parsers(): "shopify" ->
    ShopifySettings, "sender" -> the stale limit in seconds or None). Secrets never show in
    its repr; it is immutable, so copies (Powertools deep-copies what idempotency sees) share it."""

    key: str
    platform: str
    pixel_id: str
    webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    access_token: str | None = field(default=None, repr=False)
    admin_access_token: str | None = field(default=None, repr=False)
    settings: Mapping[str, str] = field(default_factory=dict)
    parsed: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __deepcopy__(self, memo: dict) -> Tenant:
        return self


class UnknownTenant(SignatureError):
    """No tenant has this shop identity: the receiver answers 401, as for a bad signature (an
    unverified request gets to know nothing more). The message names no secret and no value."""


class Tenants(Protocol):
    """Which shops this deployment serves, and with what (tiktok_relay.pipeline.tenants)."""

    def find(self, platform: str, key: str | None, *, refresh: bool = False) -> Tenant:
        """The tenant of `platform` ("shopify", a WebhookSource.name) whose identity is `key`
        (lower case, as the source normalizes it; None when the delivery named none).
        `refresh` re-reads the document first (rate-limited: after a signature that matched
        none of the shop's secrets, or an unknown shop, so a rotation or a new shop takes
        effect at once). Raise UnknownTenant when no tenant has this key, ConfigurationError
        naming the shop and the setting when the shop's entry is broken (or the document is),
        Unavailable when the store holding the document did not answer."""


@dataclass(frozen=True)
class Delivery:
    """A webhook delivery whose signature checked out (or, from EventBridge, whose envelope
    did): the store's delivery id, its topic and shop (lower case), the body bytes exactly as
    delivered, and the tenant it was verified for (None only for hand-made deliveries).

    `signed_id`: the store's id of the delivery when its signature covers it (Stripe's event id
    is in the signed body), None when it does not (Shopify's and WooCommerce's ids are unsigned
    headers). The receiver deduplicates on it when there is one, else on the body."""

    webhook_id: str
    topic: str
    shop: str
    body: bytes
    tenant: Tenant | None = field(default=None, compare=False, repr=False)
    signed_id: str | None = None


class WebhookSource(Protocol):
    """One store platform's webhooks: how to verify them and what they become."""

    name: str  # the queue messages' `source`, and the idempotency key prefix: never change it
    display_name: str  # for messages: "Shopify"
    webhook_id_name: str  # that header as the store's documentation spells it
    # The lower-case headers naming the delivery (id, topic, shop). They are not signed: before
    # the signature checks out, logs show only their lengths and short hashes.
    identity_headers: tuple[str, ...]

    def acknowledge_unsigned(self, headers: dict[str, str], raw: bytes) -> str | None:
        """Why the receiver answers this request 200 without verifying or processing it, when it
        is one the store sends unsigned on purpose (WooCommerce's ping on creating a webhook);
        None for anything else. Must not read secrets or fail: it runs before the signature."""

    def verify(self, headers: dict[str, str], raw: bytes) -> Delivery:
        """The delivery, when `raw` is signed with a secret of the delivery's tenant (found
        through the source's Tenants by the shop identity the request names). Headers have
        lower-case names. Raise SignatureError (the receiver answers 401: UnknownTenant when no
        tenant has that identity) or DeliveryRejected (400) naming what is wrong, never a
        value; ConfigurationError when no secret is configured."""

    def state_key(self, delivery: Delivery, payload: dict[str, Any]) -> str | None:
        """Under which key the receiver keeps what the mapping of this delivery remembers (its
        MappingResult.state) and hands the previous state back; None when there is none."""

    def map(self, delivery: Delivery, payload: dict[str, Any], *, now: int,
            previous_state: dict[str, Any] | None = None) -> MappingResult:
        """The events the payload becomes. Pure and total: never raises for a dict payload."""

    def envelope(self, delivery: Delivery, result: MappingResult) -> dict[str, Any]:
        """Where the delivery's events go, given what they became (web or offline): the
        request's header in wire shape (what `Envelope.header()` gives: event source, pixel or
        event set, test event code; the fields set, in wire order). Checked without pydantic for
        plain settings (tiktok/encode.py's envelope rules), by the Envelope model otherwise.
        Raise ConfigurationError naming the setting when the pixel (or, for offline events,
        the offline event set) is not configured: the receiver answers 500, the store retries."""


@runtime_checkable
class PartnerEventSource(WebhookSource, Protocol):
    """A platform that can also deliver through an Amazon EventBridge partner event source."""

    def from_event(self, event: Mapping[str, Any]) -> Delivery:
        """The delivery an EventBridge event of the platform carries, its tenant found by the
        shop it names. No signature is checked: the rule's source pattern and IAM are the
        trust boundary. Raise DeliveryRejected naming what is wrong (not the platform's event,
        a required field missing: retrying would not help), UnknownTenant when no tenant has
        the shop, ConfigurationError, Unavailable as `Tenants.find` does."""
