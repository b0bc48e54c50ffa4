"""Webhook signature helpers every store uses: secrets from one setting, header lookup, HMAC-SHA256
tried in constant time against every configured secret, one re-read of rotated secrets, and the
checks on the identity headers a signature does not cover.

    BodySignature("X-WC-Webhook-Signature", ...).verify(headers, raw_body, parse_secrets(text))

- Digests are compared with hmac.compare_digest on the raw bytes, every secret (and every digest
  the request offers) each time, so timing tells neither which secret nor which digest matched.
- Error messages say what is wrong (missing, not base64, no match) and never carry a header
  value or a secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tiktok_relay.errors import ConfigurationError, DeliveryRejected, SignatureError

if TYPE_CHECKING:
    from tiktok_relay.pipeline.ports import SecretSource

DIGEST_SIZE = hashlib.sha256().digest_size  # 32


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


def secret_keys(secrets: Sequence[str] | str | None, variable: str, hint: str) -> list[bytes]:
    """The configured secrets as HMAC keys. ConfigurationError naming `variable` (and saying
    what the secret is, `hint`) when there is none: a deployment problem, not a bad delivery."""
    if isinstance(secrets, str):  # one secret (or a comma-separated list) passed as a plain string
        secrets = parse_secrets(secrets)
    keys = [secret.encode("utf-8") for secret in (secrets or ()) if isinstance(secret, str) and secret.strip()]
    if not keys:
        raise ConfigurationError(f"{variable} is not set; it is needed to verify {hint}")
    return keys


def hmac_matches(message: bytes, received: Sequence[bytes], keys: Sequence[bytes]) -> bool:
    """Whether one of the `received` digests is HMAC-SHA256(key, message) for one of `keys`.
    Every key is tried and compared with every received digest, the match or not."""
    matched = False
    for key in keys:
        expected = hmac.new(key, message, hashlib.sha256).digest()
        for digest in received:
            matched |= hmac.compare_digest(expected, digest)
    return matched


def base64_digest(value: str, label: str) -> bytes:
    """The 32 bytes of a base64 HMAC-SHA256 header value; SignatureError naming `label` otherwise."""
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{label} is not base64") from None
    if len(digest) != DIGEST_SIZE:
        raise SignatureError(f"{label} is not a base64 HMAC-SHA256 digest (wrong length)")
    return digest


@dataclass(frozen=True)
class BodySignature:
    """A store that signs each delivery with base64(HMAC-SHA256(raw body, secret)) in one header
    (Shopify, WooCommerce)."""

    label: str  # the header as the store's documentation spells it, for messages
    names: tuple[str, ...]  # the lower-case names it may arrive under, in order of preference
    variable: str  # the setting that holds the secrets, for messages
    hint: str  # which webhooks the secret verifies, and where to find it

    def sign(self, raw_body: bytes | str, secret: str) -> str:
        """The header value the store would send for `raw_body` (tests, replays, events/)."""
        body = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
        return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")

    def received(self, headers: Mapping[str, str]) -> bytes:
        """The digest the request offers; SignatureError when it is missing or not one. Needs no
        secret: a source calls it first, so that a request without a signature is refused (401)
        before any secret is read, even where none is configured."""
        value = next((found for name in self.names if (found := header(headers, name)) is not None), None)
        if value is None or not value.strip():
            raise SignatureError(f"{self.label} header is missing")
        return base64_digest(value, self.label)

    def verify(self, headers: Mapping[str, str], raw_body: bytes | str, secrets: Sequence[str] | str, *,
               configured_in: str | None = None) -> None:
        """None when the delivery is signed with one of `secrets`; SignatureError otherwise (naming
        where the secrets are configured: `configured_in`, else the variable). ConfigurationError
        when no secret is configured."""
        keys = secret_keys(secrets, self.variable, self.hint)
        received = self.received(headers)
        body = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
        if not hmac_matches(body, (received,), keys):
            raise SignatureError(f"{self.label} matches no configured secret ({configured_in or self.variable})")


def verify_with_refresh(secrets: SecretSource, check: Callable[[list[str]], object]) -> None:
    """`check(the configured secrets)`; when it raises SignatureError, the secrets are read again
    (a rotated secret may still be cached) and checked once more only if they changed. A refresh
    is rate-limited and then returns the cached secrets: a forged request costs one pass over
    each secret, not two."""
    current = parse_secrets(secrets.get())
    try:
        check(current)
    except SignatureError:
        fresh = parse_secrets(secrets.get(refresh=True))
        if fresh == current:
            raise
        check(fresh)


def plain_header(headers: Mapping[str, str], name: str) -> str | None:
    """`name`'s value (lower-case names, as API Gateway hands them over), trimmed; None if blank."""
    value = headers.get(name)
    return value.strip() if value and value.strip() else None


def identity_headers(headers: Mapping[str, str], limits: Mapping[str, int], store: str,
                     lookup: Callable[[Mapping[str, str], str], str | None] = plain_header) -> dict[str, str]:
    """The headers naming a delivery (`limits`: lower-case name -> longest value the store
    sends), each trimmed. No signature covers them and they end up in logs and queue messages:
    DeliveryRejected names the missing ones, or one that is longer or stranger (not printable
    ASCII) than what `store` sends."""
    found = {name: value for name in limits if (value := lookup(headers, name)) is not None}
    missing = [name for name in limits if name not in found]
    if missing:
        raise DeliveryRejected(f"missing header(s): {', '.join(missing)}")
    for name, value in found.items():
        if len(value) > limits[name] or not (value.isascii() and value.isprintable()):
            raise DeliveryRejected(f"header {name} is longer than {limits[name]} characters or not printable "
                                   f"ASCII: not what {store} sends")
    return found
