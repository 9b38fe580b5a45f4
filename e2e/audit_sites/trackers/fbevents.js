// Stands in for Meta's fbevents.js (https://connect.facebook.net/en_US/fbevents.js), which
// the suite cannot reach. It does what the Meta Pixel does: takes over the fbq() queue that
// the base code set up, sets the _fbp cookie and sends each event to www.facebook.com/tr,
// which the audit answers inside the browser.
(function () {
  var fbq = window.fbq, pixel = '';
  if (!fbq) return;
  if (!/(^|; )_fbp=/.test(document.cookie)) {
    document.cookie = '_fbp=fb.1.' + Date.now() + '.' + Math.floor(Math.random() * 1e9) +
      '; path=/; max-age=7776000; SameSite=Lax';
  }
  function run(command) {
    if (command[0] === 'init') pixel = command[1];
    if (command[0] === 'track') {
      new Image().src = 'https://www.facebook.com/tr/?id=' + pixel + '&ev=' + command[1] +
        '&dl=' + encodeURIComponent(location.origin + location.pathname);
    }
  }
  fbq.callMethod = function () { run(arguments); };
  (fbq.queue || []).forEach(run);
  fbq.queue = [];
})();
