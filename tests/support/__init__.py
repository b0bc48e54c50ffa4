"""Helpers the tests share (the conftest modules hold only fixtures). Nothing here reads
outside the repository: a user's clone has no ../shared."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
EVENTS = ROOT / "events"
# The receiver's reason for a duplicate (pipeline/receive.py): keyed on the signed topic, shop and body.
DUPLICATE_REASON = "a delivery with this topic, shop and body was already received (whatever its X-Shopify-Webhook-Id)"


def load_fixture(name: str):
    """A JSON file from tests/fixtures."""
    return json.loads((FIXTURES / name).read_text())


def event_file(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def json_lines(text: str) -> list[dict]:
    """Powertools writes one JSON document per line (logs and EMF metrics) to stdout."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def nulled(value):
    """`value` with every leaf replaced by None (dicts and lists kept): a payload of nulls."""
    if isinstance(value, dict):
        return {key: nulled(item) for key, item in value.items()}
    if isinstance(value, list):
        return [nulled(item) for item in value]
    return None


def console_script() -> list[str]:
    """The installed `tiktok-relay` command (next to this interpreter), else `python -m`."""
    script = Path(sys.executable).with_name("tiktok-relay")
    if script.exists():
        return [str(script)]
    found = shutil.which("tiktok-relay")
    return [found] if found else [sys.executable, "-m", "tiktok_relay"]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the developer's TIKTOK_*, SHOPIFY_*, WOOCOMMERCE_* and STRIPE_*
    settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TIKTOK_", "SHOPIFY_", "WOOCOMMERCE_", "STRIPE_", "RECEIVER_PLATFORMS"))}
    env.update(extra)
    return env
