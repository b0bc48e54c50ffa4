"""`tiktok-relay map --platform shopify --topic TOPIC [--shop-domain D] FILE`, run for real."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support import clean_env, console_script
from tests.support.shopify import PII_VALUES, SHOPIFY_FIXTURES, assert_no_pii, load, order, sha
from tiktok_relay.sources.shopify.mapping import map_webhook, to_request_body
from tiktok_relay.sources.shopify.settings import ShopifySettings

PIXEL = "CPIXELMAPTEST0000001"


def tiktok_relay_map(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        console_script() + ["map", "--platform", "shopify", *args], capture_output=True, timeout=120,
        env=env if env is not None else clean_env(TIKTOK_PIXEL_ID=PIXEL),
    )


def write(tmp_path: Path, payload, name: str = "payload.json") -> Path:
    path = tmp_path / name
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload), encoding="utf-8")
    return path


def test_prints_the_complete_request_body(tmp_path):
    path = write(tmp_path, order())
    done = tiktok_relay_map("--topic", "orders/paid", "--shop-domain", "tea-shop.myshopify.com", str(path))
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert list(body) == ["event_source", "event_source_id", "data"]
    assert body["event_source"] == "web" and body["event_source_id"] == PIXEL
    (event,) = body["data"]
    assert event["event"] == "Purchase" and event["event_id"] == "shopify-order-5678901234567"
    assert event["page"]["url"].startswith("https://tea-shop.example/products/tea-set?")  # the storefront's host
    assert event["user"]["email"][0] == sha("ada.lovelace@example.com")
    assert done.stdout.decode().startswith("{\n  ")  # indented for people
    assert done.stderr == b""


def test_output_is_exactly_what_the_receiver_builds(tmp_path):
    payload = order()
    path = write(tmp_path, payload)
    done = tiktok_relay_map("--topic", "orders/paid", "--shop-domain", "tea-shop.myshopify.com", str(path),
                            env=clean_env(TIKTOK_PIXEL_ID=PIXEL, TIKTOK_TEST_EVENT_CODE="TEST777"))
    body = json.loads(done.stdout)
    settings = ShopifySettings(test_event_code="TEST777")
    result = map_webhook("orders/paid", payload, "tea-shop.myshopify.com", settings, now=0 + 1_714_700_000)
    expected = to_request_body(result, pixel_id=PIXEL, test_event_code="TEST777")
    assert body == expected  # event_time comes from the payload, so `now` does not matter here
    assert list(body) == ["event_source", "event_source_id", "test_event_code", "data"]


def test_the_storefront_domain_setting_makes_a_landing_path_absolute_never_the_shop_domain(tmp_path):
    path = write(tmp_path, order(order_status_url=None))
    done = tiktok_relay_map("--topic", "orders/paid", str(path),
                            env=clean_env(TIKTOK_PIXEL_ID=PIXEL, SHOPIFY_STOREFRONT_DOMAIN="https://Shop.Example.com/"))
    assert json.loads(done.stdout)["data"][0]["page"]["url"].startswith("https://shop.example.com/products/tea-set?")
    done = tiktok_relay_map("--topic", "orders/paid", str(path))
    assert "url" not in json.loads(done.stdout)["data"][0].get("page", {})
    assert b"set SHOPIFY_STOREFRONT_DOMAIN" in done.stderr


def test_nothing_to_send_prints_empty_data_and_the_reason_on_stderr(tmp_path):
    path = tmp_path / "refund.json"
    path.write_bytes((SHOPIFY_FIXTURES / "shopify_refunds_create.json").read_bytes())
    done = tiktok_relay_map("--topic", "refunds/create", str(path))
    assert done.returncode == 0
    assert json.loads(done.stdout) == {"event_source": "web", "event_source_id": PIXEL, "data": []}
    assert b"nothing to send" in done.stderr and b"refunds/create" in done.stderr and b"not mapped" in done.stderr


def test_test_order_reason_and_test_event_code(tmp_path):
    path = write(tmp_path, order(test=True))
    done = tiktok_relay_map("--topic", "orders/paid", str(path))
    assert done.returncode == 0 and json.loads(done.stdout)["data"] == []
    assert b"TIKTOK_TEST_EVENT_CODE" in done.stderr
    done = tiktok_relay_map("--topic", "orders/paid", str(path),
                            env=clean_env(TIKTOK_PIXEL_ID=PIXEL, TIKTOK_TEST_EVENT_CODE="TEST04030"))
    body = json.loads(done.stdout)
    assert body["test_event_code"] == "TEST04030" and len(body["data"]) == 1


def test_settings_come_from_the_environment(tmp_path):
    path = write(tmp_path, order())
    env = clean_env(TIKTOK_PIXEL_ID=PIXEL, SHOPIFY_TOPIC_EVENTS="orders/create=PlaceAnOrder",
                    SHOPIFY_CURRENCY="presentment", SHOPIFY_CONTENT_ID="sku")
    body = json.loads(tiktok_relay_map("--topic", "orders/create", str(path), env=env).stdout)
    event = body["data"][0]
    assert event["event"] == "PlaceAnOrder" and event["properties"]["currency"] == "EUR"
    assert event["properties"]["contents"][0]["content_id"] == "TEA-000"


def test_bad_settings_exit_2_naming_the_variable(tmp_path):
    done = tiktok_relay_map("--topic", "orders/paid", str(write(tmp_path, order())),
                            env=clean_env(TIKTOK_PIXEL_ID=PIXEL, SHOPIFY_CURRENCY="bitcoin"))
    assert done.returncode == 2 and b"SHOPIFY_CURRENCY" in done.stderr and done.stdout == b""


def test_without_pixel_id_a_placeholder_and_a_note(tmp_path):
    done = tiktok_relay_map("--topic", "orders/paid", str(write(tmp_path, order())), env=clean_env())
    assert done.returncode == 0
    assert json.loads(done.stdout)["event_source_id"] == "<TIKTOK_PIXEL_ID>"
    assert b"TIKTOK_PIXEL_ID is not set" in done.stderr


def test_warnings_go_to_stderr(tmp_path):
    path = write(tmp_path, order(currency="XYZ", presentment_currency="XTS", browser_ip="nope"))
    done = tiktok_relay_map("--topic", "orders/paid", str(path))
    assert done.returncode == 0 and len(json.loads(done.stdout)["data"]) == 1
    assert b"warning: value and currency omitted" in done.stderr and b"warning: browser_ip dropped" in done.stderr


@pytest.mark.parametrize(
    "content, expected",
    [("{not json", b"is not valid JSON"), ("[1, 2]", b"must hold a JSON object"), ('"text"', b"must hold a JSON object"),
     ("", b"is not valid JSON"), ("null", b"not null")],
)
def test_bad_json_exits_2_naming_the_file(tmp_path, content, expected):
    path = write(tmp_path, content, name="broken-delivery.json")
    done = tiktok_relay_map("--topic", "orders/paid", str(path))
    assert done.returncode == 2 and done.stdout == b""
    assert expected in done.stderr and b"broken-delivery.json" in done.stderr


def test_non_utf8_file_exits_2(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"email": "caf\xe9"}')
    done = tiktok_relay_map("--topic", "orders/paid", str(path))
    assert done.returncode == 2 and b"latin1.json" in done.stderr


def test_unreadable_file_exits_2_naming_the_file(tmp_path):
    done = tiktok_relay_map("--topic", "orders/paid", str(tmp_path / "missing-file.json"))
    assert done.returncode == 2 and b"missing-file.json" in done.stderr and b"cannot read" in done.stderr
    done = tiktok_relay_map("--topic", "orders/paid", str(tmp_path))  # a directory
    assert done.returncode == 2 and b"cannot read" in done.stderr


@pytest.mark.parametrize("topic", ["order/paid", "ORDER_PAID", "orders"])
def test_an_unknown_topic_exits_2_listing_the_known_ones(tmp_path, topic):
    done = tiktok_relay_map("--topic", topic, str(write(tmp_path, order())))
    assert done.returncode == 2 and done.stdout == b""
    err = done.stderr.decode()
    assert f"--topic {topic!r} is not a topic the relay knows; known topics: " in err
    assert "orders/paid" in err and "checkouts/create" in err


def test_the_enum_spelling_of_a_topic_is_accepted(tmp_path):
    done = tiktok_relay_map("--topic", "ORDERS_PAID", str(write(tmp_path, order())))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["data"][0]["event"] == "Purchase"


def test_a_pixel_id_that_is_not_a_pixel_code_is_named(tmp_path):
    done = tiktok_relay_map("--topic", "orders/paid", str(write(tmp_path, order())),
                            env=clean_env(TIKTOK_PIXEL_ID="C123 456"))
    assert done.returncode == 2 and b"TIKTOK_PIXEL_ID must be a pixel code" in done.stderr


def test_rest_wrapped_order_gets_a_hint(tmp_path):
    done = tiktok_relay_map("--topic", "orders/paid", str(write(tmp_path, {"order": order()})))
    assert done.returncode == 0 and b"unwrapped" in done.stderr


def test_interface_is_required():
    done = subprocess.run(console_script() + ["map", "--platform", "shopify", "x.json"], capture_output=True,
                          timeout=60, env=clean_env())
    assert done.returncode == 2 and b"--topic" in done.stderr


def test_no_customer_data_in_output_or_stderr(tmp_path):
    # A payload full of customer data, much of it in the wrong place or invalid.
    payload = order(customer_locale="ada@analytical.example", browser_ip="Lovelace", currency="SW1Y 4JH",
                    phone="07911 123456 and more")
    payload["billing_address"]["country_code"] = "Lovelace"
    payload["line_items"][0]["price"] = "ada.lovelace@example.com"
    for path_payload, topic in ((payload, "orders/paid"), (load("shopify_checkouts_create.json"), "checkouts/create"),
                                (load("shopify_customers_create.json"), "customers/create"),
                                (load("shopify_orders_create.json"), "orders/paid")):
        done = tiktok_relay_map("--topic", topic, str(write(tmp_path, path_payload)),
                                env=clean_env(TIKTOK_PIXEL_ID=PIXEL, TIKTOK_TEST_EVENT_CODE="T1"))
        assert done.returncode == 0
        stdout, stderr = done.stdout.decode(), done.stderr.decode()
        assert_no_pii(stdout, stderr, extra=("Steve", "Bob", "John", "555-555", "Kentucky"))
        assert "Shippington" not in stdout  # cities are sent normalized (lowercase), never as given
    assert len(PII_VALUES) > 10
