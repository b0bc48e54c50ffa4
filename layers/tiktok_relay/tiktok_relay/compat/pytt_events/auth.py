"""pytt-events-api's `TikTokAuth`: the settings from keyword arguments, the environment or a
`.env` file in the current directory (in that order of precedence, as pydantic's BaseSettings
had it), under the same names: TIKTOK_ACCESS_TOKEN and TIKTOK_PIXEL_ID (required),
TIKTOK_TEST_EVENT_CODE, TIKTOK_API_VERSION (default v1.3). tiktok_relay's own variables
(TIKTOK_API_BASE_URL, TIKTOK_PHONE_REGION) are read too."""

from __future__ import annotations

import os
from pathlib import Path

from tiktok_relay.config import TikTokSettings
from tiktok_relay.errors import ConfigurationError

NAMES = ("TIKTOK_ACCESS_TOKEN", "TIKTOK_PIXEL_ID", "TIKTOK_TEST_EVENT_CODE", "TIKTOK_API_VERSION")


def read_dotenv(path: Path) -> dict[str, str]:
    """`NAME=value` lines of a .env file (comments, `export ` and quotes allowed); {} if absent."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        return {}
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


class TikTokAuth:
    """Raises ConfigurationError naming the variable when a required one is missing or invalid
    (pytt raised pydantic's ValidationError). Its repr never shows the token."""

    def __init__(self, **values: str | None):
        if unknown := sorted(set(values) - set(NAMES)):
            raise ConfigurationError(f"TikTokAuth takes {', '.join(NAMES)}; not {', '.join(unknown)}")
        env = {**read_dotenv(Path(".env")), **os.environ, **{k: v for k, v in values.items() if v is not None}}
        self.settings = TikTokSettings.from_env(env)
        self.TIKTOK_ACCESS_TOKEN: str = self.settings.require_token()
        self.TIKTOK_PIXEL_ID: str = self.settings.require_pixel()
        self.TIKTOK_TEST_EVENT_CODE: str | None = self.settings.test_event_code
        self.TIKTOK_API_VERSION: str = self.settings.api_version

    def __repr__(self) -> str:
        return (f"TikTokAuth(TIKTOK_PIXEL_ID={self.TIKTOK_PIXEL_ID!r}, TIKTOK_API_VERSION={self.TIKTOK_API_VERSION!r}, "
                "TIKTOK_ACCESS_TOKEN=***)")
