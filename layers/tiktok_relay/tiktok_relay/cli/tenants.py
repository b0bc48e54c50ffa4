"""`tiktok-relay tenants check [PATH]`: is a tenants document (pipeline/tenants.py) one the relay
can serve? PATH defaults to $TIKTOK_RELAY_TENANTS.

It checks what the relay checks when it reads the document, by the same code: the shape, every
shop's identity (a Shopify shop's myshopify.com domain), its pixel_id, access_token and
webhook_secret, and its settings (known names, valid values, as the environment's are).

Output: one line per shop on stdout, `ok      SHOP  pixel P, N webhook secret(s)[, settings A, B]`
or `invalid SHOP`, each problem on stderr (naming the shop and the key, never a value), then a
summary line. No token or secret is ever printed. Exit status: 0 every shop is valid, 2
otherwise (or when the document cannot be read at all).
"""

from __future__ import annotations

import argparse
import os

from tiktok_relay.cli.common import EXIT_OK, EXIT_USAGE, fail, say

# Secrets Manager keeps at most this many bytes per secret (what TenantsSecretName names in AWS).
SECRETS_MANAGER_MAX_BYTES = 65_536


def run_tenants_check(args: argparse.Namespace) -> int:
    from tiktok_relay.pipeline.tenants import TENANTS_FILE_VARIABLE, FileText, parse_document

    path = args.path or (os.environ.get(TENANTS_FILE_VARIABLE) or "").strip()
    if not path:
        return fail(f"no document to check: pass PATH or set {TENANTS_FILE_VARIABLE}")
    read = FileText(path, "tenants document") if args.path else FileText(path)
    text = read()
    directory = parse_document(text, read.origin)
    for key in directory.keys:
        tenant = directory.tenants.get(key)
        if tenant is None:
            print(f"invalid {key}")
            continue
        count = len(tenant.webhook_secrets)
        settings = f", settings {', '.join(sorted(tenant.settings))}" if tenant.settings else ""
        print(f"ok      {key}  pixel {tenant.pixel_id}, {count} webhook secret{'s' if count > 1 else ''}{settings}")
    for problem in directory.report():
        say(problem)
    size = len(text.encode("utf-8"))
    if size > SECRETS_MANAGER_MAX_BYTES:
        say(f"note: the document is {size} bytes; a Secrets Manager secret (TenantsSecretName) holds at most "
            f"{SECRETS_MANAGER_MAX_BYTES}: split the shops over two stacks")
    bad = len(directory.problems)
    shops = len(directory.keys)
    if bad:
        print(f"{read.origin}: {bad} of {shops} shop(s) invalid")
        return EXIT_USAGE
    print(f"{read.origin}: {shops} shop(s), all valid")
    return EXIT_OK
