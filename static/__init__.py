"""The tag's sources (t.js, b.js, h.js, a.js, w.js, b.css, gcm.js), served minified by consentpixel.tag."""
