"""The custom pixel in headless Chromium, with Shopify's Web Pixels globals (analytics.subscribe,
init, api.customerPrivacy, browser.cookie) and ttq stubbed: the event_ids it passes to ttq equal
what the relay's mapping derives for the same cart, checkout and order (hundreds of generated
carts, the JavaScript cart digest against the Python one), under the same consent."""

from __future__ import annotations

import copy
import random
import string

import pytest

from tests.support.shopify import load, order, run
from tiktok_relay.sources.shopify.mapping.identity import line_key
from tiktok_relay.sources.shopify.settings import ShopifySettings, parse_topic_events
from tiktok_relay.storefront import shopify_custom_pixel

PIXEL = "CE2EPIXEL0000001"
GRANTED = {"marketingAllowed": True, "saleOfDataAllowed": True, "analyticsProcessingAllowed": True,
           "preferencesProcessingAllowed": True}
CHECKOUT = load("realworld/21_checkouts-update_rudderstack-national-phone-2024.json")

# Each case: a fresh run of the pixel with its own globals; steps publish customer events or consent.
HARNESS = """<script>
window.runCases = async function (source, cases) {
  var results = [];
  for (var i = 0; i < cases.length; i++) {
    var setup = cases[i].setup, calls = [], handlers = {}, consentHandlers = [];
    window.ttq = {
      load: function (id) { calls.push(['load', id]); },
      page: function () { calls.push(['page']); },
      track: function (event, properties, options) { calls.push(['track', event, properties, options]); }
    };
    window.analytics = { subscribe: function (name, fn) { (handlers[name] = handlers[name] || []).push(fn); } };
    window.api = { customerPrivacy: { subscribe: function (name, fn) {
      if (name === 'visitorConsentCollected') consentHandlers.push(fn);
    } } };
    window.init = { customerPrivacy: setup.privacy, data: { cart: setup.cart } };
    window.browser = { cookie: { get: function (name) {
      return Promise.resolve((setup.cookies || {})[name] || '');
    } } };
    new Function(source)();
    for (var s = 0; s < cases[i].steps.length; s++) {
      var step = cases[i].steps[s];
      if (step[0] === 'consent') consentHandlers.forEach(function (fn) { fn({ customerPrivacy: step[1] }); });
      else (handlers[step[0]] || []).forEach(function (fn) { fn({ name: step[0], data: step[1] }); });
    }
    await new Promise(function (resolve) { setTimeout(resolve, 0); }); // the cart cookie's promise settles
    results.push(JSON.parse(JSON.stringify(calls)));
  }
  return results;
};
</script>"""


@pytest.fixture
def pixel_page(page, storefront):
    page.goto(storefront.page("/pixel-sandbox", HARNESS))
    return page


def run_cases(page, cases: list[dict], settings: ShopifySettings | None = None) -> list[list]:
    source = shopify_custom_pixel(PIXEL, settings)
    return page.evaluate("([source, cases]) => window.runCases(source, cases)", [source, cases])


def tracked(calls: list) -> list[tuple[str, str]]:
    return [(call[1], call[3]["event_id"]) for call in calls if call[0] == "track"]


def case(*steps, privacy=None, cart=None, cookies=None) -> dict:
    return {"setup": {"privacy": GRANTED if privacy is None else privacy, "cart": cart, "cookies": cookies or {}},
            "steps": [list(step) for step in steps]}


# --- carts: the JavaScript digest against the mapping's, for many carts ----------------------------------------------

PY_SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
SKU_PARTS = ["TEA-1", "tea-1", "É-thé", "漢字", "😀", '"q"', "back\\slash", "ctl\x01\x7f", "tab\there", "\ufeffbom",
             "x" * 120, "y" * 99 + " " * 3 + "z", "/slash/", "a" * 100 + "😀"]
TOKEN_ALPHABET = string.ascii_letters + string.digits + "-_"


def random_id(rng: random.Random) -> int:
    return rng.choice([rng.randint(1, 99), rng.randint(10**12, 10**14), 2**53 + rng.randint(1, 10**6),
                       rng.randint(10**18, 10**20)])


def random_line(rng: random.Random, taken: set[str]) -> dict:
    """A cart line in the webhook's terms, its key not among `taken`."""
    while True:
        kind = rng.choices(["variant", "product", "sku", "blank"], weights=[70, 10, 15, 5])[0]
        line = {"variant_id": random_id(rng) if kind == "variant" else None,
                "product_id": random_id(rng) if kind in ("variant", "product") else None,
                "sku": None, "quantity": rng.randint(1, 12)}
        if kind in ("sku", "blank"):
            line["sku"] = (rng.choice(PY_SPACE) + rng.choice(SKU_PARTS) + rng.choice(PY_SPACE) if kind == "sku"
                           else rng.choice(["", "   ", "\u3000"]))
        key = line_key(line)  # the mapping's own: two lines with one key would be one line in a real cart
        if key not in taken:
            taken.add(key)
            return line


def pixel_line(line: dict, quantity: int) -> dict:
    """The same line as Web Pixels show it (gids, a money cost)."""
    variant, product = line["variant_id"], line["product_id"]
    return {"quantity": quantity, "cost": {"totalAmount": {"amount": 4.5 * quantity, "currencyCode": "GBP"}},
            "merchandise": {"id": f"gid://shopify/ProductVariant/{variant}" if variant else None,
                            "sku": line["sku"], "title": "Tea", "price": {"amount": 4.5, "currencyCode": "GBP"},
                            "product": {"id": f"gid://shopify/Product/{product}" if product else None, "title": "Tea"}}}


def webhook_cart(token: str, lines: list[dict]) -> dict:
    return {"id": token, "token": token, "updated_at": "2026-11-20T10:00:00.000Z",
            "line_items": [{**line, "price": "4.50", "title": "Tea", "vendor": "Leaf & Co"} for line in lines]}


def cart_case(rng: random.Random) -> tuple[dict, str]:
    """A cart before an addition as the pixel sees it, the addition, and the mapping's event_id for the
    carts/update that follows it (the cart's whole contents after the addition)."""
    token = "".join(rng.choice(TOKEN_ALPHABET) for _ in range(rng.randint(16, 60)))
    taken: set[str] = set()
    before = [random_line(rng, taken) for _ in range(rng.randint(0, 5))]
    if before and rng.random() < 0.4:
        added_line, added = rng.choice(before), rng.randint(1, 3)  # more of a line already in the cart
    else:
        added_line, added = random_line(rng, taken), rng.randint(1, 4)
    after = [dict(line) for line in before]
    match = next((line for line in after if line is not None and _same(line, added_line)), None)
    if match is not None:
        match["quantity"] += added
    else:
        after.append({**added_line, "quantity": added})
    snapshot = {"id": f"gid://shopify/Cart/{token}?key=k{rng.randint(1, 999)}",
                "lines": [pixel_line(line, line["quantity"]) for line in before]}
    cookies = {}
    if rng.random() < 0.3:  # the page was rendered before the cart existed: the token is in the cart cookie
        snapshot = None if not before else {**snapshot, "id": None}
        cookies = {"cart": f"{token}%3Fkey%3Dabc{rng.randint(1, 99)}"}
    result = run("carts/update", webhook_cart(token, after))
    assert result.sent, result.reason
    return case(("product_added_to_cart", {"cartLine": pixel_line(added_line, added)}), cart=snapshot,
                cookies=cookies), result.events[0].event_id


def _same(a: dict, b: dict) -> bool:
    return (a["variant_id"], a["product_id"], a["sku"]) == (b["variant_id"], b["product_id"], b["sku"])


def test_add_to_cart_event_ids_equal_the_mappings_for_hundreds_of_carts(pixel_page):
    rng = random.Random(14)
    cases, expected = zip(*(cart_case(rng) for _ in range(400)))
    results = run_cases(pixel_page, list(cases))
    assert [tracked(calls) for calls in results] == [[("AddToCart", event_id)] for event_id in expected]


def test_removals_and_a_cart_view_keep_the_pixels_cart_in_step_with_the_webhooks(pixel_page):
    token = "Z2NwLXVzLWVhc3QxOjAxSlNURVBDQVJU"
    tea, cup = {"variant_id": 11, "product_id": 1, "sku": "TEA", "quantity": 3}, {"variant_id": 22, "product_id": 2,
                                                                                  "sku": "CUP", "quantity": 1}
    snapshot = {"id": f"gid://shopify/Cart/{token}", "lines": [pixel_line(tea, 3)]}
    viewed = {"cart": {"id": f"gid://shopify/Cart/{token}", "lines": [pixel_line(tea, 1), pixel_line(cup, 1)]}}
    [calls] = run_cases(pixel_page, [case(
        ("product_removed_from_cart", {"cartLine": pixel_line(tea, 2)}),  # 3 -> 1
        ("product_added_to_cart", {"cartLine": pixel_line(cup, 1)}),  # tea 1, cup 1
        ("cart_viewed", viewed),  # the same cart, seen whole
        ("product_added_to_cart", {"cartLine": pixel_line(tea, 4)}),  # tea 5, cup 1
        cart=snapshot)])
    expected = [run("carts/update", webhook_cart(token, lines)).events[0].event_id
                for lines in ([{**tea, "quantity": 1}, cup], [{**tea, "quantity": 5}, cup])]
    assert tracked(calls) == [("AddToCart", expected[0]), ("AddToCart", expected[1])]


def test_lines_of_one_variant_and_lines_without_a_usable_quantity_digest_as_the_mapping_does(pixel_page):
    token = "c1-9f8e7d6c5b4a"
    engraved = {"variant_id": 11, "product_id": 1, "sku": "MUG", "quantity": 4}  # two lines: other properties
    plain = {**engraved, "quantity": 2}
    odd = {"variant_id": 33, "product_id": 3, "sku": None, "quantity": None}
    huge = {"variant_id": 44, "product_id": 4, "sku": None, "quantity": 2**31}  # beyond what a count may be
    snapshot = {"id": f"gid://shopify/Cart/{token}",
                "lines": [pixel_line(engraved, 4), pixel_line(plain, 2), {**pixel_line(odd, 1), "quantity": None},
                          pixel_line(huge, 2**31)]}
    added = {"variant_id": 22, "product_id": 2, "sku": "CUP", "quantity": 1}
    [calls] = run_cases(pixel_page, [case(("product_added_to_cart", {"cartLine": pixel_line(added, 1)}),
                                          cart=snapshot)])
    expected = run("carts/update", webhook_cart(token, [engraved, plain, odd, huge, added])).events[0].event_id
    assert tracked(calls) == [("AddToCart", expected)]


def test_an_addition_without_a_cart_token_is_not_sent(pixel_page):
    line = {"variant_id": 5, "product_id": 6, "sku": None, "quantity": 1}
    [calls] = run_cases(pixel_page, [case(("product_added_to_cart", {"cartLine": pixel_line(line, 1)}))])
    assert tracked(calls) == []  # an event without the server's event_id would be counted twice


# --- checkouts and orders ---------------------------------------------------------------------------------------------

def checkout_data(token: str, order_id: str | None = None) -> dict:
    return {"checkout": {"token": token, "currencyCode": "GBP", "totalPrice": {"amount": "12.50", "currencyCode": "GBP"},
                         "order": {"id": order_id} if order_id else None,
                         "lineItems": [{"title": "Tea", "quantity": 2, "variant": {
                             "id": "gid://shopify/ProductVariant/42", "sku": "TEA", "price": {"amount": "6.25"},
                             "product": {"id": "gid://shopify/Product/7"}}}]}}


TOKENS = ["f3a9c2d1e0b4a5968778695a4b3c2d1e", "Z2NwLXVzLWVhc3QxOjAxSkQzNUFXVEI4VkVUNUpTTk1LSzBCMzlF",
          " padded-token ", "tok.en:with=odd+chars~/"]
ORDER_IDS = [("5829310123456", 5829310123456), ("gid://shopify/OrderIdentity/5829310123456", 5829310123456),
             ("gid://shopify/Order/9007199254740993", 9007199254740993), ("000123", 123)]


def test_initiate_checkout_and_purchase_event_ids_equal_the_mappings(pixel_page):
    cases = [case(("checkout_started", checkout_data(token))) for token in TOKENS]
    cases += [case(("checkout_completed", checkout_data("t", shown))) for shown, _ in ORDER_IDS]
    results = run_cases(pixel_page, cases)

    checkouts = [run("checkouts/update", {**copy.deepcopy(CHECKOUT), "token": token}).events[0] for token in TOKENS]
    orders = [run("orders/paid", order(id=number)).events[0] for _, number in ORDER_IDS]
    assert [tracked(calls) for calls in results] == [[(e.event, e.event_id)] for e in checkouts + orders]


def test_the_purchase_event_and_content_ids_follow_the_relays_settings(pixel_page):
    settings = ShopifySettings(topic_events=parse_topic_events("orders/paid=none,orders/create=CompletePayment"),
                               content_id_fields=("sku", "variant_id"))
    [calls] = run_cases(pixel_page, [case(("checkout_completed", checkout_data("t", "77")))], settings)
    [(_, event, properties, options)] = [call for call in calls if call[0] == "track"]
    assert (event, options) == ("CompletePayment", {"event_id": "shopify-order-77"})
    assert properties["contents"][0]["content_id"] == "TEA" and properties["value"] == 12.5


# --- consent ----------------------------------------------------------------------------------------------------------

def test_nothing_reaches_tiktok_until_marketing_is_allowed_and_then_the_pixel_loads_once(pixel_page):
    denied = {**GRANTED, "marketingAllowed": False, "saleOfDataAllowed": False}
    [calls] = run_cases(pixel_page, [case(
        ("page_viewed", {}), ("checkout_started", checkout_data("before")),
        ("consent", {**GRANTED, "saleOfDataAllowed": False}),
        ("page_viewed", {}), ("checkout_completed", checkout_data("after", "1001")), ("page_viewed", {}),
        ("consent", denied), ("checkout_started", checkout_data("withdrawn")),
        privacy=denied)])
    assert [call[0] for call in calls] == ["load", "page", "track", "page"]
    assert calls[0] == ["load", PIXEL]
    assert calls[2][1:2] == ["Purchase"] and calls[2][3] == {"event_id": "shopify-order-1001"}
    assert calls[2][2]["limited_data_use"] is True  # the buyer opted out of the sale of their data


def test_with_every_permission_events_carry_no_limited_data_use_flag(pixel_page):
    [calls] = run_cases(pixel_page, [case(("page_viewed", {}), ("checkout_started", checkout_data("tok")))])
    assert [call[0] for call in calls] == ["load", "page", "track"]
    assert "limited_data_use" not in calls[2][2]


def test_a_missing_privacy_answer_counts_as_not_allowed(pixel_page):
    [calls] = run_cases(pixel_page, [case(("page_viewed", {}), ("checkout_started", checkout_data("tok")),
                                          privacy={})])
    assert calls == []
