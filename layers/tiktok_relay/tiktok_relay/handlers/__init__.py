"""The Lambda handlers: Powertools wiring around one library call each.

They live in the package (the relay's layer) so that Lambda and the local tools run one and
the same code: `functions/receiver/app.py` and `functions/sender/app.py`, what template.yaml
points at, only re-export `lambda_handler` from here, and `tiktok-relay replay` and `serve`
import these modules from an installed package, where no functions/ directory exists.

Production code: never imports `local`, `testing` or `cli` (tests/unit/test_layering.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

# Powertools' documented switch for metrics. Its flush honours it, but `single_metric` (behind
# `capture_cold_start_metric` and per-reason dimensions) prints EMF unconditionally, so the
# handlers also read it to leave those out; Lambda never sets it.
METRICS_DISABLED_ENV = "POWERTOOLS_METRICS_DISABLED"
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})  # the values Powertools takes as true


def metrics_disabled() -> bool:
    return os.environ.get(METRICS_DISABLED_ENV, "").strip().lower() in _TRUE


def match_key_metric(key: str) -> str:
    """The metric counting enqueued events that carry match key `key` (tiktok/matching.py's
    MATCH_KEYS): EventsWithEmail, EventsWithPhone, EventsWithExternalId, EventsWithIp,
    EventsWithUserAgent, EventsWithTtclid, EventsWithTtp. Divided by EventsEnqueued, the key's
    coverage (the template's dashboard)."""
    return "EventsWith" + "".join(part.capitalize() for part in key.split("_"))


def publish_match_keys(metrics: Metrics, counts: Mapping[str, int]) -> None:
    """One metric per match key, 0 included, so that coverage is a ratio of two metrics that
    are always there (no gaps in the dashboard when a key is never sent)."""
    from aws_lambda_powertools.metrics import MetricUnit

    for key, events in counts.items():
        metrics.add_metric(name=match_key_metric(key), unit=MetricUnit.Count, value=events)
