"""Match keys are counted in one place (tiktok/matching.py): what counts as carrying a key, the
counts, the estimate of TikTok's Event Match Quality and the order of the keys missing most."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tiktok_relay.tiktok.matching import (
    EMQ_SCALE,
    EMQ_WEIGHTS,
    MATCH_KEYS,
    Coverage,
    count_match_keys,
    estimated_match_quality,
    match_keys,
)
from tiktok_relay.tiktok.models import Event

HASH = "a" * 64


def test_the_keys_are_the_seven_tiktok_matches_on_in_the_relied_upon_order():
    assert MATCH_KEYS == ("email", "phone", "external_id", "ip", "user_agent", "ttclid", "ttp")
    assert set(EMQ_WEIGHTS) == set(MATCH_KEYS)


def test_the_weights_sum_to_the_scale_so_every_key_on_every_event_scores_ten():
    assert sum(EMQ_WEIGHTS.values()) == EMQ_SCALE == 10
    everything = {"user": {"email": [HASH], "phone": [HASH], "external_id": [HASH], "ip": "203.0.113.9",
                           "user_agent": "Mozilla/5.0", "ttclid": "E.C.P.x", "ttp": "abc"}}
    assert Coverage.of([everything]).estimated_match_quality() == 10.0


def test_an_event_built_by_the_library_carries_the_keys_it_was_given():
    event = Event.model_validate({"event": "Purchase", "event_time": 1767225600, "event_id": "o-1",
                                  "user": {"email": "Ada@Example.com", "ttclid": "E.C.P.abc", "ip": "203.0.113.9"}})
    assert match_keys(event.wire()) == ("email", "ip", "ttclid")


@pytest.mark.parametrize(("user", "keys"), [
    ({"email": [HASH]}, ("email",)),
    ({"email": HASH}, ("email",)),  # a single hash as a string, as some clients send it
    ({"email": []}, ()),
    ({"email": ["", "  "]}, ()),  # only blanks: nothing to match on
    ({"phone": [None, HASH]}, ("phone",)),
    ({"ip": ""}, ()),
    ({"ttp": 12345}, ()),  # not a string: TikTok could not use it
    ({"first_name": HASH, "zip_code": HASH, "locale": "en-GB"}, ()),  # extra signals, not match keys
])
def test_what_counts_as_carrying_a_key(user, keys):
    assert match_keys({"event": "Purchase", "user": user}) == keys


@pytest.mark.parametrize("event", [{}, {"user": None}, {"user": "someone"}, {"user": [HASH]}, None, "event", 7])
def test_an_event_without_a_user_object_carries_no_key(event):
    assert match_keys(event) == ()


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
                        [*MATCH_KEYS, "user", "x"]), inner, max_size=4), max_leaves=12))
def test_counting_never_raises_on_any_json(value):
    counts = count_match_keys([value, {"user": value}])
    assert list(counts) == list(MATCH_KEYS) and all(0 <= n <= 2 for n in counts.values())


def test_counts_list_every_key_and_count_each_event_once():
    events = [{"user": {"email": [HASH, HASH], "phone": [HASH]}},  # two emails: one event with an email
              {"user": {"email": [HASH], "ttclid": "E.C.P.x"}},
              {"user": {}}]
    assert count_match_keys(events) == {"email": 2, "phone": 1, "external_id": 0, "ip": 0, "user_agent": 0,
                                        "ttclid": 1, "ttp": 0}


def test_the_estimate_is_the_weighted_average_of_the_coverages():
    # 4 events: email on all, phone on 2, ttclid on 1; nothing else.
    counts = {"email": 4, "phone": 2, "ttclid": 1}
    expected = (2.0 * 1 + 2.0 * 0.5 + 2.0 * 0.25) / 10 * 10
    assert estimated_match_quality(counts, 4) == round(expected, 1) == 3.5
    assert estimated_match_quality({}, 4) == 0.0
    assert estimated_match_quality(counts, 0) is None  # no events: no estimate, not a zero
    assert estimated_match_quality({"email": 9}, 4) == 2.0  # a count above the events is capped


def test_the_keys_missing_most_often_come_first_heavier_ones_first_among_equals():
    events = [{"user": {"email": [HASH], "ip": "203.0.113.9", "user_agent": "UA"}},
              {"user": {"email": [HASH], "phone": [HASH], "ip": "203.0.113.9", "user_agent": "UA"}},
              {"user": {"email": [HASH], "phone": [HASH], "ttp": "t"}}]
    coverage = Coverage.of(events)
    # missing: external_id 3, ttclid 3, ttp 2, phone 1, ip 1, user_agent 1; email never.
    assert coverage.missing_most_often() == ["ttclid", "external_id", "ttp", "phone", "ip", "user_agent"]
    assert coverage.share("phone") == pytest.approx(2 / 3) and coverage.missing("email") == 0
    assert Coverage.of([]).missing_most_often() == [] and Coverage.of([]).share("email") == 0.0
