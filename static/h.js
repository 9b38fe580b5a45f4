/*
 * consentpixel held content: the scripts and embeds a page holds until consent.
 *
 * Scripts (type="text/plain" data-cpx-category) run in document order once their
 * category is granted, keeping their nonce; embeds (data-cpx-src) load; a held embed
 * whose category is refused shows what it needs and a button that allows just that.
 * The consent module (b.js) loads this file only on a page that holds something, as a
 * part of the site's script in the banner's language (/p/SITE.js?h=LANG: the collector
 * writes the placeholders' words, escaped, in for WORDS), and hands it its decide(); it
 * runs after every decision. Written for readers and shortened by the collector, like
 * t.js.
 */
cpx('_held', function (core, decide) {
  var document = window.document;
  var settings = core.settings;
  var texts = __WORDS__;  // {cats: {category: [label, description]}, allow: the button's word}

  return function release() {
    var held = [].filter.call(document.querySelectorAll('[data-cpx-category]'), function (element) {
      var category = element.getAttribute('data-cpx-category');
      var placeholder = element.previousElementSibling;
      var words = core.own(texts.cats, category);
      if (core.isGranted(category)) return !element.removeAttribute('data-cpx-category');
      if (element.tagName == 'IFRAME' && words && !(placeholder && placeholder.className == 'cpx-ph')) {
        placeholder = document.createElement('div');
        placeholder.className = 'cpx-ph';
        placeholder.innerHTML = '<p>' + words[0] + ': ' + words[1] + '</p><button type="button">' +
          texts.allow + ': ' + words[0] + '</button>';
        placeholder.lastChild.onclick = function () {
          decide(settings.categories.filter(core.isGranted).concat(category));
        };
        element.hidden = true;
        element.before(placeholder);
      }
    });
    (function next(i) {
      var old = held[i];
      var element;
      if (!old) return;
      if (old.tagName != 'SCRIPT') {
        element = old.previousElementSibling;
        if (element && element.className == 'cpx-ph') element.remove();
        old.hidden = false;
        old.src = old.getAttribute('data-cpx-src');
        return next(i + 1);
      }
      element = document.createElement('script');
      [].map.call(old.attributes, function (attribute) {
        if (attribute.name != 'type') element.setAttribute(attribute.name, attribute.value);
      });
      element.nonce = old.nonce;
      if (old.src) element.onload = element.onerror = function () { next(i + 1); };
      else element.text = old.text;
      old.replaceWith(element);
      if (!old.src) next(i + 1);
    })(0);
  };
});
