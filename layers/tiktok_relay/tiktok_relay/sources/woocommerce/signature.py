"""WooCommerce webhook signatures: `X-WC-Webhook-Signature` = base64(HMAC-SHA256(raw body, secret)).

WooCommerce's `WC_Webhook::generate_signature` computes `base64_encode(hash_hmac('sha256', $body,
$secret, true))` over the JSON body exactly as it sends it, with the webhook's secret (after
decoding HTML entities in it: use a secret of letters and digits). Several secrets can be listed,
comma-separated in WOOCOMMERCE_WEBHOOK_SECRET (each webhook of a store has its own secret; list
them all, or old and new while changing one). The check is the one Shopify's deliveries get
(tiktok_relay.sources.common.signing): constant time, every secret tried.
"""

from __future__ import annotations

from tiktok_relay.sources.common.signing import BodySignature

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
SECRET_VARIABLE = "WOOCOMMERCE_WEBHOOK_SECRET"
SIGNATURE = BodySignature(
    label=SIGNATURE_HEADER,
    names=("x-wc-webhook-signature",),
    variable=SECRET_VARIABLE,
    hint="WooCommerce webhooks (the Secret of each webhook under WooCommerce > Settings > Advanced > Webhooks)",
)


def sign(raw_body: bytes, secret: str) -> str:
    """The `X-WC-Webhook-Signature` value WooCommerce would send for `raw_body`."""
    return SIGNATURE.sign(raw_body, secret)
