// An advertising tag: a cookie and a Meta Pixel beacon.
document.cookie = '_fbp=fb.1.1700000000000.123456789; path=/; max-age=7776000';
new Image().src = 'https://www.facebook.com/tr?id=1234567890&ev=PageView&noscript=1';
