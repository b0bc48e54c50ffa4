"""Shared test setup. Tests never reach TikTok, AWS or Shopify: the fake TikTok runs on
127.0.0.1 (fixture `fake_tiktok`, from tiktok_relay.testing.pytest_plugin) and AWS is moto."""

from __future__ import annotations

import os

# Powertools reads these at import time; AWS SDK calls must never find real credentials.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "tiktok-relay-tests")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "TikTokRelayTests")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ.pop("AWS_PROFILE", None)
# The developer's own TikTok settings must not leak into tests.
for _name in ("TIKTOK_ACCESS_TOKEN", "TIKTOK_PIXEL_ID", "TIKTOK_TEST_EVENT_CODE", "TIKTOK_API_BASE_URL",
              "TIKTOK_API_VERSION", "TIKTOK_PHONE_REGION", "SHOPIFY_WEBHOOK_SECRET", "WOOCOMMERCE_WEBHOOK_SECRET",
              "WOOCOMMERCE_PAID_STATUSES", "WOOCOMMERCE_CONTENT_ID", "STRIPE_WEBHOOK_SECRET", "STRIPE_EVENTS",
              "RECEIVER_PLATFORMS"):
    os.environ.pop(_name, None)
