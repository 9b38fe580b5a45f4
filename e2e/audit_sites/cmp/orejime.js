// Orejime's configuration, as its README shows it: one purpose per tracker.
window.orejimeConfig = {
  privacyPolicyUrl: '/datenschutz.html',
  purposes: [
    {id: 'google-analytics', title: 'Google Analytics', cookies: [/^_ga/]},
    {id: 'meta-pixel', title: 'Meta Pixel', cookies: ['_fbp']}
  ]
};
