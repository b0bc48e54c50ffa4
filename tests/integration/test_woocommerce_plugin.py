"""The WooCommerce plugin (tiktok_relay/storefront/woocommerce/tiktok-relay.php), run by a real PHP
against stand-ins of the WordPress functions it calls: it keeps the landing page's ttclid, saves
_ttclid and _ttp into the order's meta on both checkouts, stores nothing that is not a click id,
and the mapping reads what it writes. Skips only where PHP is missing (make test installs it)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.support.stores import wire, woo, woo_order
from tiktok_relay.storefront import WOOCOMMERCE_PLUGIN, source

PHP = shutil.which("php")
pytestmark = pytest.mark.skipif(PHP is None, reason="php is not installed (make test installs php-cli)")
# What WordPress provides, as far as the plugin uses it; the checkout hooks fired as WooCommerce does.
HARNESS = r"""<?php
define('ABSPATH', '/tmp/');
define('COOKIEPATH', '/');
define('COOKIE_DOMAIN', '');
define('DAY_IN_SECONDS', 86400);
$GLOBALS['hooks'] = [];
function add_action($hook, $callback) { $GLOBALS['hooks'][$hook][] = $callback; }
function do_action($hook, ...$args) { foreach ($GLOBALS['hooks'][$hook] ?? [] as $cb) { $cb(...$args); } }
function is_admin() { return $GLOBALS['input']['admin'] ?? false; }
function is_ssl() { return true; }
function wp_unslash($value) { return is_string($value) ? stripslashes($value) : $value; }
class Order { public $meta = []; function update_meta_data($key, $value) { $this->meta[$key] = $value; } }
$GLOBALS['input'] = json_decode(file_get_contents('php://stdin'), true);
$_GET = $GLOBALS['input']['get'];
$_COOKIE = $GLOBALS['input']['cookie'];
require $argv[1];
do_action('init');
$order = new Order();
do_action($GLOBALS['input']['hook'], $order, []);
echo json_encode(['meta' => (object) $order->meta, 'cookie' => (object) $_COOKIE,
                  'hooks' => array_keys($GLOBALS['hooks'])]);
"""
CLASSIC = "woocommerce_checkout_create_order"
BLOCKS = "woocommerce_store_api_checkout_update_order_from_request"
TTCLID = "E.C.P.CvQBwooClickIdFromTikTokAd2026"
TTP = "2pQx7wooTtpCookieValue0001"


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    folder = tmp_path_factory.mktemp("php")
    (folder / "tiktok-relay.php").write_text(source(WOOCOMMERCE_PLUGIN))
    (folder / "harness.php").write_text(HARNESS)
    return folder


def checkout(plugin, *, get=None, cookie=None, hook=CLASSIC, admin=False) -> dict:
    done = subprocess.run([PHP, str(plugin / "harness.php"), str(plugin / "tiktok-relay.php")],
                          input=json.dumps({"get": get or {}, "cookie": cookie or {}, "hook": hook, "admin": admin}),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr + done.stdout
    return json.loads(done.stdout)


def test_the_plugin_is_valid_php_and_hooks_init_and_both_checkouts(plugin):
    lint = subprocess.run([PHP, "-l", str(plugin / "tiktok-relay.php")], capture_output=True, text=True, timeout=60)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert checkout(plugin)["hooks"] == ["init", CLASSIC, BLOCKS]


@pytest.mark.parametrize("hook", [CLASSIC, BLOCKS])
def test_the_landing_pages_ttclid_and_the_pixel_cookie_are_saved_on_the_order(plugin, hook):
    got = checkout(plugin, get={"ttclid": TTCLID}, cookie={"_ttp": TTP}, hook=hook)
    assert got["meta"] == {"_ttclid": TTCLID, "_ttp": TTP}
    assert got["cookie"]["tiktok_relay_ttclid"] == TTCLID  # kept for the checkout pages that follow


def test_a_ttclid_kept_from_an_earlier_page_is_saved(plugin):
    got = checkout(plugin, cookie={"tiktok_relay_ttclid": TTCLID})
    assert got["meta"] == {"_ttclid": TTCLID}


@pytest.mark.parametrize("value", ["ada.lovelace@example.com", "E.C.P. with spaces", "x" * 513, "<script>", ""])
def test_what_is_not_a_click_id_is_not_stored(plugin, value):
    got = checkout(plugin, get={"ttclid": value}, cookie={"_ttp": value})
    assert got["meta"] == {} and "tiktok_relay_ttclid" not in got["cookie"]


def test_nothing_is_kept_on_admin_pages(plugin):
    assert checkout(plugin, get={"ttclid": TTCLID}, admin=True)["meta"] == {}


def test_the_mapping_reads_what_the_plugin_writes(plugin):
    meta = checkout(plugin, get={"ttclid": TTCLID}, cookie={"_ttp": TTP})["meta"]
    order = woo_order(meta_data=[{"id": n, "key": key, "value": value} for n, (key, value) in enumerate(meta.items())])
    user = wire(woo(order))["user"]
    assert (user["ttclid"], user["ttp"]) == (TTCLID, TTP)
