"""What the relay's receiver needs to know about Stripe: its signature (with the clock it is
checked against) and its mapping, as a `WebhookSource` (tiktok_relay.pipeline.ports).

A Stripe delivery is an Event object, signed whole: its id (`evt_...`), its type and, for Connect
events, the connected `account` are in the body, not in headers. So the body is read for them
only once its signature checked out. The delivery's id is the event's id, covered by the
signature: the receiver deduplicates on it (Delivery.signed_id), since every retry is signed
afresh. Its `shop` is the connected account (acct_...) on Connect events, else `stripe`.

One account per deployment: the tenant (its secrets, settings, pixel) cannot come from the
account, which is not read before the signature checks out, so a tenants document does not
serve Stripe (pipeline/runtime.py answers its route 404 then; README "Stripe").
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

from tiktok_relay.errors import DeliveryRejected
from tiktok_relay.pipeline.ports import Delivery, SecretSource
from tiktok_relay.sources.common.source import MappedSource
from tiktok_relay.sources.routes import WEBHOOK_PATHS
from tiktok_relay.sources.stripe.mapping import map_webhook, state_key
from tiktok_relay.sources.stripe.settings import StripeSettings
from tiktok_relay.sources.stripe.signature import SECRET_VARIABLE, parse_header, verify_stripe_signature

# The receiver's route (template.yaml's HttpApi event, the handler, `serve`, `sign --curl`).
WEBHOOK_PATH = WEBHOOK_PATHS["stripe"]
SIGNATURE_HEADER = "stripe-signature"  # HTTP API (payload v2) lower-cases header names
DEFAULT_ACCOUNT = "stripe"  # the `shop` of an event of the platform's own account (no `account` field)
# What the event's id, type and account may be (Stripe's ids are letters, digits and _; types are
# dotted words): anything else is not what Stripe sends, and would end up in logs and messages.
_EVENT_ID = re.compile(r"evt_[A-Za-z0-9_]{1,250}", re.ASCII)
_EVENT_TYPE = re.compile(r"[a-z0-9_]{1,40}(?:\.[a-z0-9_]{1,40}){1,5}", re.ASCII)
_ACCOUNT = re.compile(r"acct_[A-Za-z0-9]{1,250}", re.ASCII)


class StripeSource(MappedSource[StripeSettings]):
    """Stripe webhooks: the Stripe-Signature scheme with the account's secrets, checked against
    `clock` (seconds; injected: tests and replays set it), the Stripe mapping, the account's pixel."""

    name = "stripe"
    display_name = "Stripe"
    webhook_id_name = "Stripe event id"  # no header holds it: it is in the signed body
    identity_headers: tuple[str, ...] = (SIGNATURE_HEADER,)
    secret_variable = SECRET_VARIABLE
    unknown_store = "a Stripe delivery names no store before its signature is checked"

    def __init__(self, *, secrets: SecretSource | None, settings: StripeSettings, pixel_id: str,
                 clock: Callable[[], float] = time.time):
        super().__init__(secrets=secrets, settings=settings, pixel_id=pixel_id,
                         map_webhook=lambda *args, **kwargs: map_webhook(*args, **kwargs),  # looked up per call
                         state_key=lambda *args: state_key(*args), default_settings=StripeSettings())
        self._clock = clock

    def canonical(self, store: str) -> str | None:
        return None  # the one account of the deployment: no tenant is picked by store

    def acknowledge_unsigned(self, headers: dict[str, str], raw: bytes) -> str | None:
        return None  # Stripe signs every delivery

    def verify(self, headers: dict[str, str], raw: bytes) -> Delivery:
        # The account is in the body, which is not read before the signature checks out: the one
        # account a deployment serves verifies it.
        parse_header(headers)  # no signature: 401 before any secret is read
        now = self._clock()
        tenant = self._verified_tenant(None, lambda secrets, where: verify_stripe_signature(headers, raw, secrets,
                                                                                         now=now))
        event_id, event_type, account = _identity(raw)
        return Delivery(webhook_id=event_id, topic=event_type, shop=account, body=raw, tenant=tenant,
                        signed_id=event_id)


def _identity(raw: bytes) -> tuple[str, str, str]:
    """(event id, event type, account) of a signed body; DeliveryRejected when it is not a Stripe
    event (not JSON, not an object, or an id, type or account that is not Stripe's form)."""
    try:
        event = json.loads(raw)
    except RecursionError:
        raise DeliveryRejected("body is not valid JSON (nested too deeply)") from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, an integer of over 4300 digits
        raise DeliveryRejected("body is not valid JSON") from None
    if not isinstance(event, dict) or event.get("object") != "event":
        raise DeliveryRejected('body is not a Stripe event (an object with "object": "event")')
    event_id, event_type, account = event.get("id"), event.get("type"), event.get("account")
    if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        raise DeliveryRejected("the event's id is missing or not a Stripe event id (evt_...)")
    if not isinstance(event_type, str) or not _EVENT_TYPE.fullmatch(event_type):
        raise DeliveryRejected("the event's type is missing or not a Stripe event type")
    if account is not None and not (isinstance(account, str) and _ACCOUNT.fullmatch(account)):
        raise DeliveryRejected("the event's account is not a Stripe account id (acct_...)")
    return event_id, event_type, account or DEFAULT_ACCOUNT
