"""How Stripe writes amounts: integers in the currency's minor unit (docs.stripe.com/currencies,
"Minor units in API amounts"). 1000 is 10.00 USD, 1000 JPY (zero-decimal) and 1.000 KWD
(three-decimal).

The lists are Stripe's own, as published on that page:
- zero-decimal: the amount is not divided;
- three-decimal: divided by 1000 (Stripe asks that the last digit be 0; it is read as it is);
- every other currency: divided by 100. That includes Stripe's "special cases": ISK ("will remain a
  two-decimal currency in the Stripe API, and an ISK amount of 100 will continue to represent 1
  krona"), HUF and TWD (two-decimal for charges, zero-decimal only for payouts), and UGX, which is
  zero-decimal above (its special case concerns payouts).
"""

from __future__ import annotations

ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
                          "XAF", "XOF", "XPF"})
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def minor_unit_exponent(code: str) -> int:
    """How many decimal places Stripe's integer amounts in `code` (ISO 4217, any case) hold."""
    upper = code.strip().upper()
    if upper in ZERO_DECIMAL:
        return 0
    return 3 if upper in THREE_DECIMAL else 2
