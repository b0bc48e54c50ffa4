"""pytt-events-api 0.1.10's API on Events API 2.0: change `from pytt_events.X import ...` to
`from tiktok_relay.compat.pytt_events.X import ...` and nothing else.

Submodules, as in pytt-events-api: `auth` (TikTokAuth), `tiktok_events_api` (TikTokEventsApi),
`event` (Event), `properties` (Properties, Content, ContentType), `context` (Context, Ad, Page,
User), `supported_events` (SupportedEvents).

What it does differently (README, "Moving from pytt-events-api"):
- It posts to `/event/track/` (Events API 2.0) instead of the sunset `/pixel/track/` and
  `/pixel/batch/`: the old names are translated (`timestamp` -> `event_time`, `phone_number`
  -> `user.phone`, `Ad(callback)` -> `user.ttclid`, `Context.ip`/`user_agent` -> `user.ip`/
  `user.user_agent`, `pixel_code` -> `event_source_id`).
- Identifiers are normalized and hashed by tiktok_relay (phones without `+` with a region, IPv6,
  pre-hashed values passed through); a value of 0 and duplicate contents are accepted.
- An unknown keyword argument is an error naming it (pytt dropped it silently);
  `Content(content_type=...)`, which pytt's own README passes and pytt dropped, is sent.
- `post_events_in_bulk` sends at most 1000 events per request, delivers the good events of a
  batch TikTok refuses one event of, retries what is transient, and posts nothing for an empty list.
- Both methods raise `TikTokEventsApiError` (args `(code, message)`, like pytt's
  `requests.HTTPError`, and a `requests.HTTPError` itself when requests is installed) unless
  every event was delivered; they return a `TikTokResponse` with the result.
"""
