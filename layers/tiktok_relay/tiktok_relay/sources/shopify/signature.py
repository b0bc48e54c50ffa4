"""Shopify webhook signatures: `X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(raw body, secret)).

    verify_shopify_signature(headers, raw_body, parse_secrets(os.environ["SHOPIFY_WEBHOOK_SECRET"]))

- The HMAC is over the body bytes exactly as delivered: verify before any JSON parsing.
  Behind API Gateway, turn the event's `body` into those bytes with
  `tiktok_relay.pipeline.receive.raw_body_from_apigw`.
- Header names are case-insensitive; the un-prefixed `shopify-hmac-sha256` that Shopify's
  newer "Events" delivery sends is accepted too.
- Several secrets can be configured (comma-separated in SHOPIFY_WEBHOOK_SECRET): during a
  secret rotation Shopify may keep signing with the old secret for about an hour, so list
  the new and the old one and drop the old one later.
- Digests are compared in constant time, on the decoded 32 bytes.
- Error messages say what is wrong (missing, not base64, no match) and never carry the
  header value or a secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence

from tiktok_relay.errors import ConfigurationError, SignatureError
from tiktok_relay.sources.common.signing import header, parse_secrets

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
# Lowercased names the signature may arrive under, in order of preference.
_HMAC_HEADER_NAMES = ("x-shopify-hmac-sha256", "shopify-hmac-sha256")
SECRET_VARIABLE = "SHOPIFY_WEBHOOK_SECRET"
_DIGEST_SIZE = hashlib.sha256().digest_size  # 32


def sign(raw_body: bytes, secret: str) -> str:
    """The `X-Shopify-Hmac-Sha256` value Shopify would send for `raw_body` (tests, replays, events/)."""
    if isinstance(raw_body, str):
        raw_body = raw_body.encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), bytes(raw_body), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _decode_signature(value: str) -> bytes:
    text = value.strip()
    try:
        digest = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{HMAC_HEADER} is not base64") from None
    if len(digest) != _DIGEST_SIZE:
        raise SignatureError(f"{HMAC_HEADER} is not a base64 HMAC-SHA256 digest (wrong length)")
    return digest


def verify_shopify_signature(headers: Mapping[str, str], raw_body: bytes, secrets: Sequence[str], *,
                             configured_in: str = SECRET_VARIABLE) -> None:
    """Return None when the delivery is signed with one of `secrets`; raise SignatureError otherwise.

    Raises ConfigurationError when no secret is configured (that is a deployment problem,
    not a bad delivery). `configured_in` says where the secrets come from, for the message.
    """
    if isinstance(secrets, str):  # one secret (or a comma-separated list) passed as a plain string
        secrets = parse_secrets(secrets)
    keys = [secret.encode("utf-8") for secret in (secrets or ()) if isinstance(secret, str) and secret.strip()]
    if not keys:
        raise ConfigurationError(
            f"{SECRET_VARIABLE} is not set; it is needed to verify Shopify webhooks "
            "(the app's client secret, or the key shown under Settings > Notifications > Webhooks)"
        )
    value = None
    for name in _HMAC_HEADER_NAMES:
        value = header(headers, name)
        if value is not None:
            break
    if value is None or not value.strip():
        raise SignatureError(f"{HMAC_HEADER} header is missing")
    received = _decode_signature(value)
    if isinstance(raw_body, str):
        raw_body = raw_body.encode("utf-8")
    body = bytes(raw_body)
    matched = False
    for key in keys:  # every secret is tried, so timing does not tell which one matched
        expected = hmac.new(key, body, hashlib.sha256).digest()
        matched |= hmac.compare_digest(expected, received)
    if not matched:
        raise SignatureError(f"{HMAC_HEADER} matches no configured secret ({configured_in})")
