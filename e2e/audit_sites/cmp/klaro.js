// Klaro's configuration, as its annotated config.js shows it; the page's <html lang="nl">
// picks Klaro's Dutch texts.
var klaroConfig = {
  version: 1,
  elementID: 'klaro',
  storageMethod: 'cookie',
  cookieName: 'klaro',
  cookieExpiresAfterDays: 365,
  default: false,
  mustConsent: false,
  acceptAll: true,
  hideDeclineAll: false,
  translations: {
    zz: {privacyPolicyUrl: '/privacy.html'},
    nl: {purposes: {analytics: 'Statistieken', marketing: 'Marketing'}}
  },
  services: [
    {name: 'google-analytics', title: 'Google Analytics', purposes: ['analytics'],
     cookies: [/^_ga/]},
    {name: 'meta-pixel', title: 'Meta Pixel', purposes: ['marketing'], cookies: ['_fbp']}
  ]
};
