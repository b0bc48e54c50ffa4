"""The theme snippet in headless Chromium, on a page that stubs Shopify's Customer Privacy API
(Shopify.customerPrivacy, Shopify.loadFeatures) and serves /cart/update.js on 127.0.0.1: the cart
attributes written under each consent state, nothing before the consent is known or what the
visitor refused, and the API loaded when it was missing."""

from __future__ import annotations

import json

import pytest

from tiktok_relay.storefront import shopify_theme_snippet

TTCLID = "E2E.ttclid_0123456789abcdef"
TTP = "2Xk9.ttp-cookie_value"
PRIVACY_FEATURE = [{"name": "consent-tracking-api", "version": "0.1"}]

# Before the snippet: a fetch spy (synchronous, so "nothing was written" is known without waiting).
SPY = """<script>
window.__fetches = []; window.__answered = 0;
var realFetch = window.fetch.bind(window);
window.fetch = function (url, options) {
  window.__fetches.push({ url: String(url), body: options && options.body });
  return realFetch(url, options).then(function (r) { window.__answered += 1; return r; });
};
window.__consent = { marketing: null, sale: null };
window.__privacy = {
  marketingAllowed: function () { return window.__consent.marketing; },
  saleOfDataAllowed: function () { return window.__consent.sale; }
};
</script>"""


def loaded_api(marketing: bool, sale: bool) -> str:
    """Shopify with the Customer Privacy API already loaded, answering these."""
    return (f"<script>window.__consent = {{ marketing: {json.dumps(marketing)}, sale: {json.dumps(sale)} }};"
            "window.Shopify = { routes: { root: '/' }, customerPrivacy: window.__privacy };</script>")


# Shopify without the API: loadFeatures records the request; the test decides when (and whether) it loads.
NOT_LOADED = """<script>
window.__loadRequests = [];
window.Shopify = { routes: { root: '/' }, loadFeatures: function (features, callback) {
  window.__loadRequests.push(features);
  window.__finishLoading = function (error) {
    if (!error) window.Shopify.customerPrivacy = window.__privacy;
    callback(error);
  };
} };
</script>"""


def snippet() -> str:
    return shopify_theme_snippet()


def open_page(page, storefront, *scripts: str, query: str = f"?ttclid={TTCLID}", path: str = "/products/tea"):
    page.context.add_cookies([{"name": "_ttp", "value": TTP, "url": storefront.base_url}])
    page.goto(storefront.page(path, SPY, *scripts, snippet()) + query)


def written(page, storefront, count: int) -> list[dict]:
    """The attribute updates, once `count` of them have been answered."""
    page.wait_for_function(f"window.__answered >= {count}")
    assert page.evaluate("window.__fetches.length") == count
    return [update["attributes"] for update in storefront.cart_updates]


def nothing_written(page, storefront) -> bool:
    return page.evaluate("window.__fetches.length") == 0 and storefront.cart_updates == []


def stored_click_id(page):
    return page.evaluate("window.localStorage.getItem('tiktokRelay.ttclid')")


def test_the_privacy_api_is_loaded_when_missing_and_nothing_is_written_before_it_answers(page, storefront):
    open_page(page, storefront, NOT_LOADED)

    assert page.evaluate("window.__loadRequests") == [PRIVACY_FEATURE]
    assert nothing_written(page, storefront) and stored_click_id(page) is None  # not even the ttclid is kept

    page.evaluate("window.__consent = { marketing: true, sale: true }; window.__finishLoading(false)")
    assert written(page, storefront, 1) == [
        {"_tt_marketing": "granted", "_tt_sale_of_data": "granted", "ttclid": TTCLID, "_ttp": TTP}]
    assert json.loads(stored_click_id(page))["value"] == TTCLID


@pytest.mark.parametrize(("marketing", "sale"), [(True, True), (True, False), (False, True), (False, False)])
def test_each_consent_state_writes_its_attributes_and_nothing_refused(page, storefront, marketing, sale):
    open_page(page, storefront, loaded_api(marketing, sale))

    [attributes] = written(page, storefront, 1)
    word = {True: "granted", False: "denied"}
    assert attributes == {"_tt_marketing": word[marketing], "_tt_sale_of_data": word[sale],
                          "ttclid": TTCLID if marketing else "", "_ttp": TTP if marketing else ""}
    assert (stored_click_id(page) is not None) is marketing
    assert storefront.attributes["_tt_marketing"] == word[marketing]  # what the cart now holds


@pytest.mark.parametrize("shopify", [
    NOT_LOADED,
    "<script>window.Shopify = { routes: { root: '/' } };</script>",  # no API and no way to load it
    "",  # no Shopify object at all
    "<script>window.Shopify = { customerPrivacy: { marketingAllowed: function () { throw new Error('x'); },"
    " saleOfDataAllowed: function () { return true; } } };</script>",
    "<script>window.Shopify = { customerPrivacy: { marketingAllowed: function () { return undefined; },"
    " saleOfDataAllowed: function () { return true; } } };</script>",
], ids=["load-fails", "no-loader", "no-shopify", "api-throws", "api-has-no-answer"])
def test_without_an_answer_from_the_api_nothing_is_written(page, storefront, shopify):
    open_page(page, storefront, shopify)
    if page.evaluate("typeof window.__finishLoading === 'function'"):
        page.evaluate("window.__consent = { marketing: true, sale: true }; window.__finishLoading(new Error('x'))")
    assert nothing_written(page, storefront) and stored_click_id(page) is None


def test_the_banner_answer_is_recorded_without_a_page_load(page, storefront):
    open_page(page, storefront, loaded_api(False, False))  # a region that asks first: not allowed until answered
    assert written(page, storefront, 1)[0]["_tt_marketing"] == "denied" and stored_click_id(page) is None

    page.evaluate("""window.__consent = { marketing: true, sale: false };
      document.dispatchEvent(new CustomEvent('visitorConsentCollected', { detail: {
        analyticsAllowed: true, marketingAllowed: true, preferencesAllowed: true, saleOfDataAllowed: false } }));""")

    assert written(page, storefront, 2)[1] == {"_tt_marketing": "granted", "_tt_sale_of_data": "denied",
                                               "ttclid": TTCLID, "_ttp": TTP}
    assert json.loads(stored_click_id(page))["value"] == TTCLID  # held in memory until now


def test_withdrawn_consent_clears_the_click_ids_it_had_written(page, storefront):
    open_page(page, storefront, loaded_api(True, True))
    assert written(page, storefront, 1)[0]["ttclid"] == TTCLID

    page.goto(storefront.page("/cart", SPY, loaded_api(False, True), snippet()))

    assert written(page, storefront, 1) == [
        {"_tt_marketing": "granted", "_tt_sale_of_data": "granted", "ttclid": TTCLID, "_ttp": TTP},
        {"_tt_marketing": "denied", "_tt_sale_of_data": "granted", "ttclid": "", "_ttp": ""}]
    assert stored_click_id(page) is None
    assert storefront.attributes == {"_tt_marketing": "denied", "_tt_sale_of_data": "granted", "ttclid": "",
                                     "_ttp": ""}


def test_a_stored_click_id_reaches_later_pages_and_a_new_cart_but_the_same_record_is_written_once(page, storefront):
    cart = {"name": "cart", "value": "c1-first%3Fkey%3Dabc", "url": storefront.base_url}
    page.context.add_cookies([cart])
    open_page(page, storefront, loaded_api(True, True))
    assert written(page, storefront, 1)[0]["ttclid"] == TTCLID

    page.goto(storefront.page("/collections/all", SPY, loaded_api(True, True), snippet()))  # no ttclid in the URL
    assert page.evaluate("window.__fetches.length") == 0 and len(storefront.cart_updates) == 1

    page.context.add_cookies([{**cart, "value": "c1-second%3Fkey%3Ddef"}])  # the order is placed: a new cart
    page.goto(storefront.page("/", SPY, loaded_api(True, True), snippet()))
    assert written(page, storefront, 1)[1]["ttclid"] == TTCLID and len(storefront.cart_updates) == 2
