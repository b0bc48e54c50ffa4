"""The Lambda handlers: Powertools wiring around one library call each.

They live in the package (the relay's layer) so that Lambda and the local tools run one and
the same code: `functions/receiver/app.py` and `functions/sender/app.py`, what template.yaml
points at, only re-export `lambda_handler` from here, and `tiktok-relay replay` and `serve`
import these modules from an installed package, where no functions/ directory exists.

Production code: never imports `local`, `testing` or `cli` (tests/unit/test_layering.py).
"""

from __future__ import annotations

import os

# Powertools' documented switch for metrics. Its flush honours it, but `single_metric` (behind
# `capture_cold_start_metric` and per-reason dimensions) prints EMF unconditionally, so the
# handlers also read it to leave those out; Lambda never sets it.
METRICS_DISABLED_ENV = "POWERTOOLS_METRICS_DISABLED"
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})  # the values Powertools takes as true


def metrics_disabled() -> bool:
    return os.environ.get(METRICS_DISABLED_ENV, "").strip().lower() in _TRUE
