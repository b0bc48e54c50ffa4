// tiktok-relay custom pixel (README "The storefront code"). Shopify admin: Settings > Customer events >
// Add custom pixel. Paste TikTok's pixel base code (Events Manager > your pixel > set up manually) above
// this line WITHOUT its last two calls, ttq.load(...) and ttq.page(): this code loads the pixel itself,
// and only once the visitor allows marketing.
//
// It sends TikTok's pixel events with the event_ids the relay's server events carry, so that TikTok
// counts each conversion once and merges the two (same event and event_id within 48 hours):
//   InitiateCheckout  shopify-checkout-{checkout token}
//   Purchase          shopify-order-{order id}
//   AddToCart         shopify-cart-{cart token}-{digest of the cart's lines after the addition}
(function () {
  'use strict';
  var PIXEL_ID = "__TIKTOK_PIXEL_ID__";
  var PURCHASE_EVENT = "__PURCHASE_EVENT__"; // the server's event for orders (SHOPIFY_TOPIC_EVENTS)
  var CONTENT_ID_FIELDS = ["__CONTENT_ID_FIELDS__"]; // SHOPIFY_CONTENT_ID: the catalog's ids, as the server sends them

  // --- the relay's rules (sources/shopify/mapping/identity.py), exactly ---------------------------------------
  // Python's str.strip() removes these (str.isspace); JavaScript's trim() differs (U+FEFF, U+001C-U+001F, U+0085).
  var PY_SPACE = '[\\t\\n\\u000b\\u000c\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
  var PY_STRIP = new RegExp('^' + PY_SPACE + '+|' + PY_SPACE + '+$', 'g');
  var PY_RSTRIP = new RegExp(PY_SPACE + '+$');
  var TOKEN = /^[A-Za-z0-9._:=+\/~-]{1,128}$/;
  var GID = /^gid:\/\/shopify\/([A-Za-z]+)\/([0-9]{1,30})(?:[\/?#][^\n]*)?$/; // Python's '.' stops at \n only
  var MAX_LINE_KEY = 100; // identity.MAX_LINE_KEY
  var MAX_COUNT = 2147483647; // tiktok/models.py MAX_COUNT: a larger quantity reads as none

  function pyStrip(text) { return text.replace(PY_STRIP, ''); }

  function positive(digits) { // '007' -> '7'; '0' -> null (as Python's str(int(digits)) with > 0)
    var number = digits.replace(/^0+/, '');
    return number ? number : null;
  }

  // values.as_id and shopify_id: a positive id as decimal text, from a number, digits or any Shopify gid.
  function shopifyId(value) {
    if (typeof value === 'number') {
      return Number.isInteger(value) && value > 0 && value < 9007199254740992 ? String(value) : null;
    }
    if (typeof value !== 'string') return null;
    var text = pyStrip(value);
    if (/^[0-9]{1,30}$/.test(text)) return positive(text);
    var gid = GID.exec(text);
    return gid ? positive(gid[2]) : null;
  }

  // values.as_token: bounded, no spaces, no query part ("?key=..." on newer cart tokens).
  function asToken(value) {
    if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? String(value) : null;
    if (typeof value !== 'string') return null;
    var text = pyStrip(value).split('?')[0];
    return TOKEN.test(text) ? text : null;
  }

  // A cart's token from a Web Pixels cart id ('gid://shopify/Cart/<token>?key=...') or the cart cookie.
  function cartToken(value) {
    if (typeof value !== 'string') return null;
    var text = value;
    try { text = decodeURIComponent(value); } catch (e) { /* not encoded */ }
    text = pyStrip(text).split('?')[0];
    if (text.indexOf('gid://') === 0) text = text.slice(text.lastIndexOf('/') + 1);
    return asToken(text);
  }

  function codePoints(text) { return Array.from(text); }

  // values.as_text(sku, 100)[0]: trimmed, at most 100 code points, lone surrogates as '?'.
  function skuText(value) {
    var text = pyStrip(value);
    if (!text) return null;
    var points = codePoints(text);
    if (points.length > MAX_LINE_KEY) {
      var cut = points.slice(0, MAX_LINE_KEY).join('');
      text = cut.replace(PY_RSTRIP, '') || cut;
    }
    return codePoints(text).map(function (point) { // a lone surrogate is one code point of one unit
      var c = point.charCodeAt(0);
      return point.length === 1 && c >= 0xd800 && c <= 0xdfff ? '?' : point;
    }).join('');
  }

  // identity.line_key: variant id, else product id, else sku, else ''.
  function lineKey(merchandise) {
    if (!merchandise) return '';
    var key = shopifyId(merchandise.id) || shopifyId(merchandise.product && merchandise.product.id);
    if (!key) {
      var sku = merchandise.sku;
      key = typeof sku === 'string' ? skuText(sku) : shopifyId(sku);
    }
    return key || '';
  }

  // values.as_quantity: a whole number from 0 to MAX_COUNT, else null.
  function asQuantity(value) {
    var number = null;
    if (typeof value === 'number') number = value;
    else if (typeof value === 'string' && /^[0-9]{1,18}$/.test(pyStrip(value))) number = parseInt(pyStrip(value), 10);
    return number !== null && Number.isInteger(number) && number >= 0 && number <= MAX_COUNT ? number : null;
  }

  // Python's json.dumps of a str (ensure_ascii): what the cart digest hashes.
  function jsonText(text) {
    var out = '"';
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      if (c === 0x22) out += '\\"';
      else if (c === 0x5c) out += '\\\\';
      else if (c >= 0x20 && c <= 0x7e) out += text.charAt(i);
      else if (c === 0x08) out += '\\b';
      else if (c === 0x0c) out += '\\f';
      else if (c === 0x0a) out += '\\n';
      else if (c === 0x0d) out += '\\r';
      else if (c === 0x09) out += '\\t';
      else out += '\\u' + ('000' + c.toString(16)).slice(-4);
    }
    return out + '"';
  }

  function byCodePoint(a, b) { // Python's string order (code points, not UTF-16 units)
    var x = codePoints(a), y = codePoints(b);
    for (var i = 0; i < x.length && i < y.length; i++) {
      var d = x[i].codePointAt(0) - y[i].codePointAt(0);
      if (d) return d;
    }
    return x.length - y.length;
  }

  // identity._cart_digest: sorted [key, quantity] pairs as compact JSON, SHA-256, 12 hex digits.
  function cartDigest(lines) {
    var pairs = lines.map(function (line) { return [line.key, line.quantity === null ? -1 : line.quantity]; });
    pairs.sort(function (a, b) { return byCodePoint(a[0], b[0]) || a[1] - b[1]; });
    var text = '[' + pairs.map(function (p) { return '[' + jsonText(p[0]) + ',' + p[1] + ']'; }).join(',') + ']';
    return sha256Hex(text).slice(0, 12);
  }

  // SHA-256 of an ASCII string (cartDigest's text always is); the constants are computed as the
  // standard defines them (fractional parts of the square and cube roots of the first primes).
  var K = [], H0 = [];
  (function () {
    var fraction = function (x) { return ((x - Math.floor(x)) * 0x100000000) >>> 0; };
    for (var n = 2; K.length < 64; n++) {
      var prime = true;
      for (var d = 2; d * d <= n; d++) if (n % d === 0) { prime = false; break; }
      if (!prime) continue;
      if (H0.length < 8) H0.push(fraction(Math.pow(n, 1 / 2)));
      K.push(fraction(Math.pow(n, 1 / 3)));
    }
  })();

  function sha256Hex(ascii) {
    var bytes = [];
    for (var i = 0; i < ascii.length; i++) bytes.push(ascii.charCodeAt(i) & 0xff);
    var bits = bytes.length * 8;
    bytes.push(0x80);
    while (bytes.length % 64 !== 56) bytes.push(0);
    var high = Math.floor(bits / 0x100000000), low = bits >>> 0;
    bytes.push(high >>> 24 & 0xff, high >>> 16 & 0xff, high >>> 8 & 0xff, high & 0xff,
      low >>> 24 & 0xff, low >>> 16 & 0xff, low >>> 8 & 0xff, low & 0xff);
    var h = H0.slice(), w = new Array(64);
    var rotr = function (x, n) { return (x >>> n) | (x << (32 - n)); };
    for (var offset = 0; offset < bytes.length; offset += 64) {
      for (var t = 0; t < 64; t++) {
        if (t < 16) {
          var j = offset + 4 * t;
          w[t] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
        } else {
          var s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
          var s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
          w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
        }
      }
      var a = h[0], b = h[1], c = h[2], dd = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
      for (var r = 0; r < 64; r++) {
        var t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[r] + w[r]) | 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        hh = g; g = f; f = e; e = (dd + t1) | 0; dd = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      var next = [a, b, c, dd, e, f, g, hh];
      for (var k = 0; k < 8; k++) h[k] = (h[k] + next[k]) | 0;
    }
    return h.map(function (x) { return ('0000000' + (x >>> 0).toString(16)).slice(-8); }).join('');
  }

  // --- the cart, as the relay's carts/* webhook will show it after each change ---------------------------------
  // Rebuilt from every full view of the cart (the page's snapshot, cart_viewed); each addition or
  // removal in between is applied to it. Assumption: a cart line event's quantity is what was added
  // or removed, not the line's new total.
  function cartModel(cart) {
    return {
      token: cartToken(cart && cart.id),
      lines: (cart && Array.isArray(cart.lines) ? cart.lines : []).map(function (line) {
        return { key: lineKey(line && line.merchandise), quantity: asQuantity(line && line.quantity) };
      })
    };
  }

  function changeCart(model, cartLine, sign) {
    var key = lineKey(cartLine.merchandise), quantity = asQuantity(cartLine.quantity) || 0;
    for (var i = 0; i < model.lines.length; i++) {
      var line = model.lines[i];
      if (line.key !== key) continue;
      line.quantity = Math.max(0, (line.quantity || 0) + sign * quantity);
      if (line.quantity === 0) model.lines.splice(i, 1);
      return;
    }
    if (sign > 0) model.lines.push({ key: key, quantity: quantity });
  }

  // --- TikTok's events, with the buyer's consent ---------------------------------------------------------------
  var standard = typeof api !== 'undefined' && api ? api : {};
  var start = typeof init !== 'undefined' && init ? init : {};
  var bus = typeof analytics !== 'undefined' && analytics ? analytics : standard.analytics;
  var topFrame = typeof browser !== 'undefined' && browser ? browser : standard.browser;
  var consent = start.customerPrivacy || {};
  var cart = cartModel(start.data && start.data.cart);
  var loaded = false;

  if (standard.customerPrivacy && typeof standard.customerPrivacy.subscribe === 'function') {
    standard.customerPrivacy.subscribe('visitorConsentCollected', function (event) {
      consent = (event && event.customerPrivacy) || {};
    });
  }

  function allowed() { return consent.marketingAllowed === true; }

  function pixel() {
    if (!loaded) { ttq.load(PIXEL_ID); loaded = true; }
    return ttq;
  }

  function amount(money) {
    var number = money && money.amount !== undefined && money.amount !== null ? Number(money.amount) : NaN;
    return isFinite(number) ? number : undefined;
  }

  function contentId(variant) {
    for (var i = 0; i < CONTENT_ID_FIELDS.length; i++) {
      var field = CONTENT_ID_FIELDS[i], id = null;
      if (field === 'variant_id') id = shopifyId(variant && variant.id);
      else if (field === 'product_id') id = shopifyId(variant && variant.product && variant.product.id);
      else if (field === 'sku' && variant && typeof variant.sku === 'string') id = pyStrip(variant.sku) || null;
      if (id) return id;
    }
    return undefined;
  }

  function content(variant, quantity, title) {
    return {
      content_id: contentId(variant), content_type: 'product', content_name: title || undefined,
      price: amount(variant && variant.price), quantity: asQuantity(quantity) || undefined
    };
  }

  function track(event, properties, eventId) {
    if (!allowed() || !eventId) return; // without the server's event_id it would be counted twice
    properties.content_type = 'product';
    if (consent.saleOfDataAllowed !== true) properties.limited_data_use = true; // opted out of the sale of data
    pixel().track(event, properties, { event_id: eventId });
  }

  function checkoutProperties(checkout) {
    var total = checkout.totalPrice || {};
    return {
      contents: (checkout.lineItems || []).map(function (item) { return content(item.variant, item.quantity, item.title); }),
      value: amount(total), currency: checkout.currencyCode || total.currencyCode || undefined
    };
  }

  function on(name, handle) {
    bus.subscribe(name, function (event) {
      try { handle((event && event.data) || {}); } catch (e) { /* one odd event never breaks the others */ }
    });
  }

  on('page_viewed', function () { if (allowed()) pixel().page(); });

  on('cart_viewed', function (data) { if (data.cart) cart = cartModel(data.cart); });

  on('product_removed_from_cart', function (data) { if (data.cartLine) changeCart(cart, data.cartLine, -1); });

  on('product_added_to_cart', function (data) {
    var line = data.cartLine;
    if (!line) return;
    changeCart(cart, line, 1);
    var digest = cartDigest(cart.lines), token = cart.token;
    var properties = {
      contents: [content(line.merchandise, line.quantity, line.merchandise && line.merchandise.title)],
      value: amount(line.cost && line.cost.totalAmount),
      currency: (line.cost && line.cost.totalAmount && line.cost.totalAmount.currencyCode) || undefined
    };
    var send = function (found) {
      if (found && !cart.token) cart.token = found;
      track('AddToCart', properties, found ? 'shopify-cart-' + found + '-' + digest : null);
    };
    if (token || !topFrame || !topFrame.cookie) { send(token); return; }
    // The page was rendered before the cart existed: its token is in the storefront's cart cookie now.
    topFrame.cookie.get('cart').then(function (value) { send(cartToken(value)); }, function () { send(null); });
  });

  on('checkout_started', function (data) {
    var checkout = data.checkout || {}, token = asToken(checkout.token);
    track('InitiateCheckout', checkoutProperties(checkout), token && 'shopify-checkout-' + token);
  });

  on('checkout_completed', function (data) {
    var checkout = data.checkout || {}, id = shopifyId(checkout.order && checkout.order.id);
    track(PURCHASE_EVENT, checkoutProperties(checkout), id && 'shopify-order-' + id);
  });
})();
