// "Advanced matching" done wrong: the address in the pixel's URL, the phone in a beacon.
new Image().src = 'https://www.facebook.com/tr?id=1234567890&ev=Lead&em=ada.lovelace%40analytical.example';
navigator.sendBeacon('/collect', JSON.stringify({event: 'lead', phone: '+44 20 7946 0958'}));
