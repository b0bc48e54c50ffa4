"""The tenants document (pipeline/tenants.py): its relied-upon shape, every shop checked by the
same rules as the environment's settings, errors that name the shop and the key but never a
value, and the lookups the receiver, the sender and later jobs make."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiktok_relay.errors import ConfigurationError
from tiktok_relay.pipeline.ports import UnknownTenant
from tiktok_relay.pipeline.tenants import (
    DocumentTenants,
    all_tenants,
    file_tenants,
    known_settings,
    parse_document,
    tenants_from_env,
)
from tiktok_relay.sources.shopify.settings import ShopifySettings

ACME, BETA = "acme.myshopify.com", "beta.myshopify.com"
# Values that must never appear in a message, a report or a repr.
TOKEN_A, TOKEN_B, SECRET_A1, SECRET_A2, SECRET_B = (
    "tok-acme-7c1f0e", "tok-beta-93ad41", "sec-acme-one-55e1", "sec-acme-two-6b02", "sec-beta-0d9f3a")
ADMIN_A = "shpat_acme_admin_1f2e"
VALUES = (TOKEN_A, TOKEN_B, SECRET_A1, SECRET_A2, SECRET_B, ADMIN_A)


def document(**shops) -> str:
    base = {
        ACME: {"pixel_id": "CACMEPIXEL01", "access_token": TOKEN_A, "webhook_secret": f"{SECRET_A1},{SECRET_A2}",
               "admin_access_token": ADMIN_A,
               "settings": {"TIKTOK_TEST_EVENT_CODE": "TEST123", "SHOPIFY_CURRENCY": "presentment"}},
        BETA: {"pixel_id": "CBETAPIXEL02", "access_token": TOKEN_B, "webhook_secret": SECRET_B},
    }
    for name, entry in shops.items():  # acme=..., beta=..., gamma_myshopify_com=...: replaced, added, None: removed
        key = {"acme": ACME, "beta": BETA}.get(name, name.replace("_", "."))
        if entry is None:
            base.pop(key, None)
        else:
            base[key] = entry
    return json.dumps({"shops": base})


def assert_no_value(*texts: str) -> None:
    blob = "\n".join(texts)
    for value in VALUES:
        assert value not in blob, f"a secret leaked: {value!r}"


def test_the_documented_shape_gives_each_shop_its_pixel_token_secrets_and_settings():
    directory = parse_document(document(), "tenants.json")

    assert directory.problems == {}
    acme, beta = directory.tenants[ACME], directory.tenants[BETA]
    assert (acme.key, acme.platform, acme.pixel_id, acme.access_token) == (ACME, "shopify", "CACMEPIXEL01", TOKEN_A)
    assert acme.webhook_secrets == (SECRET_A1, SECRET_A2)  # comma-separated, as SHOPIFY_WEBHOOK_SECRET
    assert acme.admin_access_token == ADMIN_A and beta.admin_access_token is None
    shopify: ShopifySettings = acme.parsed["shopify"]
    assert shopify.test_event_code == "TEST123" and shopify.currency == "presentment"
    # A shop without settings gets the defaults, not the stack's environment.
    assert beta.parsed["shopify"] == ShopifySettings.from_env({}) and beta.parsed["sender"] is None
    assert_no_value(repr(acme), repr(beta), repr(directory))


def test_settings_keys_are_the_environment_setting_names():
    names = known_settings("shopify")
    assert {"TIKTOK_TEST_EVENT_CODE", "TIKTOK_OFFLINE_EVENT_SET_ID", "SHOPIFY_TOPIC_EVENTS", "SHOPIFY_CURRENCY",
            "SHOPIFY_CONTENT_ID", "TIKTOK_PHONE_REGION", "SHOPIFY_CONSENT", "SHOPIFY_SOURCE_CHANNELS",
            "SHOPIFY_STOREFRONT_DOMAIN", "TIKTOK_MAX_EVENT_AGE"} == names


def test_every_shopify_setting_a_tenant_may_give_is_one_the_environment_reads():
    """A setting accepted in the document but not read by ShopifySettings.from_env would be
    silently ignored: each name must change what from_env returns for some value."""
    probes = {"TIKTOK_TEST_EVENT_CODE": "T1", "TIKTOK_OFFLINE_EVENT_SET_ID": "123", "SHOPIFY_TOPIC_EVENTS":
              "orders/create=Purchase", "SHOPIFY_CURRENCY": "presentment", "SHOPIFY_CONTENT_ID": "sku",
              "TIKTOK_PHONE_REGION": "GB", "SHOPIFY_CONSENT": "ignore", "SHOPIFY_SOURCE_CHANNELS": "pos=web",
              "SHOPIFY_STOREFRONT_DOMAIN": "shop.example.com"}
    default = ShopifySettings.from_env({})
    for name in known_settings("shopify") - {"TIKTOK_MAX_EVENT_AGE"}:
        assert ShopifySettings.from_env({name: probes[name]}) != default, name


def test_a_tenants_own_stale_limit_is_read_as_the_environments():
    directory = parse_document(document(beta={"pixel_id": "CB", "access_token": TOKEN_B, "webhook_secret": SECRET_B,
                                              "settings": {"TIKTOK_MAX_EVENT_AGE": "2d"}}), "t")
    assert directory.tenants[BETA].parsed["sender"] == 2 * 86400.0
    assert directory.tenants[ACME].parsed["sender"] is None  # the stack's limit applies


@pytest.mark.parametrize(("entry", "expected"), [
    ({"access_token": TOKEN_B, "webhook_secret": SECRET_B}, "pixel_id is missing"),
    ({"pixel_id": "CB", "webhook_secret": SECRET_B}, "access_token is missing"),
    ({"pixel_id": "CB", "access_token": TOKEN_B}, "webhook_secret is missing"),
    ({"pixel_id": "CB", "access_token": TOKEN_B, "webhook_secret": " , ,"}, "webhook_secret holds no secret"),
    ({"pixel_id": "C B", "access_token": TOKEN_B, "webhook_secret": SECRET_B}, "pixel_id must be a pixel code"),
    ({"pixel_id": "CB", "access_token": TOKEN_B + "\n", "webhook_secret": SECRET_B}, None),  # trimmed: fine
    ({"pixel_id": "CB", "access_token": "tok\u00a0b", "webhook_secret": SECRET_B}, "access_token holds a non-ASCII"),
    ({"pixel_id": "CB", "access_token": 42, "webhook_secret": SECRET_B}, "access_token must be a string"),
    ({"pixel_id": "CB", "access_token": TOKEN_B, "webhook_secret": SECRET_B, "admin_access_token": "a\tb"},
     "admin_access_token holds a control character"),
    ({"pixel_id": "CB", "access_token": TOKEN_B, "webhook_secret": SECRET_B, "pixel": "CB"}, "unknown key 'pixel'"),
    ({"pixel_id": "CB", "access_token": TOKEN_B, "webhook_secret": SECRET_B, "settings": {"SHOPIFY_CURRENCY": "eur"}},
     "settings: SHOPIFY_CURRENCY must be"),
    ({"pixel_id": "CB", "access_token": TOKEN_B, "webhook_secret": SECRET_B,
      "settings": {"TIKTOK_PHONE_REGION": "XX"}}, "settings: TIKTOK_PHONE_REGION must be"),
    ({"pixel_id": "CB", "access_token": TOKEN_B, "webhook_secret": SECRET_B, "settings": {"SHOPIFY_CONSENT": "maybe"}},
     "settings: SHOPIFY_CONSENT"),
    ({"pixel_id": "CB", "access_token": TOKEN_B, "webhook_secret": SECRET_B,
      "settings": {"TIKTOK_MAX_EVENT_AGE": "soon"}}, "settings: TIKTOK_MAX_EVENT_AGE must be"),
    ({"pixel_id": "CB", "access_token": TOKEN_B, "webhook_secret": SECRET_B, "settings": {"SHOPIFY_CURENCY": "shop"}},
     "unknown setting 'SHOPIFY_CURENCY'"),
    ({"pixel_id": "CB", "access_token": TOKEN_B, "webhook_secret": SECRET_B,
      "settings": {"TIKTOK_ACCESS_TOKEN": TOKEN_A}}, "give it as the entry's access_token"),
    ({"pixel_id": "CB", "access_token": TOKEN_B, "webhook_secret": SECRET_B, "settings": ["TIKTOK_TEST_EVENT_CODE"]},
     "settings must be an object"),
    ({"pixel_id": "CB", "access_token": TOKEN_B, "webhook_secret": SECRET_B,
      "settings": {"TIKTOK_TEST_EVENT_CODE": True}}, "settings: TIKTOK_TEST_EVENT_CODE must be a string"),
    ("CB", "must be an object"),
])
def test_a_broken_entry_names_the_shop_and_the_key_never_a_value(entry, expected):
    directory = parse_document(document(beta=entry), "tenants.json")

    if expected is None:
        assert directory.problems == {} and directory.tenants[BETA].access_token == TOKEN_B
        return
    assert BETA not in directory.tenants and ACME in directory.tenants  # the other shop still works
    report = directory.report()
    assert any(line.startswith(f"shop {BETA}: ") and expected in line for line in report), report
    with pytest.raises(ConfigurationError) as found:
        directory.find("shopify", BETA)
    assert BETA in str(found.value) and expected in str(found.value)
    assert_no_value(*report, str(found.value))


@pytest.mark.parametrize(("key", "expected"), [
    ("acme.example.com", "not a shop identity: a Shopify shop is its myshopify.com domain"),
    ("https://acme.myshopify.com", "not a shop identity"),
    ("acme", "not a shop identity"),
    ("ACME.myshopify.com", "listed twice"),  # keys are matched in lower case
])
def test_a_key_that_is_no_shop_identity_or_a_duplicate_is_reported(key, expected):
    text = document()[:-2] + f', "{key}": {{"pixel_id": "CX", "access_token": "t", "webhook_secret": "s"}}}}}}'
    directory = parse_document(text, "tenants.json")
    assert any(expected in line for line in directory.report()), directory.report()
    if "twice" in expected:
        assert ACME not in directory.tenants  # neither copy is trusted


def test_an_empty_admin_access_token_is_none_given():
    directory = parse_document(document(beta={"pixel_id": "CB", "access_token": TOKEN_B, "webhook_secret": SECRET_B,
                                              "admin_access_token": ""}), "t")
    assert directory.problems == {} and directory.tenants[BETA].admin_access_token is None


@pytest.mark.parametrize(("text", "expected"), [
    ("", "is not valid JSON (line 1, column 1"),
    ("{", "is not valid JSON"),
    ("[]", 'must be a JSON object {"shops"'),
    ('{"shop": {}}', 'must be a JSON object {"shops"'),
    ('{"shops": []}', 'must be a JSON object {"shops"'),
    ('{"shops": {}}', "lists no shop"),
    ('{"shops": {"a.myshopify.com": {}}, "version": 2}', "unknown top-level key(s) 'version'"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
])
def test_a_document_that_is_none_at_all_names_where_it_came_from(text, expected):
    with pytest.raises(ConfigurationError) as found:
        parse_document(text, "TIKTOK_RELAY_TENANTS (t.json)")
    assert str(found.value).startswith("TIKTOK_RELAY_TENANTS (t.json)") and expected in str(found.value)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                           max_leaves=10)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(shops=st.dictionaries(st.sampled_from([ACME, BETA, "x", "Beta.MyShopify.com", ""]),
                             st.dictionaries(st.sampled_from(["pixel_id", "access_token", "webhook_secret",
                                                              "admin_access_token", "settings", "other"]),
                                             JSON_VALUES | st.sampled_from(VALUES), max_size=6), max_size=4))
def test_any_document_parses_or_is_refused_by_name_and_never_echoes_a_value(shops):
    text = json.dumps({"shops": shops})
    try:
        directory = parse_document(text, "t")
    except ConfigurationError as exc:
        assert_no_value(str(exc))
        return
    assert set(directory.tenants).isdisjoint(directory.problems)
    assert_no_value(*directory.report())
    for key in directory.keys:
        try:
            directory.find("shopify", key)
        except ConfigurationError as exc:
            assert_no_value(str(exc))


def test_unknown_shops_name_no_secret_and_differ_by_platform():
    directory = parse_document(document(), "t")
    for platform, key in (("shopify", "gamma.myshopify.com"), ("shopify", None), ("woocommerce", ACME)):
        with pytest.raises(UnknownTenant) as found:
            directory.find(platform, key)
        assert "no tenant is configured" in str(found.value)
        assert_no_value(str(found.value))


def test_all_tenants_lists_the_usable_shops_in_key_order(tmp_path):
    path = tmp_path / "tenants.json"
    path.write_text(document(gamma_myshopify_com={"pixel_id": "CG"}))
    tenants = file_tenants(path)

    assert [t.key for t in all_tenants(tenants)] == [ACME, BETA]  # the broken third is left out...
    assert tenants.directory().report() == ["shop gamma.myshopify.com: access_token is missing",
                                            "shop gamma.myshopify.com: webhook_secret is missing"]  # ...and said
    assert all_tenants(tenants, platform="woocommerce") == []
    assert [t.admin_access_token for t in all_tenants(tenants)] == [ADMIN_A, None]


def test_each_version_of_the_document_is_parsed_once_and_a_new_shop_is_found_at_once():
    texts = [document(beta=None)]
    reads: list[bool] = []

    def read(refresh: bool) -> str:
        reads.append(refresh)
        return texts[-1]

    tenants = DocumentTenants(read, "the secret")
    first = tenants.find("shopify", ACME)
    assert tenants.find("shopify", ACME) is first  # same text: the same parsed tenant
    texts.append(document())  # BETA added: its first delivery re-reads the document (refresh)
    assert tenants.find("shopify", BETA).access_token == TOKEN_B
    assert reads == [False, False, False]  # the cached read already held the new text
    texts.append(document(beta=None))
    with pytest.raises(UnknownTenant):
        tenants.find("shopify", BETA)
    assert reads[-2:] == [False, True]  # not found: read once more, fresh, before refusing


def test_an_unreadable_document_fails_every_shop(tmp_path):
    tenants = file_tenants(tmp_path / "missing.json")
    with pytest.raises(ConfigurationError, match=r"TIKTOK_RELAY_TENANTS \(.*missing.json\): no such file"):
        tenants.find("shopify", ACME)
    (tmp_path / "bad.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        file_tenants(tmp_path / "bad.json").find("shopify", ACME)


def test_the_environment_names_the_document_or_none(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(document())
    assert tenants_from_env({}) is None and tenants_from_env({"TIKTOK_RELAY_TENANTS": "  "}) is None
    assert tenants_from_env({"TIKTOK_RELAY_TENANTS": str(path)}).find("shopify", BETA).pixel_id == "CBETAPIXEL02"
    in_aws = tenants_from_env({"TENANTS_SECRET_NAME": "tiktok-relay/tenants"})
    assert in_aws is not None and "TENANTS_SECRET_NAME" in in_aws.origin  # read lazily, from Secrets Manager
