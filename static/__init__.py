"""The tag's sources (t.js, b.js, b.css, gcm.js), served minified by consentpixel.tag."""
