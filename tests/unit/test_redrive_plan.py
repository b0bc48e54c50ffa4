"""What redrive decides for one stored record (local/redrive.py `plan`): pure, the clock given."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from tests.support.dead_letters import NOW, OLD, SHOP, delivery, malformed, purchase, rejected, stale, undelivered
from tiktok_relay.local.redrive import Rules, plan
from tiktok_relay.pipeline.messages import DeadLetter

DAY2 = 48 * 3600
RULES = Rules(max_event_age=DAY2)


def test_a_message_that_failed_its_receives_goes_back_whole_as_it_was_queued():
    queued = delivery("wh-1", purchase("o-1"), purchase("o-2"))
    for record in (queued.to_message(), undelivered(queued)):  # as SQS moved it, as replay wrote it
        planned = plan(record, RULES, NOW)
        assert planned.resend == queued and planned.rest is None and planned.kept is None
        assert (planned.events, planned.stale, planned.rejected) == (2, 0, 0)


def test_refused_events_stay_unless_included_and_then_the_stale_rule_still_holds():
    fresh, old = rejected(delivery("wh-3", purchase("o-3"))), rejected(delivery("wh-4", purchase("o-4", OLD)))
    assert plan(fresh, RULES, NOW).kept == "rejected" and plan(fresh, RULES, NOW).rejected == 1
    included = Rules(max_event_age=DAY2, include_rejected=True)
    assert plan(fresh, included, NOW).resend is not None
    assert plan(old, included, NOW).kept == "stale"  # refused long ago: past the window as well


def test_a_partly_stale_record_sends_the_fresh_and_leaves_a_stale_letter_naming_its_shop():
    planned = plan(undelivered(delivery("wh-5", purchase("o-5"), purchase("o-6", OLD))), RULES, NOW)
    assert [e["event_id"] for e in planned.resend.request.data] == ["o-5"]
    rest = planned.rest.to_record()
    assert rest["reason"] == "stale" and [e["event_id"] for e in rest["request"]["data"]] == ["o-6"]
    assert (rest["webhook_id"], rest["shop"], rest["topic"], rest["source"]) == ("wh-5", SHOP, "orders/paid", "shopify")
    assert planned.stale == 1 and planned.events == 2


def test_force_sends_the_stale_with_the_mark_the_sender_honours():
    record = stale(delivery("wh-4", purchase("o-4", OLD)))
    assert plan(record, RULES, NOW).kept == "stale"
    forced = plan(record, Rules(max_event_age=DAY2, force=True), NOW)
    assert forced.resend.ignore_age is True and forced.stale == 0
    # Fresh events need no mark: a sender that predates it still reads the message.
    assert plan(undelivered(delivery("wh-1", purchase("o-1"))), Rules(max_event_age=DAY2, force=True),
                NOW).resend.ignore_age is None


def test_a_message_marked_already_goes_back_whatever_its_age():
    marked = delivery("wh-4", purchase("o-4", OLD)).model_copy(update={"ignore_age": True})
    assert plan(marked.to_message(), RULES, NOW).resend == marked


def test_the_limit_is_the_one_given_and_none_means_no_limit():
    record = undelivered(delivery("wh-1", purchase("o-1", NOW - 3 * 3600)))
    assert plan(record, Rules(max_event_age=2 * 3600), NOW).kept == "stale"
    assert plan(record, Rules(max_event_age=None), NOW).resend is not None


def test_unreadable_records_stay_and_say_why():
    cut = DeadLetter(reason="not delivered after 5 receives (max 5)", body='{"v":1,"sour',
                     cut=["body (its first 12 of 300000 characters kept)"]).to_json()
    for record, why in ((malformed(), "it holds no readable events (malformed queue message"),
                        (cut, "it holds no readable events (not delivered after 5 receives"),
                        ("{}", "neither a dead letter nor a queue message"),
                        ("[1, 2]", "neither a dead letter nor a queue message")):
        planned = plan(record, RULES, NOW)
        assert planned.kept == "unreadable" and planned.resend is None and planned.note.startswith(why), record


def test_a_letter_cut_to_fit_goes_back_with_what_it_kept_and_says_so():
    letter = json.loads(rejected(delivery("wh-c", purchase("o-c"))))
    letter["cut"] = ["request.data[].properties.contents"]
    planned = plan(json.dumps(letter), Rules(max_event_age=DAY2, include_rejected=True), NOW)
    assert planned.resend is not None and "cut to fit one SQS message" in planned.note


def test_a_letter_naming_no_shop_needs_one_only_where_the_sender_routes_by_shop():
    old = DeadLetter(reason="stale", webhook_id="wh-o", request=delivery("wh-o", purchase("o-o")).request).to_json()
    assert plan(old, RULES, NOW).resend.shop == ""  # a file: posted with the one configured token
    assert plan(old, Rules(max_event_age=DAY2, need_shop=True), NOW).kept == "unreadable"
    assert plan(old, Rules(max_event_age=DAY2, need_shop=True, shop=SHOP), NOW).resend.shop == SHOP


@given(st.text(max_size=300) | st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                                            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                                                st.sampled_from(["reason", "request", "body", "data", "v", "shop"]),
                                                inner, max_size=4), max_leaves=10).map(json.dumps))
def test_any_record_is_planned_without_raising(record):
    planned = plan(record, RULES, NOW)
    assert planned.kept is not None or planned.resend is not None
