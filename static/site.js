/*
 * The tag as first published, <script async src="…/t.js" data-site="shop">, which the
 * collector still answers at /t.js: this loads the tag proper, t.js?site=shop, as the
 * same element (its attributes copied: data-event and the rest), one request later.
 * The tag to paste today names its site in its address and needs no such step.
 */
(function (script) {
  try {
    var site = script.getAttribute('data-site');
    var element = document.createElement('script');
    [].map.call(script.attributes, function (attribute) {
      element.setAttribute(attribute.name, attribute.value);
    });
    element.nonce = script.nonce;
    element.referrerPolicy = 'origin';
    element.src = script.src.replace(/\/t\.js\b.*/, '/') +
      (site ? 't.js?site=' + encodeURIComponent(site) : 'w.js#' + encodeURIComponent('["site"]'));
    document.head.appendChild(element);
  } catch (error) {}  // nothing thrown into the page
})(document.currentScript);
