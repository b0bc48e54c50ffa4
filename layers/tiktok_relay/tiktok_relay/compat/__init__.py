"""Drop-in replacements for older libraries, built on this one.

`tiktok_relay.compat.pytt_events`: the API of pytt-events-api 0.1.10 (import name
`pytt_events`), sending on TikTok Events API 2.0 with this library's normalization, batching,
retries and per-event results. Change `pytt_events` to `tiktok_relay.compat.pytt_events` in the
imports; nothing else.
"""
