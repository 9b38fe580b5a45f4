/*
 * consentpixel's Google Consent Mode v2 adapter, one per site (/gcm/SITE.js).
 * Load it without async before Google's tags, so their default is set first:
 *
 *   <script src="https://COLLECTOR/gcm/shop.js"></script>
 *
 * Then every consent decision (the cpx:consent event of t.js) becomes an update,
 * mapped from the site's categories to Consent Mode types.
 */
(function (w, d) {
  var settings = __SETTINGS__;
  var gpc = navigator.globalPrivacyControl === true;
  var defaults = {wait_for_update: 500};

  function gtag() {
    (w.dataLayer = w.dataLayer || []).push(arguments);
  }

  function types(granted) {
    var result = {};
    for (var category in settings.map) {
      settings.map[category].forEach(function (type) {
        result[type] = granted(category) ? 'granted' : 'denied';
      });
    }
    return result;
  }

  ['ad_storage', 'analytics_storage', 'ad_user_data', 'ad_personalization'].forEach(function (type) {
    defaults[type] = 'denied';
  });
  // Opt-out sites allow until refused, except what Global Privacy Control refuses.
  var initial = types(function (category) {
    return settings.optOut && !(gpc && settings.gpc.indexOf(category) >= 0);
  });
  for (var type in initial) defaults[type] = initial[type];
  gtag('consent', 'default', defaults);
  d.addEventListener('cpx:consent', function (event) {
    gtag('consent', 'update', types(function (category) { return event.detail[category]; }));
  });
})(window, document);
