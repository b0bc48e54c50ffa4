"""The floor: the least work `build` could do in Python, with no validation at all.

json.loads per line; SHA-256 of the trimmed, lowercased email, of '+' and the phone's digits,
and of the trimmed external_id; request bodies of 1000 events written with json.dumps.
Runs on the project's interpreter so it pays the same start-up as `tiktok-relay`.

    python floor_build.py PIXEL_ID FILE > out
"""

import json
import sys
from hashlib import sha256

BATCH = 1000


def _h(text: str) -> str:
    return sha256(text.encode()).hexdigest()


def main() -> int:
    pixel_code, path = sys.argv[1], sys.argv[2]
    events = []
    with open(path, "rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            item = json.loads(line)
            user = item.get("user")
            if user:
                if "email" in user:
                    user["email"] = [_h(user["email"].strip().lower())]
                if "phone" in user:
                    user["phone"] = [_h("+" + "".join(ch for ch in user["phone"] if ch.isdigit()))]
                if "external_id" in user:
                    user["external_id"] = [_h(user["external_id"].strip())]
            events.append(item)
    out = sys.stdout
    for start in range(0, len(events), BATCH):
        body = {"event_source": "web", "event_source_id": pixel_code, "data": events[start : start + BATCH]}
        out.write(json.dumps(body, separators=(",", ":")))
        out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
