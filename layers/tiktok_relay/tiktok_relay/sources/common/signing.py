"""Webhook signature helpers every store uses: secrets from one setting, and header lookup."""

from __future__ import annotations

from collections.abc import Mapping


def parse_secrets(text: str | None) -> list[str]:
    """Secrets from one variable: comma-separated, each trimmed, empty entries dropped. Several
    secrets let a rotation overlap: list the new and the old one, drop the old one later."""
    if not text:
        return []
    return [part.strip() for part in text.split(",") if part.strip()]


def header(headers: Mapping[str, object] | None, name: str) -> str | None:
    """The value of header `name`, matched case-insensitively; None when absent or not a string.

    A list value (API Gateway `multiValueHeaders`) gives its first item.
    """
    if not headers:
        return None
    wanted = name.lower()
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if isinstance(key, str) and key.lower() == wanted:
                value = candidate
                break
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return value if isinstance(value, str) else None
