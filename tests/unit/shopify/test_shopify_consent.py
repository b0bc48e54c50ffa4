"""The buyer's consent, recorded by the storefront in cart attributes, honoured as SHOPIFY_CONSENT
says, on orders, checkouts and carts: attributes present, absent and contradictory."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.shopify import load, order, run
from tiktok_relay.errors import ConfigurationError
from tiktok_relay.sources.shopify.mapping.consent import MARKETING, SALE_OF_DATA, recorded_consent
from tiktok_relay.sources.shopify.settings import ShopifySettings

CHECKOUT = load("realworld/21_checkouts-update_rudderstack-national-phone-2024.json")
CART = load("realworld/26_carts-update_shopify-sample-2021-07.json")
TOPICS = {"orders/paid": lambda: order(), "checkouts/update": lambda: copy.deepcopy(CHECKOUT),
          "carts/update": lambda: copy.deepcopy(CART)}


def with_attributes(topic: str, *pairs: tuple[str, object], where: str = "note_attributes") -> dict:
    """The topic's real payload with these cart attributes added where the payload keeps them."""
    payload = TOPICS[topic]()
    if where == "line_items":
        payload["line_items"][0]["properties"] = [{"name": n, "value": v} for n, v in pairs]
    elif where == "attributes":  # the object form ({name: value}) some payloads use
        payload["attributes"] = dict(pairs)
    else:
        payload["note_attributes"] = [*(payload.get("note_attributes") or []),
                                      *({"name": n, "value": v} for n, v in pairs)]
    return payload


GRANTED = ((MARKETING, "granted"), (SALE_OF_DATA, "granted"))
MARKETING_DENIED = ((MARKETING, "denied"), (SALE_OF_DATA, "granted"))
SALE_DENIED = ((MARKETING, "granted"), (SALE_OF_DATA, "denied"))
ABSENT: tuple = ()

# (mode, recorded attributes) -> sent?, limited_data_use on the wire
EXPECTED = [
    ("respect", ABSENT, True, None),
    ("respect", GRANTED, True, None),
    ("respect", MARKETING_DENIED, False, None),
    ("respect", SALE_DENIED, True, True),
    ("respect", ((SALE_OF_DATA, "denied"),), True, True),  # no marketing record, an opt-out of sale
    ("require", ABSENT, False, None),
    ("require", GRANTED, True, None),
    ("require", MARKETING_DENIED, False, None),
    ("require", SALE_DENIED, True, True),
    ("require", ((SALE_OF_DATA, "granted"),), False, None),  # sale recorded, marketing not: not a grant
    ("ignore", ABSENT, True, None),
    ("ignore", MARKETING_DENIED, True, None),
    ("ignore", SALE_DENIED, True, None),
]


@pytest.mark.parametrize("topic", sorted(TOPICS))
@pytest.mark.parametrize(("mode", "pairs", "sent", "limited"), EXPECTED)
def test_each_mode_sends_what_the_recorded_consent_allows(topic, mode, pairs, sent, limited):
    result = run(topic, with_attributes(topic, *pairs), consent=mode)
    assert result.sent is sent, result.reason
    if sent:
        assert result.events[0].wire().get("limited_data_use") is limited
    else:
        assert result.reason.startswith("consent: ")


@pytest.mark.parametrize("where", ["note_attributes", "attributes", "line_items"])
@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_consent_is_read_wherever_a_payload_carries_cart_attributes(topic, where):
    assert not run(topic, with_attributes(topic, *MARKETING_DENIED, where=where)).sent
    assert run(topic, with_attributes(topic, *GRANTED, where=where), consent="require").sent


CONTRADICTORY = {
    "both values": ((MARKETING, "granted"), (MARKETING, "denied")),
    "both values, names in other case": ((MARKETING, "granted"), ("_TT_Marketing", "denied")),
    "a list": ((MARKETING, ["granted"]),),
    "a list holding both": ((MARKETING, ["granted", "denied"]),),
    "another word": ((MARKETING, "yes"),),
    "a boolean": ((MARKETING, True),),
    "null": ((MARKETING, None),),
    "blank": ((MARKETING, "  "),),
    "granted and a typo": ((MARKETING, "granted"), (MARKETING, "grantd")),
}


@pytest.mark.parametrize("mode", ["respect", "require"])
@pytest.mark.parametrize("topic", sorted(TOPICS))
@pytest.mark.parametrize("case", sorted(CONTRADICTORY))
def test_a_contradictory_or_unreadable_marketing_record_is_read_as_denied(case, topic, mode):
    result = run(topic, with_attributes(topic, *CONTRADICTORY[case], (SALE_OF_DATA, "granted")), consent=mode)
    assert not result.sent
    assert result.reason.startswith("consent: ") and "read as denied" in result.reason


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_a_grant_in_one_place_and_a_refusal_in_another_is_a_refusal(topic):
    payload = with_attributes(topic, *GRANTED)
    payload["line_items"][0]["properties"] = [{"name": MARKETING, "value": "denied"}]
    assert not run(topic, payload).sent


@pytest.mark.parametrize("case", sorted(CONTRADICTORY))
def test_a_contradictory_sale_of_data_record_sets_limited_data_use(case):
    pairs = tuple((SALE_OF_DATA, value) for _, value in CONTRADICTORY[case])
    wire = run("orders/paid", with_attributes("orders/paid", (MARKETING, "granted"), *pairs)).events[0].wire()
    assert wire["limited_data_use"] is True


def test_names_and_words_are_read_in_any_case_and_trimmed():
    consent = recorded_consent({"note_attributes": [{"name": " _TT_MARKETING ", "value": " Granted "},
                                                    {"key": "_tt_Sale_Of_Data", "value": "DENIED"}]})
    assert (consent.marketing, consent.sale_of_data) == ("granted", "denied")


def test_attributes_of_other_names_record_nothing():
    payload = with_attributes("orders/paid", ("_tt_marketing_x", "denied"), ("tt_marketing", "denied"),
                              ("marketing", "denied"))
    assert recorded_consent(payload) == recorded_consent({})
    assert run("orders/paid", payload).sent


def test_a_consent_reason_names_the_attribute_never_its_value():
    secret = "granted-by-ada@example.com"
    result = run("orders/paid", with_attributes("orders/paid", (MARKETING, secret)))
    assert MARKETING in result.reason and secret not in result.reason and "example.com" not in result.reason


def test_a_refused_cart_is_still_remembered_so_a_later_grant_counts_from_the_cart_as_it_is():
    payload = with_attributes("carts/update", *MARKETING_DENIED)
    refused = run("carts/update", payload)
    assert not refused.sent and refused.state == {"lines": {"704912205188288575": 3}}


def test_ignore_never_reads_the_attributes():
    payload = with_attributes("orders/paid", *CONTRADICTORY["a list"], (SALE_OF_DATA, "denied"))
    assert "limited_data_use" not in run("orders/paid", payload, consent="ignore").events[0].wire()


def test_customers_carry_no_consent_record_so_require_sends_no_registration():
    customer = {**load("shopify_customers_create.json"), "state": "enabled"}
    assert run("customers/create", copy.deepcopy(customer)).sent
    assert run("customers/create", copy.deepcopy(customer), consent="require").reason.startswith("consent: ")


def test_the_setting_is_read_from_the_environment_and_checked():
    assert ShopifySettings.from_env({}).consent == "respect"
    assert ShopifySettings.from_env({"SHOPIFY_CONSENT": " Require "}).consent == "require"
    with pytest.raises(ConfigurationError, match="SHOPIFY_CONSENT must be respect, require or ignore"):
        ShopifySettings.from_env({"SHOPIFY_CONSENT": "strict"})


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=3), max_leaves=8)


@given(attributes=json_values, lines=json_values, mode=st.sampled_from(["respect", "require", "ignore"]))
def test_any_attribute_shape_gives_a_decision_and_never_raises(attributes, lines, mode):
    payload = order(note_attributes=attributes)
    payload["line_items"][0]["properties"] = lines
    result = run("orders/paid", payload, consent=mode)
    assert result.sent or result.reason
