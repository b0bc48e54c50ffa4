"""Stripe-Signature: t=...,v1=... over "{t}.{raw body}", any v1 entry, several secrets, a tolerance
of 5 minutes on t against an injected clock; and what the signed body must be."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from tests.support.stores import stripe_event
from tiktok_relay.errors import ConfigurationError, DeliveryRejected, SignatureError
from tiktok_relay.pipeline.runtime import StaticSecret
from tiktok_relay.sources.stripe.receiver import StripeSource
from tiktok_relay.sources.stripe.settings import StripeSettings
from tiktok_relay.sources.stripe.signature import TOLERANCE_SECONDS, sign, verify_stripe_signature

SECRET = "whsec_test_0123456789abcdef"
T = 1_795_600_000
BODY = json.dumps(stripe_event(), separators=(",", ":")).encode()


def digest(secret: str, t: int, body: bytes = BODY) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def signed(value: str) -> dict[str, str]:
    return {"stripe-signature": value}


def check(header: str, *, now: float = T, secrets=SECRET, body: bytes = BODY) -> int:
    return verify_stripe_signature(signed(header), body, secrets, now=now)


def test_the_header_is_what_stripe_sends():
    assert sign(BODY, SECRET, T) == f"t={T},v1={digest(SECRET, T)}"


def test_a_good_signature_gives_its_timestamp():
    assert check(sign(BODY, SECRET, T)) == T


def test_any_v1_entry_may_match_and_other_schemes_are_ignored():
    header = f"t={T},v1={'0' * 64},v0={digest(SECRET, T)},v1={digest(SECRET, T)}"
    assert check(header) == T


def test_a_v0_signature_alone_is_no_proof():
    with pytest.raises(SignatureError, match="no v1 signature"):
        check(f"t={T},v0={digest(SECRET, T)}")


def test_several_secrets_any_one_verifies_a_rolled_endpoint():
    for secret in ("whsec_old", "whsec_new"):
        assert check(sign(BODY, secret, T), secrets="whsec_new,whsec_old") == T


def test_a_wrong_secret_is_refused_naming_the_setting_not_the_value():
    with pytest.raises(SignatureError) as refused:
        check(sign(BODY, "whsec_other", T))
    assert "STRIPE_WEBHOOK_SECRET" in str(refused.value) and SECRET not in str(refused.value)


def test_a_tampered_body_is_refused():
    with pytest.raises(SignatureError, match="matches no configured secret"):
        check(sign(BODY, SECRET, T), body=BODY.replace(b"4895", b"9999"))


def test_the_timestamp_is_signed_too():
    with pytest.raises(SignatureError, match="matches no configured secret"):
        check(f"t={T + 1},v1={digest(SECRET, T)}", now=T + 1)


@pytest.mark.parametrize("age", [0, 1, TOLERANCE_SECONDS])
def test_within_five_minutes_the_signature_holds(age):
    assert check(sign(BODY, SECRET, T), now=T + age) == T


def test_an_expired_timestamp_is_a_replay_and_refused():
    with pytest.raises(SignatureError, match="more than 5 minutes ago"):
        check(sign(BODY, SECRET, T), now=T + TOLERANCE_SECONDS + 1)


def test_a_timestamp_far_ahead_of_the_clock_is_refused():
    with pytest.raises(SignatureError, match="ahead"):
        check(sign(BODY, SECRET, T), now=T - TOLERANCE_SECONDS - 1)


def test_an_expired_signature_that_does_not_match_says_it_does_not_match():
    with pytest.raises(SignatureError, match="matches no configured secret"):
        check(sign(BODY, "whsec_other", T), now=T + 3600)


@pytest.mark.parametrize(("header", "problem"), [
    ("", "header is missing"), ("   ", "header is missing"),
    (f"v1={'a' * 64}", "no timestamp"), ("t=abc,v1=" + "a" * 64, "no timestamp"),
    (f"t={T}", "no v1 signature"), (f"t={T},v1=xyz", "no v1 signature"), (f"t={T},v1={'a' * 63}", "no v1"),
    (f"t={T}," + ",".join([f"v1={'a' * 64}"] * 9), "more than 8"), ("t=1," + "x" * 3000, "longer than"),
])
def test_a_malformed_header_is_refused_saying_what_is_wrong(header, problem):
    with pytest.raises(SignatureError, match=problem):
        check(header)


def test_no_configured_secret_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="STRIPE_WEBHOOK_SECRET is not set"):
        check(sign(BODY, SECRET, T), secrets="")


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def source(clock: Clock, secrets: str = SECRET) -> StripeSource:
    return StripeSource(secrets=StaticSecret(secrets), settings=StripeSettings(), pixel_id="CPIXEL", clock=clock)


def test_the_source_checks_against_its_injected_clock_and_names_the_delivery_by_the_signed_event():
    clock = Clock(T + 10)
    delivery = source(clock).verify(signed(sign(BODY, SECRET, T)), BODY)
    assert (delivery.webhook_id, delivery.signed_id, delivery.topic, delivery.shop) == (
        "evt_1QdemoSessionCompleted0001", "evt_1QdemoSessionCompleted0001", "checkout.session.completed", "stripe")
    clock.now = T + TOLERANCE_SECONDS + 10
    with pytest.raises(SignatureError, match="more than 5 minutes ago"):
        source(clock).verify(signed(sign(BODY, SECRET, T)), BODY)


def test_a_connect_event_names_its_account():
    body = json.dumps({**stripe_event(), "account": "acct_1Demo"}).encode()
    assert source(Clock(T)).verify(signed(sign(body, SECRET, T)), body).shop == "acct_1Demo"


@pytest.mark.parametrize("body", [b"webhook_id=1", b"[]", b'{"object": "charge"}', b'{"object": "event"}',
                                  b'{"object": "event", "id": "evt_1", "type": "x y"}',
                                  b'{"object": "event", "id": "cus_1", "type": "a.b"}',
                                  b'{"object": "event", "id": "evt_1", "type": "a.b", "account": 5}'])
def test_a_signed_body_that_is_no_stripe_event_is_a_bad_request(body):
    with pytest.raises(DeliveryRejected):
        source(Clock(T)).verify(signed(sign(body, SECRET, T)), body)


def test_an_unsigned_request_is_refused_before_any_secret_is_read():
    class Unreadable:
        def get(self, *, refresh: bool = False) -> str:
            raise AssertionError("the secret was read")

    unread = StripeSource(secrets=Unreadable(), settings=StripeSettings(), pixel_id="CPIXEL", clock=Clock(T))
    with pytest.raises(SignatureError, match="header is missing"):
        unread.verify({}, BODY)
