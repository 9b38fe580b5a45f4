/*
 * consentpixel attribution: campaigns and conversions.
 *
 * The campaign a page was reached from, the touch kept for later conversions (last
 * touch, within the site's lookback window), and what a conversion adds to its pixel:
 * a cleaned value and currency, and a hash of the order ID. The collector serves it
 * as a part of the site's script (/p/SITE.js?a=1…) when t.js sees that the page needs
 * it: campaign parameters in the URL, a kept touch, a conversion on the tag
 * (data-event), or a conversion tracked later; the landing's page view waits for it.
 * Written for readers and shortened by the collector, like t.js.
 */
cpx('_attribution', function (core) {
  var own = core.own;
  var parameter = core.parameter;  // '&name=value', or nothing without a value
  var TOUCH = 'cpx_touch';         // in localStorage: {q: pixel parameters, t: time}
  var landing = '';                // the campaign this page was reached from
  // The campaign parameters kept and the click IDs named: the collector writes its own
  // lists (attribution.UTM_PARAMS, CLICK_IDS) in here, so only this file carries them.
  var UTM_PARAMETERS = __UTM_PARAMETERS__;
  var CLICK_IDS = __CLICK_IDS__;

  // The order ID never leaves the page, only its 32-bit FNV-1a hash. Rare collisions
  // cost little: 10,000 orders within 48 hours share a hash with odds of about 1%.
  function hash(text) {
    for (var result = 2166136261, i = 0; i < text.length; i++) {
      result = Math.imul(result ^ text.charCodeAt(i), 16777619);
    }
    return result >>> 0;
  }

  // The kept campaign, within the lookback window; an older one is removed.
  function touch() {
    try {
      var kept = JSON.parse(localStorage.getItem(TOUCH));
      if (Date.now() - own(kept, 't') < core.settings.lookbackDays * 864e5) return own(kept, 'q');
      localStorage.removeItem(TOUCH);
    } catch (error) {}
  }

  // The campaign in this page's URL as pixel parameters: the allowed parameters
  // scrubbed, and the name of a click ID, never the ID itself (the collector maps the
  // name to a source). Every page view also forgets an expired touch.
  function campaign() {
    var query = '';
    touch();
    new URLSearchParams(location.search).forEach(function (value, name) {
      if (UTM_PARAMETERS.indexOf(name) >= 0) query += parameter(name, core.scrub(value.toLowerCase()));
      if (CLICK_IDS.indexOf(name) >= 0) query += '&k=' + name;
    });
    return query;
  }

  // A value is a number from 0 to 10,000,000 with at most six decimals (as written, or
  // a number rounded to six), in a currency of three letters or in the site's: with
  // anything else, the conversion goes without them.
  function conversion(properties) {
    var value = own(properties, 'value');
    var text = typeof value == 'number' ? '' + Math.round(value * 1e6) / 1e6 : '' + (value || '');
    var currency = ('' + (own(properties, 'currency') || '')).toUpperCase();
    var orderId = own(properties, 'order_id');
    var valid = /^\d{1,8}(\.\d{1,6})?$/.test(text) && text <= 1e7 && /^([A-Z]{3})?$/.test(currency);
    return (valid ? parameter('v', text) + parameter('c', currency) : '') +
      parameter('o', orderId && hash('' + orderId));
  }

  return {
    // A page view: the campaign it was reached from, if any, is the landing from now on.
    pageView: function () {
      landing = campaign() || landing;
    },

    // A decision read or made: keep the landing for later conversions, if allowed.
    keep: function () {
      if (landing && core.isGranted(core.settings.attributionCategory)) {
        localStorage.setItem(TOUCH, JSON.stringify({q: landing, t: Date.now()}));
      }
    },

    // What a pixel adds: a page view its landing; a conversion the kept touch (last
    // touch) or else the landing, and its value, currency and order ID.
    parameters: function (event) {
      return event[0] == 'pageview' ? landing : (touch() || landing) + conversion(event[1]);
    }
  };
});
