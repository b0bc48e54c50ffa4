"""The `build` work done with pytt-events-api 0.1.10, without network calls.

Runs in its own virtualenv (pytt pins pydantic==1.10.4). Reads NDJSON of Events API 2.0
`data[]` items (the benchmark input), builds pytt's Event/Context/Ad/Page/User/Properties/Content
for each, and writes one request body per 1000 events exactly as
`TikTokEventsApi.post_events_in_bulk` builds it: `normalize_data()` per event (the hashing),
then `json.dumps(payload, indent=4, sort_keys=True, default=str)`. Only `requests.post` is left
out, so `requests` (imported by pytt_events.tiktok_events_api) is not imported either.

    python pytt_build.py PIXEL_ID FILE > out
"""

import json
import sys

from pytt_events.context import Ad, Context, Page, User
from pytt_events.event import Event
from pytt_events.properties import Content, Properties

BATCH = 1000


def to_pytt(item: dict, pixel_code: str) -> Event:
    user = item.get("user", {})
    props = item.get("properties")
    page = item.get("page")
    return Event(
        pixel_code=pixel_code,
        event=item["event"],
        event_id=item.get("event_id"),
        timestamp=item["event_time"],
        context=Context(
            user_agent=user.get("user_agent"),
            ip=user.get("ip"),
            ad=Ad(callback=user["ttclid"]) if user.get("ttclid") else None,
            page=Page(url=page.get("url"), referrer=page.get("referrer")) if page else None,
            user=User(
                external_id=user.get("external_id"),
                email=user.get("email"),
                phone_number=user.get("phone"),
                ttp=user.get("ttp"),
            ),
        ),
        properties=Properties(
            currency=props.get("currency"),
            value=props.get("value"),
            content_type=props.get("content_type"),
            contents=[Content(**c) for c in props["contents"]] if props.get("contents") else None,
        )
        if props
        else None,
    )


def main() -> int:
    pixel_code, path = sys.argv[1], sys.argv[2]
    with open(path, "rb") as handle:
        events = [to_pytt(json.loads(line), pixel_code) for line in handle if line.strip()]
    out = sys.stdout
    for start in range(0, len(events), BATCH):
        batch = [event.normalize_data() for event in events[start : start + BATCH]]
        payload = {"pixel_code": pixel_code, "batch": batch}
        out.write(json.dumps(payload, indent=4, sort_keys=True, default=str))
        out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
