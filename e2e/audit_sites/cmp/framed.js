// A consent manager whose banner is a third-party iframe (a stand-in for the commercial
// ones that work this way): the page frames the banner from another site, stores the
// answer it posts back in a first-party cookie, and loads the trackers once allowed.
(function () {
  var stored = (document.cookie.match(/(?:^|; )framed_consent=(\w+)/) || [])[1];
  function loadTrackers() {
    window.dataLayer = window.dataLayer || [];
    window.gtag = function gtag() { dataLayer.push(arguments); };
    gtag('js', new Date());
    gtag('config', 'G-FIXTURE1');
    var script = document.createElement('script');
    script.async = true;
    script.src = 'trackers/gtag.js?id=G-FIXTURE1';
    document.head.appendChild(script);
    !function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?
    n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;
    n.push=n;n.loaded=!0;n.version='2.0';n.queue=[];t=b.createElement(e);t.async=!0;
    t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window,
    document,'script','trackers/fbevents.js');
    fbq('init', '1234567890');
    fbq('track', 'PageView');
  }
  if (stored === 'all') return loadTrackers();
  if (stored) return;
  var frame = document.createElement('iframe');
  frame.title = 'Aviso de cookies';
  // another site: the page is on localhost, the banner on 127.0.0.1
  frame.src = location.protocol + '//127.0.0.1:' + location.port + '/cmp/framed-banner.html';
  frame.style.cssText = 'position:fixed;bottom:0;left:0;width:100%;height:9rem;border:0;background:#fff';
  window.addEventListener('message', function (event) {
    if (event.source !== frame.contentWindow || !event.data) return;
    document.cookie = 'framed_consent=' + event.data.consent + '; path=/; max-age=15552000; SameSite=Lax';
    frame.remove();
    if (event.data.consent === 'all') loadTrackers();
  });
  document.body.appendChild(frame);
})();
