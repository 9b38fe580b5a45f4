/*
 * consentpixel's Google Consent Mode v2 adapter, one per site (/gcm/SITE.js).
 * Load it without async before Google's tags, so their default is set first:
 *
 *   <script src="https://COLLECTOR/gcm/shop.js"></script>
 *
 * Then every consent decision (the cpx:consent event of t.js) becomes an update,
 * mapped from the site's categories to Consent Mode types. Only own keys are read: the
 * page may have put anything on Object.prototype.
 */
(function (window, document) {
  var consentMode = __SETTINGS__;
  var gpc = navigator.globalPrivacyControl === true;
  var defaults = {wait_for_update: 500};

  function gtag() {
    (window.dataLayer = window.dataLayer || []).push(arguments);
  }

  function types(granted) {
    var result = {};
    Object.keys(consentMode.map).forEach(function (category) {
      consentMode.map[category].forEach(function (type) {
        result[type] = granted(category) ? 'granted' : 'denied';
      });
    });
    return result;
  }

  function merge(target, source) {
    Object.keys(source).forEach(function (key) {
      target[key] = source[key];
    });
    return target;
  }

  ['ad_storage', 'analytics_storage', 'ad_user_data', 'ad_personalization'].forEach(function (type) {
    defaults[type] = 'denied';
  });
  // Opt-out sites allow until refused, except what Global Privacy Control refuses.
  gtag('consent', 'default', merge(defaults, types(function (category) {
    return consentMode.optOut && !(gpc && consentMode.gpc.indexOf(category) >= 0);
  })));
  document.addEventListener('cpx:consent', function (event) {
    gtag('consent', 'update', types(function (category) {
      return Object.prototype.hasOwnProperty.call(event.detail, category) && event.detail[category];
    }));
  });
})(window, document);
