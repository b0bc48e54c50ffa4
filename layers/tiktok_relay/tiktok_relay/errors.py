"""The library's exceptions. Everything it raises on purpose derives from TikTokRelayError.

Messages name the field or setting that is wrong and never carry the value itself:
values can be customer data or secrets.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import NamedTuple


class TikTokRelayError(Exception):
    """Base class of every error the library raises on purpose."""


class ConfigurationError(TikTokRelayError):
    """A required setting is missing or invalid; the message names the environment variable."""


class UsageError(TikTokRelayError):
    """A command's input (a flag, a file, a value) is unusable; the message names it."""


class FieldProblem(NamedTuple):
    """One invalid field: where it is (dotted path) and what is wrong, without its value. (A named
    tuple: this module is imported by every command, and dataclasses take ~5 ms to import.)"""

    loc: str
    problem: str

    def __str__(self) -> str:
        return f"{self.loc}: {self.problem}" if self.loc else self.problem


class EventValidationError(TikTokRelayError, ValueError):
    """Input that cannot become a valid Events API request. `problems` lists each bad field."""

    def __init__(self, problems: list[FieldProblem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems) or "invalid input")

    @classmethod
    def from_pydantic(cls, exc, hint: Callable[[tuple], str | None] | None = None) -> EventValidationError:
        """The problems of a pydantic ValidationError. `hint(loc)` may add a few words to an unknown
        field's message (tiktok/models.py says where Events API 1.0 names went in 2.0)."""
        # include_input=False: pydantic would otherwise echo the raw value (an email, a phone).
        problems = []
        for err in exc.errors(include_url=False, include_input=False, include_context=False):
            loc = ".".join(str(part) for part in err["loc"])
            message = err["msg"]
            if message.startswith("Value error, "):
                message = message[len("Value error, "):]
            if err["type"] == "extra_forbidden":
                message = "unknown field (not part of the Events API 2.0 schema)"
                if hint is not None and (words := hint(tuple(err["loc"]))):
                    message += f"; {words}"
            problems.append(FieldProblem(loc, message))
        return cls(problems)


def json_problem(exc: BaseException) -> str:
    """What json.loads found wrong, without quoting the text (it may hold customer data or
    secrets): for `X is not valid JSON (...)` messages of a file, a secret, a body."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    return "an integer of more digits than Python converts"  # json.loads' one plain ValueError


class SignatureError(TikTokRelayError):
    """A webhook delivery whose signature is missing or does not match any configured secret."""


class DeliveryRejected(TikTokRelayError):
    """A signed webhook delivery that cannot be processed as it is (a required header missing)."""


class DeprecatedEventWarning(FutureWarning):
    """An event name TikTok soft-deprecated (PlaceAnOrder, ClickButton: out of its docs in 2025,
    sunset in 2027). A FutureWarning, so Python shows it to the people running the code; filter
    it with `warnings.filterwarnings("ignore", category=DeprecatedEventWarning)`."""
