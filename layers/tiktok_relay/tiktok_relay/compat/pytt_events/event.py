"""pytt-events-api's `Event`, built as a tiktok_relay `Event` (Events API 2.0 `data[]` item).

`timestamp` becomes `event_time` (unix seconds; a datetime needs a timezone, an ISO string is
read as such); without one, the time of building is used, as TikTok used the time of receipt.
`pixel_code` and `test_event_code` go to the request (`event_source_id`, `test_event_code`)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from tiktok_relay.compat.pytt_events._convert import build, text
from tiktok_relay.compat.pytt_events.context import Context
from tiktok_relay.compat.pytt_events.properties import Properties
from tiktok_relay.compat.pytt_events.supported_events import SupportedEvents
from tiktok_relay.config import check_pixel_id
from tiktok_relay.tiktok import models


class Event:
    def __init__(self, *, pixel_code: str, event: SupportedEvents | str, context: Context,
                 test_event_code: str | None = None, event_id: str | None = None,
                 timestamp: datetime | str | int | None = None, properties: Properties | None = None):
        self.pixel_code = check_pixel_id((pixel_code or "").strip(), "pixel_code") or ""
        self.test_event_code = (test_event_code or "").strip() or None
        self.event, self.event_id, self.timestamp = event, event_id, timestamp
        self.context, self.properties = context, properties
        self._event = build(models.Event, {
            "event": text(event), "event_id": event_id,
            "event_time": timestamp if timestamp is not None else int(time.time()),
            "user": context._user, "page": context.page._page if context.page else None,
            "properties": properties._properties if properties else None,
        })

    def normalize_data(self) -> dict[str, Any]:
        """What is sent for this event: its Events API 2.0 `data[]` item, identifiers hashed
        (pytt returned its 1.0 body; `pixel_code` and `test_event_code` are request fields now)."""
        return self._event.wire()
