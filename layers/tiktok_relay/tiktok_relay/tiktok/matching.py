"""Match keys: which of TikTok's matching identifiers an event carries, counted in one place
(the receiver's metrics, `replay --json`'s summary and `tiktok-relay quality` all count here),
and an estimate of TikTok's Event Match Quality from how many events carry each.

TikTok's words (Events Manager help, "Monitor and diagnose"): the EMQ score "is calculated using
a weighted average of all your match key coverages". The keys are those of TikTok's "How to set
up matching events with Events API": click ID (ttclid), email and phone (hashed), external ID
(hashed), IP address and user agent, and the first-party cookie (ttp). TikTok publishes neither
the weights nor the scale, so `estimated_match_quality` is an estimate with weights of our own
(EMQ_WEIGHTS, below), on the 0 to 10 scale third-party guides report for TikTok's score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# The match keys, in the order reports list them (and the order of `replay --json`'s match_keys).
MATCH_KEYS = ("email", "phone", "external_id", "ip", "user_agent", "ttclid", "ttp")

# Our weights (TikTok's are unpublished), in three tiers, summing to 10 so that an event stream
# carrying every key on every event scores 10:
#   2    email, phone, ttclid: each names one person (TikTok's "advanced matching" keys) or the
#        very ad click (the key that attributes a conversion to the ad, TikTok says);
#   1.5  external_id, ttp: one buyer in the merchant's own records, one browser the pixel saw;
#        they match only where the pixel or the merchant sent the same value before;
#   0.5  ip, user_agent: device signals, shared by many people (a household, a carrier's NAT),
#        useful beside the others rather than on their own.
EMQ_WEIGHTS: Mapping[str, float] = {"email": 2.0, "phone": 2.0, "external_id": 1.5, "ip": 0.5,
                                    "user_agent": 0.5, "ttclid": 2.0, "ttp": 1.5}
EMQ_SCALE = 10.0


def _carries(value: Any) -> bool:
    """A non-empty string, or a list holding one (hashed keys travel as lists of hashes)."""
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list):
        return any(isinstance(item, str) and item.strip() for item in value)
    return False


def match_keys(event: Mapping[str, Any]) -> tuple[str, ...]:
    """The match keys an event in wire shape carries in its `user` (any value at all: never raises)."""
    user = event.get("user") if isinstance(event, Mapping) else None
    if not isinstance(user, Mapping):
        return ()
    return tuple(key for key in MATCH_KEYS if _carries(user.get(key)))


def no_match_keys() -> dict[str, int]:
    """Every key with a count of 0, in MATCH_KEYS order."""
    return dict.fromkeys(MATCH_KEYS, 0)


def add_match_keys(counts: dict[str, int], event: Mapping[str, Any]) -> None:
    """Count `event`'s keys into `counts` (as made by `no_match_keys`)."""
    for key in match_keys(event):
        counts[key] += 1


def count_match_keys(events: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many of `events` carry each key: every key, in MATCH_KEYS order, 0 included."""
    counts = no_match_keys()
    for event in events:
        add_match_keys(counts, event)
    return counts


def estimated_match_quality(counts: Mapping[str, int], events: int) -> float | None:
    """The weighted average of the keys' coverages on a 0 to 10 scale (EMQ_WEIGHTS); None
    without events. An estimate: TikTok's own weights are not published."""
    if events <= 0:
        return None
    total = sum(EMQ_WEIGHTS.values())
    weighted = sum(EMQ_WEIGHTS[key] * min(counts.get(key, 0), events) / events for key in MATCH_KEYS)
    return round(EMQ_SCALE * weighted / total, 1)


@dataclass(frozen=True)
class Coverage:
    """What a set of events carries: `counts` per key out of `events`."""

    events: int
    counts: Mapping[str, int]

    @classmethod
    def of(cls, events: Iterable[Mapping[str, Any]]) -> Coverage:
        events = list(events)
        return cls(len(events), count_match_keys(events))

    def share(self, key: str) -> float:
        """The fraction of the events carrying `key` (0 without events)."""
        return self.counts.get(key, 0) / self.events if self.events else 0.0

    def missing(self, key: str) -> int:
        return self.events - self.counts.get(key, 0)

    def missing_most_often(self) -> list[str]:
        """The keys some events lack, most often missing first; among equals, the heavier
        weight (what would raise the estimate most) first, then MATCH_KEYS order."""
        order = {key: i for i, key in enumerate(MATCH_KEYS)}
        lacking = [key for key in MATCH_KEYS if self.missing(key) > 0]
        return sorted(lacking, key=lambda k: (-self.missing(k), -EMQ_WEIGHTS[k], order[k]))

    def estimated_match_quality(self) -> float | None:
        return estimated_match_quality(self.counts, self.events)
