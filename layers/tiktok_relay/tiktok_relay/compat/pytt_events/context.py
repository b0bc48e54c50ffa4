"""pytt-events-api's `Ad`, `Page`, `User` and `Context`. On Events API 2.0 they all become the
event's `user` and `page`: `Ad.callback` is `user.ttclid`, `Context.ip` and `user_agent` are
`user.ip` and `user.user_agent`, `User.phone_number` is `user.phone`. Identifiers are
normalized and hashed when the `Context` is built (errors name pytt's fields, never values)."""

from __future__ import annotations

from typing import Any

from tiktok_relay.compat.pytt_events._convert import build
from tiktok_relay.tiktok import models


class Ad:
    """The ad click: `callback` is the ttclid (any format TikTok issues; pytt required E.C.P.)."""

    def __init__(self, *, callback: str | None = None):
        self.callback = callback


class Page:
    def __init__(self, *, url: str | None = None, referrer: str | None = None):
        self.url = url
        self.referrer = referrer
        self._page = build(models.Page, {"url": url, "referrer": referrer}, "page")


class User:
    """The customer's identifiers, raw or already SHA-256 hashed. A phone without `+country`
    needs `phone_region` (which pytt did not have)."""

    def __init__(self, *, external_id: str | None = None, email: str | None = None,
                 phone_number: str | None = None, ttp: str | None = None, phone_region: str | None = None):
        self.external_id, self.email, self.phone_number, self.ttp = external_id, email, phone_number, ttp
        self.phone_region = phone_region
        # Built now, so a bad value is an error here, as with pytt; only hashes are kept.
        self._fields = self._user({}).model_dump(exclude_none=True)

    def _user(self, extra: dict[str, Any]) -> models.User:
        return build(models.User, {"external_id": self.external_id, "email": self.email, "phone": self.phone_number,
                                   "ttp": self.ttp, "phone_region": self.phone_region, **extra}, "user")

    def __repr__(self) -> str:  # never the raw identifiers
        return "User(***)"


class Context:
    def __init__(self, *, user_agent: str | None = None, ip: str | None = None, ad: Ad | None = None,
                 page: Page | None = None, user: User | None = None):
        self.user_agent, self.ip, self.ad, self.page, self.user = user_agent, ip, ad, page, user
        signals = {"ip": ip, "user_agent": user_agent, "ttclid": ad.callback if ad else None}
        self._user = build(models.User, {**(user._fields if user else {}), **signals}, "user")
