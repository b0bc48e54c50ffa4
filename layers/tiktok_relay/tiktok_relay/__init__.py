"""tiktok-relay: store webhooks to TikTok Events API 2.0 conversion events.

The library on its own:

    from tiktok_relay import Event, TikTokClient, TikTokSettings

    settings = TikTokSettings.from_env()      # TIKTOK_ACCESS_TOKEN, TIKTOK_PIXEL_ID, ...
    client = TikTokClient.from_settings(settings)
    result = client.send_events([Event(event="Purchase", event_time=..., user={"email": ...})],
                                event_source_id=settings.require_pixel())

Names are imported on first use, so importing a submodule (as the Lambda handlers do) does
not pay for the rest.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "Event": "tiktok_relay.tiktok.models",
    "User": "tiktok_relay.tiktok.models",
    "Properties": "tiktok_relay.tiktok.models",
    "Content": "tiktok_relay.tiktok.models",
    "Page": "tiktok_relay.tiktok.models",
    "TrackRequest": "tiktok_relay.tiktok.models",
    "TikTokClient": "tiktok_relay.tiktok.client",
    "RetryPolicy": "tiktok_relay.tiktok.client",
    "SendResult": "tiktok_relay.tiktok.client",
    "Status": "tiktok_relay.tiktok.client",
    "TikTokSettings": "tiktok_relay.config",
    "TikTokRelayError": "tiktok_relay.errors",
    "ConfigurationError": "tiktok_relay.errors",
    "EventValidationError": "tiktok_relay.errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tiktok_relay' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
