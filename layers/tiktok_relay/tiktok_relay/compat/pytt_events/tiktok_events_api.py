"""pytt-events-api's `TikTokEventsApi`, posting to Events API 2.0 through `TikTokClient`:
compact bodies of at most 1000 events, timeouts, retries with backoff on what is transient,
and a per-event result.

Like pytt, `post_event` and `post_events_in_bulk` raise when TikTok does not take the events,
with `(code, message)` as the exception's args; unlike pytt, the events TikTok did take in the
meantime are delivered (see `TikTokEventsApiError.result`), and an empty list sends nothing.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from typing import Any

from tiktok_relay.compat.pytt_events.auth import TikTokAuth
from tiktok_relay.compat.pytt_events.event import Event
from tiktok_relay.errors import TikTokRelayError
from tiktok_relay.tiktok.client import SendResult, Status, TikTokClient
from tiktok_relay.tiktok.models import TrackRequest

logger = logging.getLogger(__name__)


def _http_error_bases() -> tuple[type[Exception], ...]:
    """requests.HTTPError when requests is installed (what pytt raised, so `except HTTPError`
    written for pytt keeps working); nothing otherwise: this library does not need requests."""
    if importlib.util.find_spec("requests") is None:
        return ()
    from requests.exceptions import HTTPError

    return (HTTPError,)


class TikTokEventsApiError(TikTokRelayError, *_http_error_bases()):  # type: ignore[misc]
    """Not every event was delivered. `args` is `(code, message)` of the first one that was not,
    as pytt's HTTPError had it; `result` holds every event's outcome."""

    def __init__(self, code: int | None, message: str, *, request_id: str | None, result: SendResult):
        super().__init__(code, message)
        self.code, self.message, self.request_id, self.result = code, message, request_id, result

    def __str__(self) -> str:
        return f"TikTok did not take every event: {self.code} {self.message} (request_id {self.request_id})"


class TikTokResponse:
    """What a successful call returns, in place of pytt's `requests.Response`: `json()` gives
    `code` 0, `message`, the first `request_id` (all in `request_ids`) and the counts in `data`;
    `result` is the `SendResult`. Calls that did not deliver everything raise instead."""

    status_code = 200
    ok = True

    def __init__(self, result: SendResult):
        self.result = result

    def json(self) -> dict[str, Any]:
        ids = self.result.request_ids
        return {"code": 0, "message": "OK" if self.result.outcomes else "nothing to send",
                "request_id": ids[0] if ids else None, "request_ids": ids, "data": self.result.summary()}

    @property
    def text(self) -> str:
        return json.dumps(self.json())


class TikTokEventsApi:
    def __init__(self, DEBUG: bool = False):  # noqa: N803 - pytt's name
        self.DEBUG = DEBUG
        self._clients: dict[tuple[str, str, str], TikTokClient] = {}

    def _client(self, auth: TikTokAuth) -> TikTokClient:
        settings = auth.settings
        key = (auth.TIKTOK_ACCESS_TOKEN, settings.base_url, auth.TIKTOK_API_VERSION)
        if key not in self._clients:
            self._clients[key] = TikTokClient(auth.TIKTOK_ACCESS_TOKEN, base_url=settings.base_url,
                                              api_version=auth.TIKTOK_API_VERSION)
        return self._clients[key]

    def post_event(self, event: Event, auth: TikTokAuth) -> TikTokResponse:
        """Report one event (pytt: /pixel/track/; here /event/track/)."""
        return self.post_events_in_bulk([event], auth)

    def post_events_in_bulk(self, events: list[Event], auth: TikTokAuth) -> TikTokResponse:
        """Report any number of events, in requests of at most 1000 (pytt: one /pixel/batch/)."""
        requests = [TrackRequest(event_source="web", event_source_id=event.pixel_code,
                                 test_event_code=event.test_event_code, data=[event._event]) for event in events]
        result = self._client(auth).send(requests) if requests else SendResult()
        if self.DEBUG:
            logger.debug("TikTok Events API: %s", result.summary())
        undelivered = next((o for o in result.outcomes if o.status is not Status.DELIVERED), None)
        if undelivered is not None:
            raise TikTokEventsApiError(undelivered.code, undelivered.message or undelivered.status.value,
                                       request_id=undelivered.request_id, result=result)
        return TikTokResponse(result)
