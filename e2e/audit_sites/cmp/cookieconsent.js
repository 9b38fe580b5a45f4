// Osano's cookieconsent, as its documentation ("Disabling cookies") shows it: the page loads
// its trackers itself, from the callbacks, once the visitor has consented. A page whose
// script element says data-type="info" shows the informational notice instead, whose only
// button is "Ok, capito" (the trackers then run without asking, as such pages do).
(function () {
  var type = document.currentScript.dataset.type || 'opt-in';
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
  if (type === 'info') loadTrackers();
  window.addEventListener('load', function () {
    window.cookieconsent.initialise({
      type: type,
      content: {
        message: 'Questo sito usa i cookie per statistiche e pubblicità.',
        dismiss: 'Ok, capito', allow: 'Accetta i cookie', deny: 'Rifiuta', link: 'Per saperne di più'
      },
      onInitialise: function () {  // called when the visitor has answered before
        if (type === 'opt-in' && this.hasConsented()) loadTrackers();
      },
      onStatusChange: function () {
        if (type === 'opt-in' && this.hasConsented()) loadTrackers();
      }
    });
  });
})();
