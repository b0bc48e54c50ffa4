"""The currencies TikTok's Events API accepts in `properties.currency` (ISO 4217 codes).

TikTok's list, not a store's: every source maps its money to one of these or leaves value and
currency out (reference §6: SDK PixelProperties, the same list in PostHog).
"""

from __future__ import annotations

ACCEPTED_CURRENCIES = frozenset(
    "AED ARS AUD BDT BHD BIF BOB BRL CAD CHF CLP CNY COP CRC CZK DKK DZD EGP EUR GBP GTQ HKD HNL "
    "HUF IDR ILS INR ISK JPY KES KHR KRW KWD KZT MAD MOP MXN MYR NGN NIO NOK NZD OMR PEN PHP PKR "
    "PLN PYG QAR RON RUB SAR SEK SGD THB TRY TWD UAH USD VES VND ZAR".split()
)
