"""Shared test setup. Tests never reach TikTok, AWS or Shopify: the fake TikTok runs on
127.0.0.1 (fixture `fake_tiktok`, from tiktok_relay.testing.pytest_plugin) and AWS is moto."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

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
              "TIKTOK_API_VERSION", "TIKTOK_PHONE_REGION", "SHOPIFY_WEBHOOK_SECRET"):
    os.environ.pop(_name, None)


def load_fixture(name: str):
    """A JSON file from tests/fixtures (tests never read ../shared)."""
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def fixture_json():
    return load_fixture


def console_script() -> list[str]:
    """The installed `tiktok-relay` command (next to this interpreter), else `python -m`."""
    import shutil
    import sys

    script = Path(sys.executable).with_name("tiktok-relay")
    if script.exists():
        return [str(script)]
    found = shutil.which("tiktok-relay")
    return [found] if found else [sys.executable, "-m", "tiktok_relay"]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the developer's TIKTOK_* and SHOPIFY_* settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIKTOK_", "SHOPIFY_"))}
    env.update(extra)
    return env
