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
- Digests are compared in constant time, on the decoded 32 bytes
  (tiktok_relay.sources.common.signing, which WooCommerce's signature shares).
- Error messages say what is wrong (missing, not base64, no match) and never carry the
  header value or a secret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tiktok_relay.sources.common.signing import BodySignature

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
SECRET_VARIABLE = "SHOPIFY_WEBHOOK_SECRET"
SIGNATURE = BodySignature(
    label=HMAC_HEADER,
    # Lowercased names the signature may arrive under, in order of preference.
    names=("x-shopify-hmac-sha256", "shopify-hmac-sha256"),
    variable=SECRET_VARIABLE,
    hint="Shopify webhooks (the app's client secret, or the key shown under Settings > Notifications > Webhooks)",
)


def sign(raw_body: bytes, secret: str) -> str:
    """The `X-Shopify-Hmac-Sha256` value Shopify would send for `raw_body` (tests, replays, events/)."""
    return SIGNATURE.sign(raw_body, secret)


def verify_shopify_signature(headers: Mapping[str, str], raw_body: bytes, secrets: Sequence[str], *,
                             configured_in: str = SECRET_VARIABLE) -> None:
    """Return None when the delivery is signed with one of `secrets`; raise SignatureError otherwise.

    Raises ConfigurationError when no secret is configured (that is a deployment problem,
    not a bad delivery). `configured_in` says where the secrets come from, for the message.
    """
    SIGNATURE.verify(headers, raw_body, secrets, configured_in=configured_in)
