"""Mapping settings for WooCommerce, from the environment (the SAM template sets the same names).

| Variable                    | Meaning                                                 | Default                     |
|-----------------------------|---------------------------------------------------------|-----------------------------|
| WOOCOMMERCE_PAID_STATUSES   | order statuses that mean "paid": the Purchase is sent   | processing,completed        |
|                             | the first time an order is delivered in one of them     |                             |
| WOOCOMMERCE_CONTENT_ID      | line-item fields for content_id, in order of preference | variation_id,product_id,sku |
| TIKTOK_PHONE_REGION         | region for phone numbers without +country code and no   | unset                       |
|                             | billing country                                         |                             |
| TIKTOK_TEST_EVENT_CODE      | sends everything as TikTok test events                  | unset                       |
| TIKTOK_OFFLINE_EVENT_SET_ID | the offline event set orders staff create in the admin  | unset (those are ignored)   |
|                             | (created_via: admin) go to                              |                             |
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from tiktok_relay.config import env_value, fields_from_env, offline_event_set_from_env, phone_region_from_env
from tiktok_relay.errors import ConfigurationError
from tiktok_relay.pipeline.tenants import SettingsParser

DEFAULT_PAID_STATUSES = ("processing", "completed")
# Statuses that never mean paid (WooCommerce core's, and the block checkout's draft): refused in
# WOOCOMMERCE_PAID_STATUSES, a typo there would count abandoned or refunded orders as purchases.
# on-hold (awaiting a bank transfer or cheque) is allowed: some shops count the order placed.
UNPAID_STATUSES = frozenset({"pending", "failed", "cancelled", "refunded", "checkout-draft", "draft", "auto-draft",
                             "trash"})
CONTENT_ID_FIELDS = ("variation_id", "product_id", "sku")
_STATUS = re.compile(r"[a-z0-9_-]{1,40}", re.ASCII)  # a status slug (plugins add their own)


def status_slug(value: str) -> str:
    """A WooCommerce order status as the REST API writes it: lower case, without the "wc-" prefix
    its database and some plugins use."""
    return value.strip().lower().removeprefix("wc-")


def parse_paid_statuses(text: str | None) -> tuple[str, ...]:
    """WOOCOMMERCE_PAID_STATUSES: status slugs, comma-separated. Errors name the bad entry."""
    if text is None:
        return DEFAULT_PAID_STATUSES
    statuses = tuple(dict.fromkeys(status_slug(part) for part in text.split(",") if part.strip()))
    if not statuses:
        raise ConfigurationError("WOOCOMMERCE_PAID_STATUSES lists no status; the default is processing,completed")
    for status in statuses:
        if not _STATUS.fullmatch(status):
            raise ConfigurationError(f"WOOCOMMERCE_PAID_STATUSES: {status[:40]!r} is not an order status (letters, "
                                     "digits, - and _)")
        if status in UNPAID_STATUSES:
            raise ConfigurationError(f"WOOCOMMERCE_PAID_STATUSES: {status!r} never means an order was paid")
    return statuses


@dataclass(frozen=True)
class WooCommerceSettings:
    paid_statuses: tuple[str, ...] = DEFAULT_PAID_STATUSES
    content_id_fields: tuple[str, ...] = CONTENT_ID_FIELDS
    phone_region: str | None = None
    test_event_code: str | None = None
    offline_event_set_id: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WooCommerceSettings:
        env = os.environ if env is None else env
        return cls(
            paid_statuses=parse_paid_statuses(env_value(env, "WOOCOMMERCE_PAID_STATUSES")),
            content_id_fields=fields_from_env(env, "WOOCOMMERCE_CONTENT_ID", CONTENT_ID_FIELDS),
            phone_region=phone_region_from_env(env),
            test_event_code=env_value(env, "TIKTOK_TEST_EVENT_CODE"),
            offline_event_set_id=offline_event_set_from_env(env),
        )


# What a WooCommerce tenant's `settings` may hold (pipeline/tenants.py): what `from_env` reads.
SETTING_NAMES = frozenset({"WOOCOMMERCE_PAID_STATUSES", "WOOCOMMERCE_CONTENT_ID", "TIKTOK_PHONE_REGION",
                           "TIKTOK_TEST_EVENT_CODE", "TIKTOK_OFFLINE_EVENT_SET_ID"})
SETTINGS_PARSER = SettingsParser("woocommerce", SETTING_NAMES, WooCommerceSettings.from_env, platform="woocommerce")
