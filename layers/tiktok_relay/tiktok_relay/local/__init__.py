"""What only runs outside Lambda: the harness behind `replay` and `serve` (the real handlers
with in-memory ports and the embedded fake TikTok), API Gateway event building, signing for
each store platform, and a fake Lambda context. Production code (`tiktok`, `sources`,
`pipeline`, `handlers`, `functions/`) never imports this package; tests/unit/test_layering.py
checks it."""

from __future__ import annotations

import importlib.util

from tiktok_relay.errors import ConfigurationError

# What the handlers import through Powertools (its Tracer: aws-xray-sdk; its idempotency, and
# the in-memory store built on it: boto3) and Lambda provides (the runtime, the Powertools
# layer). The `local` extra installs them.
LOCAL_EXTRA = {"boto3": "boto3", "aws_xray_sdk": "aws-xray-sdk"}


def check_local_extra() -> None:
    """ConfigurationError naming the extra when what the handlers import is not installed.
    Call it before importing the harness (its in-memory idempotency store imports boto3)."""
    missing = [package for module, package in LOCAL_EXTRA.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise ConfigurationError(
            f"replay and serve run the Lambda handlers, whose Powertools Tracer and idempotency need "
            f"{' and '.join(missing)} (Lambda provides them); install them with: pip install 'tiktok-relay[local]'"
        )
