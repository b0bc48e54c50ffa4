"""`tiktok-relay register shopify`, run as the installed console script against the fake Admin API.

Every test starts the real command in a subprocess with SHOPIFY_ADMIN_BASE_URL pointing at a
FakeShopifyAdmin on 127.0.0.1 and checks both what it printed and what the fake recorded.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import urllib3

from tiktok_relay.sources.shopify.admin import DEFAULT_API_VERSION
from tiktok_relay.sources.shopify.settings import ShopifySettings
from tiktok_relay.testing.fake_shopify_admin import FakeShopifyAdmin

URL = "https://abc123.execute-api.us-east-1.amazonaws.com/Prod/webhooks/shopify"
OTHER_URL = "https://old-stack.execute-api.us-east-1.amazonaws.com/Prod/webhooks/shopify"
SHOP = "demo-store.myshopify.com"
DEFAULT_TOPICS = ShopifySettings.from_env({}).mapped_topics  # REST form, what register subscribes by default


def _console_script() -> str:
    beside = Path(sys.executable).with_name("tiktok-relay")
    found = str(beside) if beside.exists() else shutil.which("tiktok-relay")
    assert found, "the tiktok-relay console script is not installed (pip install -e .)"
    return found


CLI = _console_script()


def enum(topic: str) -> str:
    return topic.replace("/", "_").upper()


@pytest.fixture
def fake():
    with FakeShopifyAdmin() as admin:
        yield admin


def register(fake: FakeShopifyAdmin | None, *args: str, token: str | None = "fake", env: dict | None = None,
             shop: str | None = SHOP, url: str | None = URL) -> subprocess.CompletedProcess:
    """Run the command. token="fake" passes the fake's token with --access-token; None passes none;
    shop=None passes no --shop, url=None no --url."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPIFY_", "TIKTOK_"))}
    if fake is not None:
        clean["SHOPIFY_ADMIN_BASE_URL"] = fake.base_url
    clean.update(env or {})
    argv = [CLI, "register", "shopify", *(["--shop", shop] if shop is not None else []),
            *(["--url", url] if url is not None else []), *args]
    if token is not None:
        argv += ["--access-token", fake.access_token if token == "fake" else token]
    # timeout only guards against a hang; nothing asserts on durations
    return subprocess.run(argv, env=clean, capture_output=True, text=True, timeout=120)


def register_in_process(fake: FakeShopifyAdmin, *args: str, sleeps: list[float], url: str = URL
                        ) -> subprocess.CompletedProcess:
    """`register` run in this process, as `main` runs it, with its backoff recorded in `sleeps`
    instead of waited: for the tests of retries."""
    from tiktok_relay.cli import main

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPIFY_", "TIKTOK_"))}
    clean["SHOPIFY_ADMIN_BASE_URL"] = fake.base_url
    argv = ["register", "shopify", "--shop", SHOP, "--url", url, *args, "--access-token", fake.access_token]
    out, err, saved = io.StringIO(), io.StringIO(), dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(clean)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv, sleep=sleeps.append)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def lines(result: subprocess.CompletedProcess, prefix: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(prefix)]


# --- the normal path ----------------------------------------------------------------------------


def test_creates_every_default_topic(fake):
    assert "orders/paid" in DEFAULT_TOPICS and "orders/create" not in DEFAULT_TOPICS

    result = register(fake)

    assert result.returncode == 0, result.stderr
    expected = {(enum(t), URL) for t in DEFAULT_TOPICS}
    assert fake.pairs() == expected
    assert sorted(lines(result, "created ")) == sorted(f"created {enum(t)} -> {URL}" for t in DEFAULT_TOPICS)
    assert lines(result, "exists") == [] and lines(result, "failed") == []
    assert f"{len(DEFAULT_TOPICS)} of {len(DEFAULT_TOPICS)} topic(s) subscribed" in result.stdout
    creates = fake.calls_of("create")
    assert {c.api_version for c in fake.calls} == {DEFAULT_API_VERSION}
    assert all(c.variables["webhookSubscription"] == {"uri": URL, "format": "JSON"} for c in creates)
    assert fake.access_token not in result.stdout + result.stderr


def test_second_run_creates_nothing(fake):
    first = register(fake)
    assert first.returncode == 0, first.stderr
    created = len(fake.created)

    second = register(fake)

    assert second.returncode == 0, second.stderr
    assert len(fake.created) == created == len(DEFAULT_TOPICS)
    assert len(fake.calls_of("create")) == created  # the second run asked for nothing
    assert lines(second, "created") == []
    assert sorted(lines(second, "exists  ")) == sorted(f"exists  {enum(t)} -> {URL}" for t in DEFAULT_TOPICS)
    assert "0 created" in second.stdout


def test_partially_registered_shop_gets_only_the_missing_topics(fake):
    fake.add_subscription("ORDERS_PAID", URL)
    fake.add_subscription("CARTS_UPDATE", URL)
    fake.add_subscription("CHECKOUTS_CREATE", OTHER_URL)  # same topic, another address: not ours

    result = register(fake)

    assert result.returncode == 0, result.stderr
    assert set(fake.created_topics()) == {enum(t) for t in DEFAULT_TOPICS} - {"ORDERS_PAID", "CARTS_UPDATE"}
    assert f"exists  ORDERS_PAID -> {URL}" in result.stdout
    assert f"exists  CARTS_UPDATE -> {URL}" in result.stdout
    assert f"created CHECKOUTS_CREATE -> {URL}" in result.stdout
    assert ("CHECKOUTS_CREATE", OTHER_URL) in fake.pairs()  # left alone
    assert OTHER_URL in result.stderr  # and mentioned


def test_reads_every_page_of_subscriptions():
    with FakeShopifyAdmin(page_size=2) as fake:
        for n in range(7):
            fake.add_subscription("PRODUCTS_UPDATE", f"https://elsewhere.example.com/{n}")
        fake.add_subscription("ORDERS_PAID", URL)  # only on the last page

        result = register(fake, "--topics", "orders/paid", "customers/create")

        assert result.returncode == 0, result.stderr
        lists = fake.calls_of("list")
        assert len(lists) == 4  # 8 subscriptions, 2 per page
        assert lists[0].variables["after"] is None
        assert all(c.variables["after"] for c in lists[1:])
        assert len({c.variables["after"] for c in lists}) == 4
        assert fake.created_topics() == ["CUSTOMERS_CREATE"]
        assert f"exists  ORDERS_PAID -> {URL}" in result.stdout


# --- choosing topics ----------------------------------------------------------------------------


def test_topics_subset_in_either_form(fake):
    result = register(fake, "--topics", "customers/create", "ORDERS_PAID,orders/paid")

    assert result.returncode == 0, result.stderr
    assert fake.created_topics() == ["CUSTOMERS_CREATE", "ORDERS_PAID"]
    assert lines(result, "created") == [f"created CUSTOMERS_CREATE -> {URL}", f"created ORDERS_PAID -> {URL}"]


def test_unknown_topic_is_refused_by_name(fake):
    result = register(fake, "--topics", "orders/paid", "products/update", "order/paid")

    assert result.returncode == 2
    assert "products/update" in result.stderr and "order/paid" in result.stderr
    assert fake.calls == []


def test_topic_events_mapping_adds_orders_create(fake):
    result = register(fake, env={"SHOPIFY_TOPIC_EVENTS": "orders/create=Purchase"})

    assert result.returncode == 0, result.stderr
    assert "ORDERS_CREATE" in fake.created_topics()
    assert set(fake.created_topics()) == {enum(t) for t in DEFAULT_TOPICS} | {"ORDERS_CREATE"}


def test_invalid_topic_events_setting_is_a_usage_error(fake):
    result = register(fake, env={"SHOPIFY_TOPIC_EVENTS": "orders/create=Dance"})

    assert result.returncode == 2
    assert "SHOPIFY_TOPIC_EVENTS" in result.stderr
    assert fake.calls == []


# --- failures -----------------------------------------------------------------------------------


def test_wrong_token_is_a_clear_error_and_never_printed(fake):
    secret = "shpat_wrong_0123456789abcdef"

    result = register(fake, token=secret)

    assert result.returncode == 2
    assert "401" in result.stderr and "access token" in result.stderr
    assert "SHOPIFY_ADMIN_ACCESS_TOKEN" in result.stderr
    assert secret not in result.stdout + result.stderr
    assert fake.subscriptions == []


def test_wrong_token_from_the_environment(fake):
    secret = "shpat_env_wrong_token_42"

    result = register(fake, token=None, env={"SHOPIFY_ADMIN_ACCESS_TOKEN": secret})

    assert result.returncode == 2
    assert "401" in result.stderr
    assert secret not in result.stdout + result.stderr


def test_token_from_the_environment(fake):
    result = register(fake, "--topics", "orders/paid", token=None,
                      env={"SHOPIFY_ADMIN_ACCESS_TOKEN": fake.access_token})

    assert result.returncode == 0, result.stderr
    assert fake.created_topics() == ["ORDERS_PAID"]
    assert fake.access_token not in result.stdout + result.stderr


def test_token_that_cannot_be_a_header_is_refused_without_echoing_it(fake):
    secret = "shpat_abc\u00e9def secret"

    result = register(fake, token=secret)

    assert result.returncode == 2
    assert "access token" in result.stderr
    assert secret not in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert fake.calls == []


def test_no_token_at_all(fake):
    result = register(fake, token=None)

    assert result.returncode == 2
    assert "--access-token" in result.stderr and "SHOPIFY_ADMIN_ACCESS_TOKEN" in result.stderr
    assert fake.calls == []


def test_missing_scope_names_the_scope_and_other_topics_still_subscribe():
    with FakeShopifyAdmin(scopes={"read_orders"}) as fake:
        result = register(fake)

        assert result.returncode == 1
        assert f"failed  CUSTOMERS_CREATE -> {URL}" in result.stdout
        assert "Access denied" in result.stderr  # Shopify's words
        assert "lacks the `read_customers` access scope" in result.stderr  # and what to do about it
        assert "add read_customers" in result.stderr
        assert set(fake.created_topics()) == {enum(t) for t in DEFAULT_TOPICS} - {"CUSTOMERS_CREATE"}
        assert "1 failed: CUSTOMERS_CREATE" in result.stdout


def test_missing_read_orders_scope():
    with FakeShopifyAdmin(scopes={"read_customers"}) as fake:
        result = register(fake, "--topics", "orders/paid")

        assert result.returncode == 1
        assert "lacks the `read_orders` access scope" in result.stderr
        assert fake.subscriptions == []


def test_user_errors_are_reported_and_fail_the_run():
    # The command lets http://localhost through; Shopify itself (https_only) refuses it.
    with FakeShopifyAdmin(https_only=True) as fake:
        result = register(fake, "--topics", "orders/paid", "carts/update", url="http://localhost:3000/webhooks/shopify")

        assert result.returncode == 1
        assert result.stderr.count("Address protocol http:// is not supported") == 2
        assert "ORDERS_PAID" in result.stderr and "CARTS_UPDATE" in result.stderr
        assert len(lines(result, "failed  ")) == 2
        assert fake.subscriptions == []


def test_http_localhost_url_is_accepted_for_local_testing(fake):
    local = "http://127.0.0.1:3000/webhooks/shopify"

    result = register(fake, "--topics", "orders/paid", url=local)

    assert result.returncode == 0, result.stderr
    assert fake.pairs() == {("ORDERS_PAID", local)}


def test_rate_limits_server_errors_and_drops_are_retried(fake):
    fake.fail_next("http429", "http503", None, "throttled", None, "drop")
    sleeps: list[float] = []

    result = register_in_process(fake, "--topics", "orders/paid", "customers/create", sleeps=sleeps)
    # Retry-After 0 for the 429 and the 503, the throttle's own estimate, then the backoff (1 s).
    assert sleeps == [0.0, 0.0, 0.02, 1.0]

    assert result.returncode == 0, result.stderr
    assert fake.created_topics() == ["ORDERS_PAID", "CUSTOMERS_CREATE"]
    assert [c.fault for c in fake.calls if c.fault] == ["http429", "http503", "throttled", "drop"]


def test_lasting_server_errors_give_up_with_a_clear_message(fake):
    fake.fail_next("http503", "http503", "http503")

    result = register(fake)

    assert result.returncode == 1
    assert "HTTP 503" in result.stderr and "try again" in result.stderr
    assert len(fake.calls) == 3
    assert fake.subscriptions == []


def test_create_answer_lost_then_retried_counts_as_existing(fake):
    # The create is applied but its answer is a 502; the retry meets "already been taken".
    fake.fail_next(None, "http502-after")
    sleeps: list[float] = []

    result = register_in_process(fake, "--topics", "orders/paid", sleeps=sleeps)
    assert sleeps == [1.0]

    assert result.returncode == 0, result.stderr
    assert fake.created_topics() == ["ORDERS_PAID"]  # exactly once
    assert len(fake.calls_of("create")) == 2
    assert f"exists  ORDERS_PAID -> {URL}" in result.stdout


def test_not_found_points_at_shop_and_version(fake):
    result = register(fake, env={"SHOPIFY_ADMIN_BASE_URL": fake.base_url + "/no-such-prefix"})

    assert result.returncode == 2
    assert "404" in result.stderr and "--shop" in result.stderr and "--api-version" in result.stderr


def test_older_api_version_uses_callback_url(fake):
    first = register(fake, "--api-version", "2025-04", "--topics", "orders/paid")
    second = register(fake, "--api-version", "2025-04", "--topics", "orders/paid")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert fake.created_topics() == ["ORDERS_PAID"]
    create = fake.calls_of("create")[0]
    assert create.api_version == "2025-04"
    assert create.variables["webhookSubscription"] == {"callbackUrl": URL, "format": "JSON"}
    assert f"exists  ORDERS_PAID -> {URL}" in second.stdout


# --- input validation ---------------------------------------------------------------------------


@pytest.mark.parametrize("shop", ["example.com", "demo-store", "demo.myshopify.com.evil.example",
                                  "demo.myshopify.com/admin", "https://", "demo store.myshopify.com"])
def test_bad_shop_is_a_usage_error(fake, shop):
    result = register(fake, shop=shop)

    assert result.returncode == 2
    assert "--shop" in result.stderr
    assert fake.calls == []


@pytest.mark.parametrize("shop", ["https://Demo-Store.myshopify.com/", "demo-store.MYSHOPIFY.com"])
def test_shop_is_normalized(fake, shop):
    result = register(fake, "--topics", "orders/paid", shop=shop)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("demo-store.myshopify.com: 1 of 1")


@pytest.mark.parametrize("url", ["http://example.com/webhooks/shopify", "ftp://example.com/x", "/webhooks/shopify",
                                 "example.com/webhooks", "https://", "https://exa mple.com/x"])
def test_bad_url_is_a_usage_error(fake, url):
    result = register(fake, url=url)

    assert result.returncode == 2
    assert "--url" in result.stderr
    assert fake.calls == []


def test_bad_api_version_is_a_usage_error(fake):
    result = register(fake, "--api-version", "latest")

    assert result.returncode == 2
    assert "--api-version" in result.stderr
    assert fake.calls == []


# --- shopify.app.toml ---------------------------------------------------------------------------


def test_print_toml_needs_no_token_and_parses(fake):
    result = register(fake, "--print-toml", token=None, env={"SHOPIFY_TOPIC_EVENTS": "orders/create=PlaceAnOrder"})

    assert result.returncode == 0, result.stderr
    assert "shopify app deploy" in result.stdout
    config = tomllib.loads(result.stdout)
    assert config["webhooks"]["api_version"] == DEFAULT_API_VERSION
    (subscription,) = config["webhooks"]["subscriptions"]
    assert subscription == {"topics": sorted([*DEFAULT_TOPICS, "orders/create"]), "uri": URL}
    assert fake.calls == []


def test_print_toml_with_topics_and_version(fake):
    result = register(fake, "--print-toml", "--topics", "ORDERS_PAID", "checkouts/create", "--api-version", "2026-07",
                      token=None)

    assert result.returncode == 0, result.stderr
    config = tomllib.loads(result.stdout)
    assert config["webhooks"] == {
        "api_version": "2026-07",
        "subscriptions": [{"topics": ["orders/paid", "checkouts/create"], "uri": URL}],
    }


def test_print_toml_needs_no_shop(fake):
    result = register(fake, "--print-toml", token=None, shop=None)
    assert result.returncode == 0, result.stderr
    assert tomllib.loads(result.stdout)["webhooks"]["subscriptions"][0]["uri"] == URL
    assert fake.calls == []


def test_without_print_toml_the_shop_is_required(fake):
    result = register(fake, shop=None)
    assert result.returncode == 2 and result.stdout == ""
    assert "--shop is required (SHOP.myshopify.com), unless --print-toml" in result.stderr
    assert fake.calls == []


@pytest.mark.parametrize("url", ["https://.../webhooks/shopify", "https://<your-api>/webhooks/shopify",
                                 "https://abc123/webhooks/shopify", "https://relay.example.com/webhooks/shopify",
                                 "https://my-relay.test/webhooks/shopify", "https://a..b.com/webhooks/shopify"])
def test_a_placeholder_url_is_refused_before_anything_is_sent(fake, url):
    for args in ((), ("--print-toml",)):
        result = register(fake, *args, url=url)
        assert result.returncode == 2 and result.stdout == "", url
        assert "--url" in result.stderr and ("not a real host" in result.stderr or "not a valid URL" in result.stderr)
    assert fake.calls == []


def test_print_toml_still_validates_the_url(fake):
    result = register(fake, "--print-toml", token=None, url="http://example.com/hook")

    assert result.returncode == 2
    assert "--url" in result.stderr
    assert result.stdout == ""


# --- the fake itself behaves like Shopify where the command cannot reach ------------------------


def test_fake_refuses_a_duplicate_and_a_bad_address(fake):
    http = urllib3.PoolManager(retries=False)
    endpoint = f"{fake.base_url}/admin/api/{DEFAULT_API_VERSION}/graphql.json"
    mutation = ("mutation c($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {"
                " webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {"
                " webhookSubscription { id topic uri } userErrors { field message } } }")

    def create(uri: str) -> dict:
        body = {"query": mutation, "variables": {"topic": "ORDERS_PAID", "webhookSubscription": {"uri": uri}}}
        response = http.request("POST", endpoint, body=json.dumps(body).encode(),
                                headers={"X-Shopify-Access-Token": fake.access_token,
                                         "Content-Type": "application/json"})
        assert response.status == 200
        return json.loads(response.data)["data"]["webhookSubscriptionCreate"]

    assert create(URL)["userErrors"] == []
    assert create(URL)["userErrors"] == [{"field": ["webhookSubscription", "uri"],
                                          "message": "Address for this topic has already been taken"}]
    assert create("not a url")["userErrors"][0]["message"] == "Address is invalid"
    assert fake.pairs() == {("ORDERS_PAID", URL)}


# --- EventBridge, and shops of a tenants document ---------------------------------------------

ARN = "arn:aws:events:us-east-1::event-source/aws.partner/shopify.com/1234567/tiktok-relay"


def test_eventbridge_subscribes_with_the_event_source_arn_as_the_uri(fake):
    result = register(fake, "--eventbridge", ARN, "--topics", "orders/paid", url=None)

    assert result.returncode == 0, result.stderr
    assert fake.pairs() == {("ORDERS_PAID", ARN)}
    [create] = fake.calls_of("create")
    assert create.variables["webhookSubscription"] == {"uri": ARN, "format": "JSON"}
    assert f"created ORDERS_PAID -> {ARN}" in result.stdout
    again = register(fake, "--eventbridge", ARN, "--topics", "orders/paid", url=None)
    assert again.returncode == 0 and f"exists  ORDERS_PAID -> {ARN}" in again.stdout


@pytest.mark.parametrize("arn", [
    "aws.partner/shopify.com/1234567/tiktok-relay",  # the source's name, not its ARN
    "arn:aws:events:us-east-1:123456789012:event-bus/aws.partner/shopify.com/1234567/tiktok-relay",  # the bus
    "arn:aws:events:us-east-1::event-source/aws.partner/example.com/1/x",
    "https://example.com/webhooks/shopify",
])
def test_eventbridge_takes_only_a_shopify_event_source_arn(fake, arn):
    result = register(fake, "--eventbridge", arn, url=None)
    assert result.returncode == 2 and "--eventbridge must be the ARN of the Shopify partner event source" in result.stderr
    assert fake.calls == []


def test_eventbridge_needs_an_api_version_with_the_uri_field(fake):
    result = register(fake, "--eventbridge", ARN, "--api-version", "2025-07", url=None)
    assert result.returncode == 2 and "--eventbridge needs --api-version 2025-10 or later" in result.stderr
    assert fake.calls == []


def test_url_and_eventbridge_are_one_or_the_other(fake):
    assert register(fake, "--eventbridge", ARN).returncode == 2  # --url too
    neither = register(fake, url=None)
    assert neither.returncode == 2 and "one of the arguments --url --eventbridge is required" in neither.stderr


def test_print_toml_with_eventbridge_names_the_arn(fake):
    result = register(None, "--print-toml", "--eventbridge", ARN, "--topics", "orders/paid", token=None, shop=None,
                      url=None)
    assert result.returncode == 0, result.stderr
    assert tomllib.loads(result.stdout)["webhooks"]["subscriptions"] == [{"topics": ["orders/paid"], "uri": ARN}]


def tenants_file(tmp_path, fake: FakeShopifyAdmin, **second_shop) -> str:
    path = tmp_path / "tenants.json"
    path.write_text(json.dumps({"shops": {
        SHOP: {"pixel_id": "CPIXELA", "access_token": "tiktok-a", "webhook_secret": "secret-a",
               "admin_access_token": fake.access_token, "settings": {"SHOPIFY_TOPIC_EVENTS": "orders/create=Purchase"}},
        "second-store.myshopify.com": {"pixel_id": "CPIXELB", "access_token": "tiktok-b", "webhook_secret": "secret-b",
                                       **second_shop},
    }}))
    return str(path)


def test_a_shop_of_the_tenants_document_is_registered_with_its_token_and_its_topics(fake, tmp_path):
    env = {"TIKTOK_RELAY_TENANTS": tenants_file(tmp_path, fake)}
    result = register(fake, token=None, env=env)

    assert result.returncode == 0, result.stderr
    # Its own SHOPIFY_TOPIC_EVENTS add orders/create; its admin_access_token was the token.
    assert {topic for topic, _ in fake.pairs()} == {enum(t) for t in DEFAULT_TOPICS} | {"ORDERS_CREATE"}
    assert fake.access_token not in result.stdout + result.stderr


def test_a_shop_of_the_tenants_document_without_an_admin_token_says_where_one_goes(fake, tmp_path):
    env = {"TIKTOK_RELAY_TENANTS": tenants_file(tmp_path, fake)}
    result = register(fake, token=None, env=env, shop="second-store.myshopify.com")
    assert result.returncode == 2
    assert ("no Admin API access token: pass --access-token or set SHOPIFY_ADMIN_ACCESS_TOKEN (or the shop's "
            "admin_access_token in TIKTOK_RELAY_TENANTS)") in result.stderr
    given = register(fake, env=env, shop="second-store.myshopify.com")  # --access-token still works
    assert given.returncode == 0, given.stderr


def test_register_with_a_tenants_document_needs_one_of_its_shops(fake, tmp_path):
    env = {"TIKTOK_RELAY_TENANTS": tenants_file(tmp_path, fake)}
    unknown = register(fake, env=env, shop="third-store.myshopify.com")
    assert unknown.returncode == 2 and "--shop third-store.myshopify.com is not a shop of" in unknown.stderr
    missing = register(fake, env=env, shop=None)
    assert missing.returncode == 2 and "--shop is required with TIKTOK_RELAY_TENANTS" in missing.stderr
    assert fake.calls == []
