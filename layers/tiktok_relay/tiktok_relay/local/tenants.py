"""The tenants document outside AWS: the file TIKTOK_RELAY_TENANTS names, for `replay`, `serve`,
`map` and `sign` (pipeline/tenants.py reads and checks it)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from tiktok_relay.errors import ConfigurationError, UsageError
from tiktok_relay.pipeline.ports import Tenant, UnknownTenant
from tiktok_relay.pipeline.tenants import TENANTS_FILE_VARIABLE, DocumentTenants, file_tenants, tenant_kinds


def local_tenants(env: Mapping[str, str] | None = None) -> DocumentTenants | None:
    """The tenants document TIKTOK_RELAY_TENANTS names, checked whole (ConfigurationError naming
    every broken entry: a local run sends nothing until they are fixed); None when it is unset."""
    env = os.environ if env is None else env
    path = (env.get(TENANTS_FILE_VARIABLE) or "").strip()
    if not path:
        return None
    tenants = file_tenants(path)
    if problems := tenants.directory().report():
        raise ConfigurationError(f"{tenants.origin}: " + "; ".join(problems) +
                                 " (`tiktok-relay tenants check` lists every problem)")
    return tenants


def tenant_of(tenants: DocumentTenants, platform: str, shop: str | None, flag: str = "--shop-domain") -> Tenant:
    """The tenant a command's `flag` names (the only one when the flag is not given and the
    document lists one shop); UsageError listing the document's shops otherwise."""
    directory = tenants.directory()
    shops = [key for key, tenant in sorted(directory.tenants.items()) if tenant.platform == platform]
    if shop is None and len(shops) == 1:
        shop = shops[0]
    if shop is None:
        raise UsageError(f"{flag} is required with {TENANTS_FILE_VARIABLE}: which of its shops ({', '.join(shops)})?")
    kind = next((each for each in tenant_kinds() if each.platform == platform), None)
    key = kind.canonical(shop) if kind is not None else None  # a WooCommerce store's URL -> its key
    try:
        return directory.find(platform, key or shop.strip().lower())
    except UnknownTenant:
        raise UsageError(f"{flag} {shop} is not a shop of {tenants.origin}; its shops: {', '.join(shops)}") from None
