// vanilla-cookieconsent's configuration, as its "Getting started" shows it. A page whose
// script element says data-first-layer="accept-only" leaves out the reject button of the
// first layer (it stays in the preferences), as some sites do.
(function () {
  var acceptOnly = document.currentScript.dataset.firstLayer === 'accept-only';
  CookieConsent.run({
    categories: {
      necessary: {enabled: true, readOnly: true},
      analytics: {autoClear: {cookies: [{name: /^_ga/}]}},
      ads: {autoClear: {cookies: [{name: '_fbp'}]}}
    },
    language: {
      default: 'en',
      translations: {
        en: {
          consentModal: {
            title: 'We use cookies',
            description: 'Analytics and advertising cookies help us improve the shop.',
            acceptAllBtn: 'Accept all',
            acceptNecessaryBtn: acceptOnly ? '' : 'Reject all',
            showPreferencesBtn: 'Manage preferences'
          },
          preferencesModal: {
            title: 'Cookie preferences',
            acceptAllBtn: 'Accept all',
            acceptNecessaryBtn: 'Reject all',
            savePreferencesBtn: 'Save preferences',
            closeIconLabel: 'Close',
            sections: [
              {title: 'Strictly necessary', linkedCategory: 'necessary'},
              {title: 'Analytics', description: 'Google Analytics.', linkedCategory: 'analytics'},
              {title: 'Advertising', description: 'The Meta Pixel.', linkedCategory: 'ads'}
            ]
          }
        }
      }
    }
  });
})();
