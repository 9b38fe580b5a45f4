// tarteaucitron's services and initialisation. tarteaucitron's own "gtag" and
// "facebookpixel" services load Google's and Meta's scripts from their servers, which the
// suite cannot reach: these two are the same services, written the way tarteaucitron's
// README shows custom services, loading the stand-ins in trackers/ instead.
tarteaucitron.services.gtag = {
  key: 'gtag', type: 'analytic', name: 'Google Analytics (GA4)', needConsent: true,
  uri: 'https://policies.google.com/privacy',
  cookies: ['_ga', '_ga_FIXTURE1'],
  js: function () {
    window.dataLayer = window.dataLayer || [];
    tarteaucitron.addScript('trackers/gtag.js?id=' + tarteaucitron.user.gtagUa, '', function () {
      window.gtag = function gtag() { dataLayer.push(arguments); };
      gtag('js', new Date());
      gtag('config', tarteaucitron.user.gtagUa);
    });
  }
};
tarteaucitron.services.facebookpixel = {
  key: 'facebookpixel', type: 'ads', name: 'Facebook Pixel', needConsent: true,
  uri: 'https://www.facebook.com/policy.php',
  cookies: ['_fbp'],
  js: function () {
    var n;
    if (window.fbq) return;
    n = window.fbq = function () { n.callMethod ? n.callMethod.apply(n, arguments) : n.queue.push(arguments); };
    if (!window._fbq) window._fbq = n;
    n.push = n; n.loaded = !0; n.version = '2.0'; n.queue = [];
    tarteaucitron.addScript('trackers/fbevents.js');
    fbq('init', tarteaucitron.user.facebookpixelId);
    fbq('track', 'PageView');
  }
};
tarteaucitron.init({
  privacyUrl: '/confidentialite.html',
  hashtag: '#tarteaucitron',
  cookieName: 'tarteaucitron',
  orientation: 'middle',
  showAlertSmall: false,
  DenyAllCta: true,
  AcceptAllCta: true,
  highPrivacy: true,
  removeCredit: true,
  useExternalCss: false,
  useExternalJs: true,  // the language file is on the page; the services are above
  googleConsentMode: false,
  mandatory: true
});
tarteaucitron.user.gtagUa = 'G-FIXTURE1';
tarteaucitron.user.facebookpixelId = '1234567890';
(tarteaucitron.job = tarteaucitron.job || []).push('gtag', 'facebookpixel');
