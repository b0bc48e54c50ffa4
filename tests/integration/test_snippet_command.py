"""`tiktok-relay snippet shopify [--pixel-id ID] [--kind theme|pixel]`, run for real: the storefront
code the package ships, filled in; a pixel id checked like everywhere else (exit 2, nothing printed)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support import clean_env, console_script
from tiktok_relay.storefront import CUSTOM_PIXEL, THEME_SNIPPET, source

PIXEL = "CSNIPPETPIXEL001"


def snippet(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(console_script() + ["snippet", "shopify", *args], capture_output=True, text=True,
                          timeout=60, env=clean_env(**env))


def declared(text: str, name: str):
    """The JSON value of `var NAME = ...;` in the printed pixel."""
    line = next(line for line in text.splitlines() if line.strip().startswith(f"var {name} = "))
    return json.loads(line.split(" = ", 1)[1].split(";", 1)[0])


def test_the_pixel_is_printed_filled_in_with_the_pixel_id_and_the_relays_settings():
    done = snippet("--kind", "pixel", "--pixel-id", PIXEL, SHOPIFY_TOPIC_EVENTS="orders/paid=CompletePayment",
                   SHOPIFY_CONTENT_ID="sku,variant_id")
    assert done.returncode == 0, done.stderr
    assert declared(done.stdout, "PIXEL_ID") == PIXEL
    assert declared(done.stdout, "PURCHASE_EVENT") == "CompletePayment"
    assert declared(done.stdout, "CONTENT_ID_FIELDS") == ["sku", "variant_id"]
    assert "__" + "TIKTOK_PIXEL_ID__" not in done.stdout and "__PURCHASE_EVENT__" not in done.stdout
    changed = [(a, b) for a, b in zip(source(CUSTOM_PIXEL).splitlines(), done.stdout.splitlines()) if a != b]
    assert [b.split(" = ")[0].strip() for _, b in changed] == ["var PIXEL_ID", "var PURCHASE_EVENT",
                                                                "var CONTENT_ID_FIELDS"]


def test_the_pixel_id_comes_from_the_environment_without_the_flag():
    done = snippet("--kind", "pixel", TIKTOK_PIXEL_ID=PIXEL)
    assert done.returncode == 0 and declared(done.stdout, "PIXEL_ID") == PIXEL
    assert declared(done.stdout, "PURCHASE_EVENT") == "Purchase"  # orders/paid's event by default


def test_the_theme_snippet_is_the_packaged_file_and_needs_no_pixel():
    done = snippet("--kind", "theme")
    assert (done.returncode, done.stdout, done.stderr) == (0, source(THEME_SNIPPET), "")
    noted = snippet("--kind", "theme", "--pixel-id", PIXEL)
    assert noted.returncode == 0 and noted.stdout == source(THEME_SNIPPET) and "--pixel-id is not used" in noted.stderr


def test_without_a_kind_both_are_printed_each_under_where_it_goes():
    done = snippet("--pixel-id", PIXEL)
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0].startswith("<!-- tiktok-relay theme snippet: snippets/tiktok-relay.liquid")
    pixel_at = next(i for i, line in enumerate(lines) if line.startswith("// tiktok-relay custom pixel: Settings"))
    assert "\n".join(lines[1:pixel_at]).rstrip("\n") == source(THEME_SNIPPET).rstrip("\n")
    assert declared("\n".join(lines[pixel_at:]), "PIXEL_ID") == PIXEL


@pytest.mark.parametrize(("args", "env", "named"), [
    (["--pixel-id", "C123 456"], {}, "--pixel-id"),
    (["--pixel-id", "C123';alert(1);//"], {}, "--pixel-id"),
    (["--kind", "pixel"], {"TIKTOK_PIXEL_ID": "not a pixel"}, "TIKTOK_PIXEL_ID"),
    (["--kind", "pixel"], {}, "no --pixel-id was given"),
    ([], {}, "TIKTOK_PIXEL_ID is not set"),
    (["--kind", "pixel", "--pixel-id", PIXEL], {"SHOPIFY_CONTENT_ID": "barcode"}, "SHOPIFY_CONTENT_ID"),
])
def test_a_missing_or_bad_setting_exits_2_naming_it_and_prints_nothing(args, env, named):
    done = snippet(*args, **env)
    assert (done.returncode, done.stdout) == (2, "")
    assert named in done.stderr and "Traceback" not in done.stderr
