"""Settings from the environment (config.py): names users of pytt-events-api know, clear errors."""

from __future__ import annotations

import pytest

from tiktok_relay.config import TikTokSettings
from tiktok_relay.errors import ConfigurationError, TikTokRelayError
from tiktok_relay.tiktok.client import TikTokClient

TOKEN = "tt-secret-token-0123456789abcdef"


def test_defaults_are_v13_and_the_public_api_base():
    settings = TikTokSettings.from_env({})
    assert settings.api_version == "v1.3"
    assert settings.base_url == "https://business-api.tiktok.com/open_api"
    assert settings.access_token is None and settings.pixel_id is None
    assert settings.test_event_code is None and settings.phone_region is None


def test_default_client_url_is_the_events_api_2_endpoint():
    client = TikTokClient.from_settings(TikTokSettings.from_env({"TIKTOK_ACCESS_TOKEN": TOKEN}))
    assert client.url == "https://business-api.tiktok.com/open_api/v1.3/event/track/"


def test_everything_is_read_and_trimmed():
    settings = TikTokSettings.from_env({
        "TIKTOK_ACCESS_TOKEN": f" {TOKEN} ",
        "TIKTOK_PIXEL_ID": " CPIXEL123 ",
        "TIKTOK_API_VERSION": "v1.4",
        "TIKTOK_TEST_EVENT_CODE": "TEST123",
        "TIKTOK_API_BASE_URL": "http://127.0.0.1:9/open_api/",
        "TIKTOK_PHONE_REGION": "GB",
    })
    assert settings.access_token == TOKEN
    assert settings.pixel_id == "CPIXEL123"
    assert settings.api_version == "v1.4"
    assert settings.test_event_code == "TEST123"
    assert settings.phone_region == "GB"
    assert TikTokClient.from_settings(settings).url == "http://127.0.0.1:9/open_api/v1.4/event/track/"


@pytest.mark.parametrize("env", [{}, {"TIKTOK_ACCESS_TOKEN": ""}, {"TIKTOK_ACCESS_TOKEN": "   "}])
def test_missing_token_is_a_configuration_error_naming_the_variable(env):
    with pytest.raises(ConfigurationError) as caught:
        TikTokSettings.from_env(env).require_token()
    assert "TIKTOK_ACCESS_TOKEN" in str(caught.value)
    assert isinstance(caught.value, TikTokRelayError)


@pytest.mark.parametrize("env", [{}, {"TIKTOK_PIXEL_ID": ""}, {"TIKTOK_PIXEL_ID": " \t"}])
def test_missing_pixel_id_is_a_configuration_error_naming_the_variable(env):
    with pytest.raises(ConfigurationError) as caught:
        TikTokSettings.from_env(env).require_pixel()
    assert "TIKTOK_PIXEL_ID" in str(caught.value)


def test_present_values_are_returned_by_require():
    settings = TikTokSettings.from_env({"TIKTOK_ACCESS_TOKEN": TOKEN, "TIKTOK_PIXEL_ID": "CPIX"})
    assert settings.require_token() == TOKEN
    assert settings.require_pixel() == "CPIX"


@pytest.mark.parametrize("version", ["1.3", "latest", "v"])
def test_bad_api_version_names_the_variable(version):
    with pytest.raises(ConfigurationError) as caught:
        TikTokSettings.from_env({"TIKTOK_API_VERSION": version})
    assert "TIKTOK_API_VERSION" in str(caught.value)


@pytest.mark.parametrize("url", ["business-api.tiktok.com/open_api", "ftp://example.com"])
def test_bad_base_url_names_the_variable(url):
    with pytest.raises(ConfigurationError) as caught:
        TikTokSettings.from_env({"TIKTOK_API_BASE_URL": url})
    assert "TIKTOK_API_BASE_URL" in str(caught.value)


def test_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("TIKTOK_PIXEL_ID", "CFROMENV")
    assert TikTokSettings.from_env().pixel_id == "CFROMENV"


def test_token_never_in_repr_or_str_of_settings_or_client():
    settings = TikTokSettings.from_env({"TIKTOK_ACCESS_TOKEN": TOKEN, "TIKTOK_PIXEL_ID": "CPIX"})
    client = TikTokClient.from_settings(settings)
    for text in (repr(settings), str(settings), repr(client), str(client)):
        assert TOKEN not in text
    assert "CPIX" in repr(settings)  # the repr is still useful


def test_configuration_errors_never_carry_the_token():
    with pytest.raises(ConfigurationError) as caught:
        TikTokSettings.from_env({"TIKTOK_ACCESS_TOKEN": TOKEN, "TIKTOK_API_BASE_URL": "nope"})
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("value", ["USA", "zz", "1"])
def test_invalid_phone_region_is_a_configuration_error_naming_the_variable(value):
    from tiktok_relay.errors import ConfigurationError
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    for load in (TikTokSettings.from_env, ShopifySettings.from_env):
        with pytest.raises(ConfigurationError, match="TIKTOK_PHONE_REGION"):
            load({"TIKTOK_PHONE_REGION": value})


# --- secrets and tokens with characters no header or HMAC key should hold ----------------------------------------

BAD_SECRETS = {
    "a line break": f"{TOKEN}\nX-Injected: yes",
    "a carriage return": f"{TOKEN}\rX",
    "a tab": f"{TOKEN}\tmore",
    "a NUL": f"{TOKEN}\x00",
    "a smart quote (not Latin-1)": f"\u201c{TOKEN}\u201d",
    "a non-breaking space": f"{TOKEN}\u00a0X",  # inside: surrounding whitespace is trimmed
    "an accented letter": f"{TOKEN}é",
}


@pytest.mark.parametrize("value", BAD_SECRETS.values(), ids=BAD_SECRETS.keys())
def test_a_bad_character_in_a_secret_is_a_configuration_error_naming_the_variable_never_the_value(value):
    import traceback

    from tiktok_relay.config import checked_secret
    from tiktok_relay.pipeline.runtime import StaticSecret

    attempts = {
        "TIKTOK_ACCESS_TOKEN": lambda: TikTokSettings.from_env({"TIKTOK_ACCESS_TOKEN": value}),
        "the TikTok access token (TIKTOK_ACCESS_TOKEN)": lambda: TikTokClient(value),
        "SHOPIFY_WEBHOOK_SECRET": lambda: StaticSecret(value, "SHOPIFY_WEBHOOK_SECRET"),
        "MY_SECRET": lambda: checked_secret(value, "MY_SECRET"),
    }
    for variable, attempt in attempts.items():
        with pytest.raises(ConfigurationError) as caught:
            attempt()
        text = str(caught.value) + "".join(traceback.format_exception(caught.value))
        assert variable in str(caught.value)
        assert TOKEN not in text and value not in text  # the traceback, chained exceptions included


@pytest.mark.parametrize("value", [TOKEN, "abc def", "a,b", "!#$%&'()*+-./:;<=>?@[]^_`{|}~"])
def test_printable_ascii_secrets_are_accepted(value):
    from tiktok_relay.config import checked_secret

    assert checked_secret(value, "X") == value
    assert TikTokClient(value) is not None


@pytest.mark.parametrize(("value", "seconds"), [(None, 172800.0), ("172800", 172800.0), ("48h", 172800.0),
                                                ("2d", 172800.0), ("90m", 5400.0), ("30s", 30.0), ("1.5h", 5400.0),
                                                ("48 H", 172800.0)])
def test_max_event_age(value, seconds):
    from tiktok_relay.config import max_event_age_from_env

    assert max_event_age_from_env({} if value is None else {"TIKTOK_MAX_EVENT_AGE": value}) == seconds


@pytest.mark.parametrize("value", ["0", "-1h", "48x", "two days", "h"])
def test_bad_max_event_age_names_the_variable(value):
    from tiktok_relay.config import max_event_age_from_env

    with pytest.raises(ConfigurationError, match="TIKTOK_MAX_EVENT_AGE"):
        max_event_age_from_env({"TIKTOK_MAX_EVENT_AGE": value})
