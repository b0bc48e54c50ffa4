"""to_request_body: the one place map, the receiver and replay build the Events API body."""

from __future__ import annotations

import json

import pytest

from tests.support.shopify import order, run
from tiktok_relay.errors import ConfigurationError
from tiktok_relay.sources.shopify.mapping import MappingResult, to_request_body
from tiktok_relay.tiktok.models import TrackRequest


def test_body_shape_with_events():
    result = run("orders/paid", order())
    body = to_request_body(result, pixel_id=" CPIXEL0001 ", test_event_code=None)
    assert list(body) == ["event_source", "event_source_id", "data"]
    assert body["event_source"] == "web" and body["event_source_id"] == "CPIXEL0001"
    assert body["data"] == [result.events[0].wire()]
    # The body is a valid TrackRequest and survives a JSON round trip unchanged.
    assert json.loads(json.dumps(body)) == body
    assert TrackRequest.model_validate(body).to_json() == TrackRequest.model_validate(json.loads(json.dumps(body))).to_json()


def test_test_event_code_is_top_level_only_when_set():
    result = run("orders/paid", order())
    body = to_request_body(result, pixel_id="P", test_event_code=" TEST04030 ")
    assert list(body) == ["event_source", "event_source_id", "test_event_code", "data"]
    assert body["test_event_code"] == "TEST04030" and "test_event_code" not in body["data"][0]
    for empty in (None, "", "   "):
        assert "test_event_code" not in to_request_body(result, pixel_id="P", test_event_code=empty)


def test_nothing_to_send_gives_empty_data():
    result = MappingResult([], "not mapped", [])
    assert to_request_body(result, pixel_id="P", test_event_code=None) == {
        "event_source": "web", "event_source_id": "P", "data": []}


@pytest.mark.parametrize("pixel", ["", "   ", None])
def test_missing_pixel_is_a_configuration_error(pixel):
    with pytest.raises(ConfigurationError, match="TIKTOK_PIXEL_ID"):
        to_request_body(MappingResult([], "x", []), pixel_id=pixel, test_event_code=None)  # type: ignore[arg-type]
