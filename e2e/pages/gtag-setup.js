// What a site's Google tag snippet does, without loading anything from Google.
window.dataLayer = window.dataLayer || [];
function gtag() { dataLayer.push(arguments); }
gtag('js', new Date());
gtag('config', 'G-EXAMPLE');
