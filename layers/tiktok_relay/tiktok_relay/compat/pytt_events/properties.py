"""pytt-events-api's `ContentType`, `Content` and `Properties`, as Events API 2.0 properties.

`content_type` is accepted on `Content` (pytt's README puts it there; pytt dropped it) and on
`Properties`; a value of 0 and duplicate contents are accepted (pytt refused both)."""

from __future__ import annotations

from enum import Enum

from tiktok_relay.compat.pytt_events._convert import build, text
from tiktok_relay.tiktok import models


class ContentType(str, Enum):
    PRODUCT = "product"
    PRODUCT_GROUP = "product_group"

    def __str__(self) -> str:
        return self.value


class Content:
    def __init__(self, *, quantity: int, price: float, content_id: str | None = None,
                 content_category: str | None = None, content_name: str | None = None,
                 content_type: ContentType | str | None = None):
        self.quantity, self.price, self.content_id = quantity, price, content_id
        self.content_category, self.content_name, self.content_type = content_category, content_name, content_type
        self._values = {"quantity": quantity, "price": price, "content_id": content_id,
                        "content_category": content_category, "content_name": content_name,
                        "content_type": text(content_type)}


class Properties:
    def __init__(self, *, currency: str | None = None, value: float | None = None, description: str | None = None,
                 query: str | None = None, status: str | None = None,
                 content_type: ContentType | str | None = None, contents: list[Content] | None = None):
        self.currency, self.value, self.description, self.query = currency, value, description, query
        self.status, self.content_type, self.contents = status, content_type, contents
        self._properties = build(models.Properties, {
            "currency": currency, "value": value, "description": description, "query": query, "status": status,
            "content_type": text(content_type),
            "contents": [content._values for content in contents] if contents is not None else None,
        }, "properties")
