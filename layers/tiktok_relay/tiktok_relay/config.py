"""Settings from the environment, under the names users of `pytt-events-api` already know.

| Variable               | Meaning                                   | Default                                  |
|------------------------|-------------------------------------------|------------------------------------------|
| TIKTOK_ACCESS_TOKEN    | Events API access token                   | required to send                         |
| TIKTOK_PIXEL_ID        | pixel code, sent as `event_source_id`     | required to build or send                |
| TIKTOK_API_VERSION     | API version in the URL                    | v1.3                                     |
| TIKTOK_TEST_EVENT_CODE | sends everything as test events           | unset                                    |
| TIKTOK_API_BASE_URL    | API base, e.g. the fake TikTok's URL      | https://business-api.tiktok.com/open_api |
| TIKTOK_PHONE_REGION    | region for phone numbers without +country | unset                                    |
| TIKTOK_MAX_EVENT_AGE   | older events are dead-lettered as stale   | 48h (TikTok's deduplication window)      |

TIKTOK_API_BASE_URL must be https://, except for a local test double (http://localhost,
http://127.0.0.1, http://[::1]): the access token travels in every request's headers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import ClassVar, NamedTuple

from tiktok_relay.errors import ConfigurationError

# A pixel code is letters and digits (template.yaml's AllowedPattern for TikTokPixelId; a test
# keeps the two equal). Checked wherever one comes in, so "C123 456" is refused before sending.
PIXEL_ID_PATTERN = "^[A-Za-z0-9]+$"
_PIXEL_ID = re.compile(PIXEL_ID_PATTERN)
_EVENT_SET = re.compile(r"[A-Za-z0-9]{1,64}", re.ASCII)


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


def checked_secret(value: str, variable: str) -> str:
    """`value` when it can be a token or secret; a ConfigurationError naming `variable` (never
    the value) when it holds a line break, another control character or a non-ASCII character.

    A copy-paste slip (a smart quote, a trailing line from `echo`, a non-breaking space) is the
    usual cause. Such a token cannot travel in an HTTP header: http.client would refuse it with
    a message quoting it, and a secret that differs from what Shopify signs with never matches.
    """
    if value.isascii() and value.isprintable():
        return value
    if any(ch in value for ch in "\r\n"):
        what = "a line break"
    elif not value.isascii():
        what = "a non-ASCII character (a smart quote or a non-breaking space pasted with it?)"
    else:
        what = "a control character"
    raise ConfigurationError(f"{variable} holds {what}; set it again to the value alone")


# http:// only for a test double on this machine: anything else would carry the token in clear.
_LOCAL_HTTP = re.compile(r"http://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?(/.*)?", re.IGNORECASE)
_AGE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([smhd]?)", re.IGNORECASE)
_AGE_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_MAX_EVENT_AGE_SECONDS = 48 * 3600  # TikTok's deduplication window (README "Reliability")


def is_local_url(url: str) -> bool:
    """An http:// URL on this machine (a test double such as the fake TikTok)."""
    return _LOCAL_HTTP.fullmatch(url) is not None


def base_url_from_env(env: Mapping[str, str], default: str) -> str:
    """TIKTOK_API_BASE_URL: https://, or http:// to localhost only."""
    base_url = env_value(env, "TIKTOK_API_BASE_URL") or default
    if not (base_url.lower().startswith("https://") or is_local_url(base_url)):
        raise ConfigurationError(
            "TIKTOK_API_BASE_URL must be an https:// URL (http:// only for a test double on localhost)")
    return base_url


def parse_duration(text: str) -> float | None:
    """Seconds of a positive duration: a number of seconds, or with a unit (90m, 48h, 2d); None
    when `text` is not one."""
    match = _AGE.fullmatch(text.strip())
    if match is None or float(match.group(1)) <= 0:
        return None
    return float(match.group(1)) * _AGE_UNITS[match.group(2).lower()]


def max_event_age_from_env(env: Mapping[str, str]) -> float:
    """TIKTOK_MAX_EVENT_AGE in seconds: a number of seconds, or with a unit (90m, 48h, 2d)."""
    text = env_value(env, "TIKTOK_MAX_EVENT_AGE")
    if text is None:
        return float(DEFAULT_MAX_EVENT_AGE_SECONDS)
    seconds = parse_duration(text)
    if seconds is None:
        raise ConfigurationError("TIKTOK_MAX_EVENT_AGE must be a positive duration such as 172800, 48h or 2d")
    return seconds


def check_phone_region(region: str | None, name: str) -> str | None:
    """`region` unchanged if it is a region code libphonenumber knows; else ConfigurationError
    naming `name` (the variable or flag it came from). A typo would otherwise silently disable
    the default region, or be blamed on every phone number."""
    if region is not None:
        from tiktok_relay.tiktok.phones import normalize_region

        if normalize_region(region) is None:
            raise ConfigurationError(f"{name} must be an ISO 3166-1 alpha-2 region code such as US")
    return region


def check_pixel_id(pixel_id: str | None, name: str) -> str | None:
    """`pixel_id` unchanged if it looks like a pixel code; else ConfigurationError naming `name`."""
    if pixel_id is not None and not _PIXEL_ID.match(pixel_id):
        raise ConfigurationError(f"{name} must be a pixel code: letters and digits only, as Events Manager shows it")
    return pixel_id


def fields_from_env(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list of some of `allowed` (line-item fields for content_id, in order of
    preference); `allowed` itself when unset. ConfigurationError naming `name` otherwise."""
    raw = env_value(env, name)
    if raw is None:
        return allowed
    fields = tuple(f.strip().lower() for f in raw.split(",") if f.strip())
    if not fields or any(f not in allowed for f in fields):
        raise ConfigurationError(f"{name} must list some of {', '.join(allowed)} (comma-separated)")
    return fields


def offline_event_set_from_env(env: Mapping[str, str]) -> str | None:
    """TIKTOK_OFFLINE_EVENT_SET_ID, checked now: the offline event set's id is letters and digits."""
    value = env_value(env, "TIKTOK_OFFLINE_EVENT_SET_ID")
    if value is not None and not _EVENT_SET.fullmatch(value):
        raise ConfigurationError("TIKTOK_OFFLINE_EVENT_SET_ID must be the offline event set's id (letters and digits), "
                                 "from TikTok Events Manager")
    return value


def phone_region_from_env(env: Mapping[str, str]) -> str | None:
    """TIKTOK_PHONE_REGION, checked now."""
    return check_phone_region(env_value(env, "TIKTOK_PHONE_REGION"), "TIKTOK_PHONE_REGION")


DEFAULT_BASE_URL = "https://business-api.tiktok.com/open_api"
DEFAULT_API_VERSION = "v1.3"


class _Settings(NamedTuple):
    access_token: str | None = None
    pixel_id: str | None = None
    api_version: str = DEFAULT_API_VERSION
    test_event_code: str | None = None
    base_url: str = DEFAULT_BASE_URL
    phone_region: str | None = None


class TikTokSettings(_Settings):
    """The library's settings: immutable, compared by value, the token never in the repr. (A named
    tuple, not a dataclass: importing dataclasses costs ~5 ms, a sixth of a one-event `build`.)"""

    __slots__ = ()
    DEFAULT_BASE_URL: ClassVar[str] = DEFAULT_BASE_URL
    DEFAULT_API_VERSION: ClassVar[str] = DEFAULT_API_VERSION

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TikTokSettings:
        env = os.environ if env is None else env
        version = env_value(env, "TIKTOK_API_VERSION") or cls.DEFAULT_API_VERSION
        if not (version.startswith("v") and len(version) >= 2):
            raise ConfigurationError(f"TIKTOK_API_VERSION must look like v1.3 (got {version!r})")
        base_url = base_url_from_env(env, cls.DEFAULT_BASE_URL)
        token = env_value(env, "TIKTOK_ACCESS_TOKEN")
        return cls(
            access_token=None if token is None else checked_secret(token, "TIKTOK_ACCESS_TOKEN"),
            pixel_id=check_pixel_id(env_value(env, "TIKTOK_PIXEL_ID"), "TIKTOK_PIXEL_ID"),
            api_version=version,
            test_event_code=env_value(env, "TIKTOK_TEST_EVENT_CODE"),
            base_url=base_url,
            phone_region=phone_region_from_env(env),
        )

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields if name != "access_token")
        return f"TikTokSettings({shown})"

    def require_token(self) -> str:
        if not self.access_token:
            raise ConfigurationError(
                "TIKTOK_ACCESS_TOKEN is not set; create an Events API access token in TikTok "
                "Events Manager (pixel > Settings > Generate Access Token)"
            )
        return self.access_token

    def require_pixel(self, *, alternative: str | None = None) -> str:
        """The pixel code; ConfigurationError when unset. `alternative` names another way to give
        it (a command's flag), mentioned only where it exists."""
        if not self.pixel_id:
            also = f" and no {alternative} was given" if alternative else ""
            raise ConfigurationError(f"TIKTOK_PIXEL_ID is not set{also}; it is your pixel code (TikTok Events Manager)")
        return self.pixel_id
