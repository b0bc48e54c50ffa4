"""Which events a `20001` (partial success) refused, read from whatever layout TikTok used.

TikTok documents no layout for the per-event detail of a 20001 (reference notes, "Updates,
2026-12"), so this reads every plausible one and gives up, rather than guess, on anything else:

    data = [{"index": 3, "code": 40002, "message": "..."}]           a list of failures
    data = {"failed_events": [{"event_index": "3", ...}]}            under any key
    data = {"failed_events": [{"index": [1, 3]}]}                    an index list in a failure
    data = {"failed_indexes": [1, 3]}                                plain indexes (numbers or strings)
    data = {"errors": [{"event_id": "order-42", ...}]}               failures named by event_id
    data = {"order-42": {"code": 40002, "message": "..."}}           failures keyed by event_id
    data = {"result": {"failed_events": [...]}}                      any of the above, one level down

Keys that name successes (`success`, `succeeded`, `accepted`, `passed`, `ok`) are skipped. The
detail is unreadable, and `read_failures` returns None, when it names no event at all, or
names one it cannot place (an index out of range, an unknown event_id, anything else in a
list of failures): the caller must then not count any event of the request as delivered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

MAX_MESSAGE = 500
_INDEX_KEYS = ("index", "event_index", "idx", "position")
_ID_KEYS = ("event_id", "eventId")
_CODE_KEYS = ("code", "error_code", "err_code")
_MESSAGE_KEYS = ("message", "msg", "error_message", "error", "reason")
_SUCCESS_WORDS = ("success", "succeeded", "accepted", "passed", "ok")
_MAX_DEPTH = 1  # one level of nesting below `data` itself

Failure = tuple[int | None, str]  # TikTok's code for the event (if given) and its message


class _Unreadable(Exception):
    """The detail names something that cannot be placed in the request."""


def read_failures(data: Any, event_ids: Sequence[str | None]) -> dict[int, Failure] | None:
    """{position in the request: (code, message)} of the refused events; None if unreadable."""
    reader = _Reader(event_ids)
    try:
        reader.container(data, depth=0)
    except _Unreadable:
        return None
    return reader.found or None


class _Reader:
    def __init__(self, event_ids: Sequence[str | None]):
        self.size = len(event_ids)
        self.positions: dict[str, list[int]] = {}
        for position, event_id in enumerate(event_ids):
            if event_id:
                self.positions.setdefault(event_id, []).append(position)
        self.found: dict[int, Failure] = {}

    def container(self, data: Any, depth: int) -> None:
        """`data` or a value one level down: a list of failures, a failure, or a mapping of them."""
        if isinstance(data, list):
            for item in data:
                self.item(item, None)
        elif isinstance(data, Mapping):
            if self._is_failure(data):
                self.failure(data, None)
                return
            for key, value in data.items():
                self.entry(str(key), value, depth)

    def entry(self, key: str, value: Any, depth: int) -> None:
        """One key of a mapping: a list of failures, a failure keyed by event_id, or nesting."""
        if any(word in key.lower() for word in _SUCCESS_WORDS):
            return
        if key in self.positions and isinstance(value, Mapping):
            self.failure(value, key)
        elif isinstance(value, list):
            for item in value:
                self.item(item, None)
        elif isinstance(value, Mapping) and depth < _MAX_DEPTH:
            self.container(value, depth + 1)

    def item(self, item: Any, key: str | None) -> None:
        """One element of a list of failures: a failure object, an index, or an event_id."""
        if isinstance(item, Mapping):
            self.failure(item, key)
        elif isinstance(item, str) and item in self.positions:
            self.mark(self.positions[item], None, "rejected")
        else:
            self.mark([self.index(item)], None, "rejected")

    def failure(self, failure: Mapping[str, Any], event_id: str | None) -> None:
        code = next((failure[k] for k in _CODE_KEYS if isinstance(failure.get(k), int)), None)
        message = next((str(failure[k]) for k in _MESSAGE_KEYS if failure.get(k)), "rejected")
        positions: list[int] = []
        for key in _INDEX_KEYS:
            if key in failure:
                value = failure[key]
                positions += [self.index(v) for v in value] if isinstance(value, list) else [self.index(value)]
        for key in _ID_KEYS:
            if key in failure:
                positions += self.by_id(failure[key])
        if event_id is not None:
            positions += self.positions[event_id]
        if not positions:
            raise _Unreadable  # a failure that names no event
        self.mark(positions, code if not isinstance(code, bool) else None, message)

    def index(self, value: Any) -> int:
        if isinstance(value, str) and value.strip().isdecimal():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < self.size:
            raise _Unreadable
        return value

    def by_id(self, value: Any) -> list[int]:
        if not isinstance(value, str) or value not in self.positions:
            raise _Unreadable
        return self.positions[value]

    def mark(self, positions: list[int], code: int | None, message: str) -> None:
        for position in positions:
            self.found[position] = (code, message[:MAX_MESSAGE])

    @staticmethod
    def _is_failure(data: Mapping[str, Any]) -> bool:
        return any(key in data for key in _INDEX_KEYS + _ID_KEYS)
