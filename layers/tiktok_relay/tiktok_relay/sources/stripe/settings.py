"""Mapping settings for Stripe, from the environment (the SAM template sets the same names).

| Variable               | Meaning                                                  | Default                          |
|------------------------|----------------------------------------------------------|----------------------------------|
| STRIPE_EVENTS          | the event types that become a Purchase, comma-separated  | checkout.session.completed,      |
|                        | (some of PURCHASE_EVENTS)                                | checkout.session.async_payment_  |
|                        |                                                          | succeeded                        |
| TIKTOK_PHONE_REGION    | region for phone numbers without +country code and no    | unset                            |
|                        | address country                                          |                                  |
| TIKTOK_TEST_EVENT_CODE | sends everything as TikTok test events (test-mode events | unset (test-mode events ignored) |
|                        | too: livemode false)                                     |                                  |

By default a payment counts through its Checkout Session only. payment_intent.succeeded is for
payments made without Checkout (Elements, the API); listed beside the sessions, it would also
fire for the payment behind each session, so the mapping gives both the payment intent's
event_id and the receiver remembers the payment: one Purchase either way (mapping/__init__.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from tiktok_relay.config import env_value, phone_region_from_env
from tiktok_relay.errors import ConfigurationError

SESSION_COMPLETED = "checkout.session.completed"
SESSION_ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
PAYMENT_INTENT_SUCCEEDED = "payment_intent.succeeded"
SESSION_EVENTS = frozenset({SESSION_COMPLETED, SESSION_ASYNC_SUCCEEDED})
PURCHASE_EVENTS = (SESSION_COMPLETED, SESSION_ASYNC_SUCCEEDED, PAYMENT_INTENT_SUCCEEDED)
DEFAULT_EVENTS = (SESSION_COMPLETED, SESSION_ASYNC_SUCCEEDED)


def parse_events(text: str | None) -> tuple[str, ...]:
    """STRIPE_EVENTS: some of PURCHASE_EVENTS, comma-separated. An error names the setting and
    lists the choices."""
    if text is None:
        return DEFAULT_EVENTS
    events = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [event for event in events if event not in PURCHASE_EVENTS]
    if not events or unknown:
        raise ConfigurationError(f"STRIPE_EVENTS must list some of {', '.join(PURCHASE_EVENTS)} (comma-separated)")
    return events


@dataclass(frozen=True)
class StripeSettings:
    events: tuple[str, ...] = DEFAULT_EVENTS
    phone_region: str | None = None
    test_event_code: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StripeSettings:
        env = os.environ if env is None else env
        return cls(
            events=parse_events(env_value(env, "STRIPE_EVENTS")),
            phone_region=phone_region_from_env(env),
            test_event_code=env_value(env, "TIKTOK_TEST_EVENT_CODE"),
        )
