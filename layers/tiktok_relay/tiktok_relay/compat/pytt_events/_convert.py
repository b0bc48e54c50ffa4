"""Building tiktok_relay's models from pytt's arguments, with pytt's names in the errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, TypeVar

from tiktok_relay.errors import EventValidationError, FieldProblem

T = TypeVar("T")

# tiktok_relay's field names -> pytt's, where they differ (for error locations).
_OLD_NAMES = {
    "user.phone": "context.user.phone_number",
    "user.ttclid": "context.ad.callback",
    "user.ip": "context.ip",
    "user.user_agent": "context.user_agent",
    "user": "context.user",
    "page": "context.page",
    "event_time": "timestamp",
}


def old_location(loc: str, prefix: str) -> str:
    """`loc` of a tiktok_relay model, as the pytt argument it came from (`prefix` places it)."""
    full = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
    for new, old in sorted(_OLD_NAMES.items(), key=lambda item: -len(item[0])):
        if full == new or full.startswith(new + "."):
            return old + full[len(new):]
    return full


def build(factory: Callable[..., T], values: Mapping[str, Any], prefix: str = "") -> T:
    """`factory(**values)` without the None values; EventValidationError locations in pytt's names."""
    try:
        return factory(**{name: value for name, value in values.items() if value is not None})
    except EventValidationError as exc:
        raise EventValidationError([FieldProblem(old_location(p.loc, prefix), p.problem) for p in exc.problems]) \
            from None


def text(value: Any) -> Any:
    """An enum member (ContentType.PRODUCT, SupportedEvents.VIEW_CONTENT) as its value."""
    return value.value if isinstance(value, Enum) else value
