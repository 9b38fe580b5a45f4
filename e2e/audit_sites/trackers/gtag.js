// Stands in for Google's gtag.js (https://www.googletagmanager.com/gtag/js?id=G-…), which
// the suite cannot reach. It does what GA4 does on a page view: reads the dataLayer,
// honours Consent Mode (no cookie while analytics_storage is denied), sets _ga and
// _ga_<ID>, and sends a page_view hit to region1.google-analytics.com/g/collect, which
// the audit answers inside the browser.
(function () {
  var consent = {}, consentMode = false;
  function cookie(name, value) {
    if (document.cookie.split('; ').some(function (c) { return c.indexOf(name + '=') === 0; })) return;
    document.cookie = name + '=' + value + '; path=/; max-age=63072000; SameSite=Lax';
  }
  function pageView(id) {
    var stored = consent.analytics_storage !== 'denied';
    var client = Math.floor(Math.random() * 1e9) + '.' + Math.floor(Date.now() / 1000);
    if (stored) {
      cookie('_ga', 'GA1.1.' + client);
      cookie('_ga_' + id.replace(/^G-/, ''), 'GS1.1.' + Math.floor(Date.now() / 1000) + '.1.0');
    }
    // gcs, the Consent Mode state, only once the page uses Consent Mode
    var gcs = consentMode ? '&gcs=G1' + (consent.ad_storage === 'denied' ? '0' : '1') + (stored ? '1' : '0') : '';
    navigator.sendBeacon('https://region1.google-analytics.com/g/collect?v=2&tid=' + id + gcs +
      '&cid=' + client + '&en=page_view&dl=' + encodeURIComponent(location.origin + location.pathname));
  }
  function run(command) {
    if (command[0] === 'consent') { consentMode = true; Object.assign(consent, command[2]); }
    if (command[0] === 'config') pageView(command[1]);
  }
  var layer = window.dataLayer = window.dataLayer || [];
  layer.forEach(function (entry) { if (entry && entry.length) run(entry); });
  var push = layer.push;
  layer.push = function (entry) { if (entry && entry.length) run(entry); return push.apply(layer, arguments); };
})();
