"""Many shops in one deployment: the tenants document, and the `Tenants` port over it.

The document (its shape is relied upon):

    {"shops": {"acme.myshopify.com": {"pixel_id": "C...", "access_token": "...", "webhook_secret": "s1,s2",
                                       "settings": {"TIKTOK_TEST_EVENT_CODE": "TEST123"}}}}

- A key is a store's identity as its platform names it (`tenant_kinds()`: a Shopify shop is its
  myshopify.com domain, a WooCommerce store its home URL, "https://shop.example.com/"); keys are
  matched in their canonical form (lower case; a WooCommerce URL without its scheme and slash). Nothing here
  knows a platform: each one adds its `TenantKind` (how its keys look) and, when it has
  settings of its own, its `SettingsParser`.
- `pixel_id`, `access_token` and `webhook_secret` (comma-separated, as SHOPIFY_WEBHOOK_SECRET:
  list the new and the old one during a rotation) are required; `admin_access_token` (the
  store's own API token, for the jobs that call the store: reconciliation) is optional.
- `settings` keys are the names of the environment settings (`settings_parsers()` lists who
  reads which, for which platform), parsed by the very parsers the environment is: one rule,
  one message. A shop's settings are its own: the stack's single-shop settings
  (TIKTOK_PIXEL_ID, SHOPIFY_*) are not its defaults. TIKTOK_MAX_EVENT_AGE, the sender's stale
  limit, overrides the stack's for it.

Errors name the shop and the key, never a value: a token or secret in a message would end up in
logs. A broken entry fails that shop only (its deliveries answer 500 misconfigured, so Shopify
retries them once it is fixed); a document that cannot be read at all fails every shop.

Where it lives: a file named by TIKTOK_RELAY_TENANTS outside AWS (`FileText`), a Secrets Manager
secret named by TENANTS_SECRET_NAME in AWS (pipeline/aws.py ManagedSecret: Powertools
Parameters, cached 300 s; Secrets Manager keeps at most 64 KB per secret, about 200 shops).
`DocumentTenants` reads it through either and parses each version once; `all_tenants` lists
its shops (for jobs that visit every one).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tiktok_relay.config import check_pixel_id, checked_secret, env_value, max_event_age_from_env
from tiktok_relay.errors import ConfigurationError, json_problem
from tiktok_relay.pipeline.ports import Tenant, UnknownTenant
from tiktok_relay.sources.common.signing import parse_secrets

TENANTS_FILE_VARIABLE = "TIKTOK_RELAY_TENANTS"  # outside AWS: the document's path
TENANTS_SECRET_VARIABLE = "TENANTS_SECRET_NAME"  # in AWS: the Secrets Manager secret holding it
ENTRY_FIELDS = ("pixel_id", "access_token", "webhook_secret", "admin_access_token", "settings")
# Settings a tenant gives as entry fields instead (named in the message for the one that is not a setting).
_FIELD_OF = {"TIKTOK_PIXEL_ID": "pixel_id", "TIKTOK_ACCESS_TOKEN": "access_token",
             "SHOPIFY_WEBHOOK_SECRET": "webhook_secret", "WOOCOMMERCE_WEBHOOK_SECRET": "webhook_secret",
             "SHOPIFY_ADMIN_ACCESS_TOKEN": "admin_access_token"}
SINGLE_TENANT = ""  # the key of a single-shop deployment's one tenant (no tenants document)
_MAX_KEY_SHOWN = 100  # a key that is not a shop identity is quoted, cut to this many characters


@dataclass(frozen=True)
class TenantKind:
    """How one platform names its shops in the document. `canonical(key)` is the key as the
    platform's source looks it up (lower case, trimmed), or None when `key` is not of this kind."""

    platform: str
    describe: str  # for messages: "a Shopify shop is its myshopify.com domain, such as acme.myshopify.com"
    canonical: Callable[[str], str | None]


@dataclass(frozen=True)
class SettingsParser:
    """One reader of a tenant's settings: the names it reads, and the function the environment
    path uses (a mapping in, a value out; ConfigurationError naming the setting). `platform`:
    the tenants it reads them for (a TenantKind.platform), None for every tenant."""

    name: str  # the key of Tenant.parsed
    names: frozenset[str]
    parse: Callable[[Mapping[str, str]], Any]
    platform: str | None = None

    def applies_to(self, platform: str) -> bool:
        return self.platform is None or self.platform == platform


def _sender_settings(settings: Mapping[str, str]) -> float | None:
    """The tenant's own stale limit in seconds, None when it sets none (the stack's applies)."""
    return max_event_age_from_env(settings) if env_value(settings, "TIKTOK_MAX_EVENT_AGE") else None


SENDER_SETTINGS = SettingsParser("sender", frozenset({"TIKTOK_MAX_EVENT_AGE"}), _sender_settings)


def tenant_kinds() -> tuple[TenantKind, ...]:
    """Every platform's shop identity, tried in this order. A platform with its own keys adds its
    kind here. Stripe has none: a Stripe event names its account only in the signed body, so no
    tenant can be picked before the signature is checked (README "Stripe")."""
    from tiktok_relay.sources.shopify.shops import TENANT_KIND as SHOPIFY
    from tiktok_relay.sources.woocommerce.store import TENANT_KIND as WOOCOMMERCE

    return (SHOPIFY, WOOCOMMERCE)


def settings_parsers() -> tuple[SettingsParser, ...]:
    """Who reads a tenant's settings. A platform with settings of its own adds its parser here."""
    from tiktok_relay.sources.shopify.settings import SETTINGS_PARSER as SHOPIFY
    from tiktok_relay.sources.woocommerce.settings import SETTINGS_PARSER as WOOCOMMERCE

    return (SHOPIFY, WOOCOMMERCE, SENDER_SETTINGS)


def known_settings(platform: str | None = None) -> frozenset[str]:
    """The setting names a tenant of `platform` may give (None: of any platform)."""
    return frozenset().union(*(parser.names for parser in settings_parsers()
                               if platform is None or parser.applies_to(platform)))


@dataclass(frozen=True)
class TenantDirectory:
    """A parsed document: the tenants, and what is wrong with each broken entry (by key)."""

    origin: str  # "TIKTOK_RELAY_TENANTS (tenants.json)", "the secret named by TENANTS_SECRET_NAME"
    tenants: Mapping[str, Tenant]
    problems: Mapping[str, tuple[str, ...]]

    def find(self, platform: str, key: str | None) -> Tenant:
        if key is not None and key in self.problems:
            raise ConfigurationError(f"{self.origin}, shop {key}: " + "; ".join(self.problems[key]))
        tenant = self.tenants.get(key) if key is not None else None
        if tenant is None or tenant.platform != platform:
            raise UnknownTenant("no tenant is configured for the shop this delivery names; add it to the tenants "
                                "document")
        return tenant

    @property
    def keys(self) -> list[str]:
        return sorted({*self.tenants, *self.problems})

    def report(self) -> list[str]:
        """Every problem, one line each, naming the shop and the key (what `tenants check` prints)."""
        return [f"shop {key}: {problem}" for key in sorted(self.problems) for problem in self.problems[key]]


def parse_document(text: str | bytes, origin: str) -> TenantDirectory:
    """The document's tenants. Raises ConfigurationError naming `origin` when it is not a
    tenants document at all; a broken entry is only reported (TenantDirectory.problems)."""
    try:
        document = json.loads(text)
    except (RecursionError, ValueError) as exc:  # a decoding error is a ValueError too
        raise ConfigurationError(f"{origin} is not valid JSON ({json_problem(exc)})") from None
    if not isinstance(document, dict) or not isinstance(document.get("shops"), dict):
        raise ConfigurationError(f'{origin} must be a JSON object {{"shops": {{SHOP: {{...}}, ...}}}}')
    if extra := sorted(k for k in document if k != "shops"):
        raise ConfigurationError(f"{origin}: unknown top-level key(s) {', '.join(map(_quoted, extra))}; "
                                 'only "shops" is read')
    if not document["shops"]:
        raise ConfigurationError(f"{origin} lists no shop")
    tenants: dict[str, Tenant] = {}
    problems: dict[str, list[str]] = {}
    kinds, parsers = tenant_kinds(), settings_parsers()
    for raw_key, entry in document["shops"].items():
        key, kind = _canonical(raw_key, kinds)
        if kind is None:
            problems.setdefault(_quoted(raw_key), []).append(
                "not a shop identity: " + "; ".join(k.describe for k in kinds))
            continue
        if key in tenants or key in problems:
            problems.setdefault(key, []).append("listed twice (keys are matched in lower case)")
            tenants.pop(key, None)
            continue
        tenant, found = _entry(key, kind.platform, entry, [p for p in parsers if p.applies_to(kind.platform)])
        if found:
            problems[key] = found
        else:
            tenants[key] = tenant  # type: ignore[assignment]
    return TenantDirectory(origin, MappingProxyType(tenants),
                           MappingProxyType({k: tuple(v) for k, v in problems.items()}))


def _quoted(key: object) -> str:
    text = str(key)
    return repr(text if len(text) <= _MAX_KEY_SHOWN else text[:_MAX_KEY_SHOWN] + "...")


def _canonical(key: str, kinds: tuple[TenantKind, ...]) -> tuple[str, TenantKind | None]:
    for kind in kinds:
        if (canonical := kind.canonical(key)) is not None:
            return canonical, kind
    return key, None


def _entry(key: str, platform: str, entry: object, parsers: list[SettingsParser]
           ) -> tuple[Tenant | None, list[str]]:
    """The tenant of one entry, or what is wrong with it (naming keys, never values)."""
    if not isinstance(entry, dict):
        return None, ["must be an object with pixel_id, access_token, webhook_secret (and settings)"]
    problems = [f"unknown key {_quoted(name)} (known: {', '.join(ENTRY_FIELDS)})"
                for name in entry if name not in ENTRY_FIELDS]
    pixel_id = _checked(problems, entry, "pixel_id", lambda v: check_pixel_id(v, "pixel_id"))
    token = _checked(problems, entry, "access_token", lambda v: checked_secret(v, "access_token"))
    secrets = _checked(problems, entry, "webhook_secret", _webhook_secrets)
    admin_token = None
    if entry.get("admin_access_token") not in (None, ""):  # optional: only jobs that call the store need it
        admin_token = _checked(problems, entry, "admin_access_token",
                               lambda v: checked_secret(v, "admin_access_token"))
    settings = _settings(problems, entry.get("settings", {}), known_settings(platform))
    parsed: dict[str, Any] = {}
    if settings is not None:
        for parser in parsers:
            try:
                parsed[parser.name] = parser.parse(settings)
            except ConfigurationError as exc:
                problems.append(f"settings: {exc}")
    if problems:
        return None, problems
    return Tenant(key=key, platform=platform, pixel_id=pixel_id, webhook_secrets=secrets, access_token=token,
                  admin_access_token=admin_token, settings=MappingProxyType(settings or {}),
                  parsed=MappingProxyType(parsed)), []


def _checked(problems: list[str], entry: dict, name: str, check: Callable[[str], Any]) -> Any:
    value = entry.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        problems.append(f"{name} is missing")
        return None
    if not isinstance(value, str):
        problems.append(f"{name} must be a string")
        return None
    try:
        return check(value.strip())
    except ConfigurationError as exc:
        problems.append(str(exc))
        return None


def _webhook_secrets(value: str) -> tuple[str, ...]:
    secrets = parse_secrets(value)
    if not secrets:
        raise ConfigurationError("webhook_secret holds no secret (comma-separated secrets)")
    return tuple(checked_secret(secret, "webhook_secret") for secret in secrets)


def _settings(problems: list[str], settings: object, known: frozenset[str]) -> dict[str, str] | None:
    """The settings as environment strings (a number is taken as its text), or None when they
    cannot be read; each name not in `known` is a problem."""
    if not isinstance(settings, dict):
        problems.append("settings must be an object of setting names to values")
        return None
    out: dict[str, str] = {}
    for name, value in settings.items():
        if name in _FIELD_OF:
            problems.append(f"settings: {name} is not a setting here; give it as the entry's {_FIELD_OF[name]}")
        elif name not in known:
            problems.append(f"settings: unknown setting {_quoted(name)} (known: {', '.join(sorted(known))})")
        elif isinstance(value, str):
            out[name] = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[name] = str(value)
        else:
            problems.append(f"settings: {name} must be a string")
    return out


class DocumentTenants:
    """`Tenants` over a document read by `read(refresh)` (the text, from a file or a secret
    store, which may cache it; ConfigurationError or Unavailable when it cannot be read). Each
    version of the text is parsed once. An unknown shop re-reads it once (`refresh=True`: the
    reader rate-limits that), so a shop just added is found without waiting for a cache."""

    def __init__(self, read: Callable[[bool], str], origin: str):
        self._read = read
        self.origin = origin
        self._lock = threading.Lock()
        self._text: str | None = None
        self._parsed: TenantDirectory | ConfigurationError | None = None

    def directory(self, *, refresh: bool = False) -> TenantDirectory:
        """The current document, parsed (ConfigurationError when it cannot be)."""
        text = self._read(refresh)
        with self._lock:
            if text is not self._text and text != self._text:
                self._text = text
                try:
                    self._parsed = parse_document(text, self.origin)
                except ConfigurationError as exc:
                    self._parsed = exc
            parsed = self._parsed
        if isinstance(parsed, ConfigurationError):
            raise ConfigurationError(str(parsed))
        assert parsed is not None
        return parsed

    def find(self, platform: str, key: str | None, *, refresh: bool = False) -> Tenant:
        try:
            return self.directory(refresh=refresh).find(platform, key)
        except UnknownTenant:
            if refresh:
                raise
        return self.directory(refresh=True).find(platform, key)

    def __repr__(self) -> str:
        return f"DocumentTenants({self.origin!r})"


def all_tenants(tenants: DocumentTenants, *, platform: str | None = None,
                refresh: bool = False) -> list[Tenant]:
    """Every usable tenant of the document (of `platform` only, when given), by key: what a job
    that visits each shop iterates (reconciliation, `register`). A broken entry is left out;
    `tenants.directory().report()` says what is wrong with it. ConfigurationError or
    Unavailable when the document cannot be read at all."""
    directory = tenants.directory(refresh=refresh)
    return [tenant for _, tenant in sorted(directory.tenants.items())
            if platform is None or tenant.platform == platform]


class FileText:
    """The document in a file (TIKTOK_RELAY_TENANTS), read again whenever it is asked for: an
    edit takes effect at the next delivery (`serve`)."""

    def __init__(self, path: str | Path, variable: str = TENANTS_FILE_VARIABLE):
        self.path = Path(path)
        self.origin = f"{variable} ({self.path})"

    def __call__(self, refresh: bool = False) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigurationError(f"{self.origin}: no such file") from None
        except UnicodeDecodeError:
            raise ConfigurationError(f"{self.origin} is not valid JSON (not UTF-8 text)") from None
        except OSError as exc:
            raise ConfigurationError(f"{self.origin}: cannot read ({exc.strerror})") from None


def file_tenants(path: str | Path, variable: str = TENANTS_FILE_VARIABLE) -> DocumentTenants:
    text = FileText(path, variable)
    return DocumentTenants(text, text.origin)


def tenants_configured(env: Mapping[str, str]) -> bool:
    """Whether the environment names a tenants document (TIKTOK_RELAY_TENANTS or TENANTS_SECRET_NAME)."""
    return env_value(env, TENANTS_FILE_VARIABLE) is not None or env_value(env, TENANTS_SECRET_VARIABLE) is not None


def tenants_from_env(env: Mapping[str, str]) -> DocumentTenants | None:
    """The tenants the environment configures: TIKTOK_RELAY_TENANTS (a file, outside AWS) or
    TENANTS_SECRET_NAME (Secrets Manager); None when neither is set (a single-shop deployment)."""
    # Read by their literal names, as every variable the deployed code reads (a template test scans for them).
    if (path := env_value(env, "TIKTOK_RELAY_TENANTS")) is not None:
        return file_tenants(path)
    if (name := env_value(env, "TENANTS_SECRET_NAME")) is not None:
        from tiktok_relay.pipeline.aws import ManagedSecret

        secret = ManagedSecret(name, TENANTS_SECRET_VARIABLE)
        return DocumentTenants(secret.text, f"the tenants document (the secret named by {TENANTS_SECRET_VARIABLE})")
    return None


class SingleTenant:
    """`Tenants` of a single-shop deployment: whatever shop a delivery names, the one tenant the
    environment configures (its pixel, its webhook secrets from `secrets`, its settings). Its
    key is "" (SINGLE_TENANT): queue messages then name no tenant, exactly as before tenants."""

    def __init__(self, platform: str, *, pixel_id: str, secrets: Any = None, parsed: Mapping[str, Any]):
        self._platform = platform
        self._pixel_id = pixel_id
        self._secrets = secrets  # a SecretSource; None where nothing is signed (EventBridge)
        self._parsed = MappingProxyType(dict(parsed))

    def find(self, platform: str, key: str | None, *, refresh: bool = False) -> Tenant:
        secrets = tuple(parse_secrets(self._secrets.get(refresh=refresh))) if self._secrets is not None else ()
        return Tenant(key=SINGLE_TENANT, platform=self._platform, pixel_id=self._pixel_id, webhook_secrets=secrets,
                      parsed=self._parsed)

    def __repr__(self) -> str:
        return f"SingleTenant({self._platform!r})"
