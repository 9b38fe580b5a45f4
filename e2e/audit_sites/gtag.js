// The site's Google tag setup, as Google's snippet writes it (without loading gtag/js,
// which would need the internet).
window.dataLayer = window.dataLayer || [];
function gtag() { dataLayer.push(arguments); }
gtag('js', new Date());
gtag('config', 'G-FIXTURE1');
