"""Stripe webhook signatures: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`.

Stripe's scheme (docs.stripe.com/webhooks/signatures; stripe-python's `WebhookSignature`):

- The signed payload is `"{t}.{raw body}"`; v1 = hex(HMAC-SHA256(endpoint secret, signed payload)),
  the secret being the whole `whsec_...` string. Any v1 entry may match (Stripe sends one per
  active secret while an endpoint's secret is rolled); other schemes (v0, test mode's) are ignored.
- `t` must be within TOLERANCE_SECONDS of now: a captured delivery cannot be replayed later.
  Stripe's libraries refuse only an old `t`; this also refuses one more than 5 minutes ahead
  (an assumption, the safe side: every retry is signed afresh, so nothing is lost).
- Several secrets can be configured, comma-separated in STRIPE_WEBHOOK_SECRET (each endpoint
  has its own; list the new and the old one while rolling). Digests are compared in constant
  time, every secret against every v1 entry (tiktok_relay.sources.common.signing).
- The clock is a parameter (`now`); errors never carry the header or a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence

from tiktok_relay.errors import SignatureError
from tiktok_relay.sources.common.signing import header, hmac_matches, secret_keys

SIGNATURE_HEADER = "Stripe-Signature"
SECRET_VARIABLE = "STRIPE_WEBHOOK_SECRET"
SECRET_HINT = "Stripe webhooks (the endpoint's signing secret, whsec_..., under Developers > Webhooks)"
TOLERANCE_SECONDS = 300  # Stripe's libraries' default (DEFAULT_TOLERANCE = 300)
# Bounds on what is parsed before any secret is touched: Stripe sends a timestamp and one or two
# v1 entries (plus v0 in test mode), well under a hundred characters each.
MAX_HEADER_LENGTH = 2048
MAX_SIGNATURES = 8
_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)


def sign(raw_body: bytes | str, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` value Stripe would send for `raw_body` at `timestamp` (tests, sign, events/)."""
    body = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
    digest = hmac.new(secret.encode("utf-8"), f"{int(timestamp)}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={int(timestamp)},v1={digest}"


def verify_stripe_signature(headers: Mapping[str, str], raw_body: bytes | str, secrets: Sequence[str] | str, *,
                            now: float) -> int:
    """The signed timestamp, when `raw_body` is signed with one of `secrets` within
    TOLERANCE_SECONDS of `now`; SignatureError saying what is wrong otherwise (missing, no
    timestamp, no v1, no match, too old, ahead). ConfigurationError when no secret is configured."""
    timestamp, received = parse_header(headers)
    keys = secret_keys(secrets, SECRET_VARIABLE, SECRET_HINT)
    body = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
    if not hmac_matches(f"{timestamp}.".encode() + body, received, keys):
        raise SignatureError(f"{SIGNATURE_HEADER} matches no configured secret ({SECRET_VARIABLE})")
    if timestamp < now - TOLERANCE_SECONDS:
        raise SignatureError(f"{SIGNATURE_HEADER} was signed more than {TOLERANCE_SECONDS // 60} minutes ago: a "
                             "replayed delivery (Stripe signs every retry afresh)")
    if timestamp > now + TOLERANCE_SECONDS:
        raise SignatureError(f"{SIGNATURE_HEADER} is dated more than {TOLERANCE_SECONDS // 60} minutes ahead of "
                             "this clock")
    return timestamp


def parse_header(headers: Mapping[str, str]) -> tuple[int, list[bytes]]:
    """(t, the v1 digests) of the request's Stripe-Signature; SignatureError naming what is missing
    or malformed. Needs no secret: the source calls it before any secret is read."""
    value = header(headers, SIGNATURE_HEADER)
    if value is None or not value.strip():
        raise SignatureError(f"{SIGNATURE_HEADER} header is missing")
    if len(value) > MAX_HEADER_LENGTH:
        raise SignatureError(f"{SIGNATURE_HEADER} is longer than {MAX_HEADER_LENGTH} characters: not what Stripe sends")
    timestamp: int | None = None
    digests: list[bytes] = []
    for item in value.split(","):
        key, _, entry = (part.strip() for part in item.partition("="))
        if key == "t" and timestamp is None and _TIMESTAMP.fullmatch(entry):
            timestamp = int(entry)
        elif key == "v1" and _HEX_DIGEST.fullmatch(entry):
            digests.append(bytes.fromhex(entry))
    if timestamp is None:
        raise SignatureError(f"{SIGNATURE_HEADER} has no timestamp (t=)")
    if not digests:
        raise SignatureError(f"{SIGNATURE_HEADER} has no v1 signature")
    if len(digests) > MAX_SIGNATURES:
        raise SignatureError(f"{SIGNATURE_HEADER} has more than {MAX_SIGNATURES} v1 signatures: not what Stripe sends")
    return timestamp, digests
