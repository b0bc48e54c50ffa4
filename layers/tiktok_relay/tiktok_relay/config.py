"""Settings from the environment, under the names users of `pytt-events-api` already know.

| Variable               | Meaning                                   | Default                                  |
|------------------------|-------------------------------------------|------------------------------------------|
| TIKTOK_ACCESS_TOKEN    | Events API access token                   | required to send                         |
| TIKTOK_PIXEL_ID        | pixel code, sent as `event_source_id`     | required to build or send                |
| TIKTOK_API_VERSION     | API version in the URL                    | v1.3                                     |
| TIKTOK_TEST_EVENT_CODE | sends everything as test events           | unset                                    |
| TIKTOK_API_BASE_URL    | API base, e.g. the fake TikTok's URL      | https://business-api.tiktok.com/open_api |
| TIKTOK_PHONE_REGION    | region for phone numbers without +country | unset                                    |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from tiktok_relay.errors import ConfigurationError


def env_value(env: Mapping[str, str], name: str) -> str | None:
    """The trimmed value of a variable, None when unset or blank."""
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def require(env: Mapping[str, str], name: str, purpose: str) -> str:
    value = env_value(env, name)
    if value is None:
        raise ConfigurationError(f"{name} is not set; it is needed {purpose}")
    return value


def phone_region_from_env(env: Mapping[str, str]) -> str | None:
    """TIKTOK_PHONE_REGION, checked now: a typo would otherwise silently disable the default region."""
    region = env_value(env, "TIKTOK_PHONE_REGION")
    if region is not None:
        from tiktok_relay.tiktok.phones import normalize_region

        if normalize_region(region) is None:
            raise ConfigurationError("TIKTOK_PHONE_REGION must be an ISO 3166-1 alpha-2 region code such as US")
    return region


@dataclass(frozen=True)
class TikTokSettings:
    DEFAULT_BASE_URL = "https://business-api.tiktok.com/open_api"
    DEFAULT_API_VERSION = "v1.3"

    access_token: str | None = field(default=None, repr=False)
    pixel_id: str | None = None
    api_version: str = DEFAULT_API_VERSION
    test_event_code: str | None = None
    base_url: str = DEFAULT_BASE_URL
    phone_region: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TikTokSettings:
        env = os.environ if env is None else env
        version = env_value(env, "TIKTOK_API_VERSION") or cls.DEFAULT_API_VERSION
        if not (version.startswith("v") and len(version) >= 2):
            raise ConfigurationError(f"TIKTOK_API_VERSION must look like v1.3 (got {version!r})")
        base_url = env_value(env, "TIKTOK_API_BASE_URL") or cls.DEFAULT_BASE_URL
        if not base_url.startswith(("https://", "http://")):
            raise ConfigurationError("TIKTOK_API_BASE_URL must be an http(s) URL")
        return cls(
            access_token=env_value(env, "TIKTOK_ACCESS_TOKEN"),
            pixel_id=env_value(env, "TIKTOK_PIXEL_ID"),
            api_version=version,
            test_event_code=env_value(env, "TIKTOK_TEST_EVENT_CODE"),
            base_url=base_url,
            phone_region=phone_region_from_env(env),
        )

    def require_token(self) -> str:
        if not self.access_token:
            raise ConfigurationError(
                "TIKTOK_ACCESS_TOKEN is not set; create an Events API access token in TikTok "
                "Events Manager (pixel > Settings > Generate Access Token)"
            )
        return self.access_token

    def require_pixel(self) -> str:
        if not self.pixel_id:
            raise ConfigurationError("TIKTOK_PIXEL_ID is not set (or pass --pixel-id); it is your pixel code")
        return self.pixel_id
