/*
 * consentpixel tag core: consent state, events, the privacy filter, the pixel.
 *
 *   <script async src="https://COLLECTOR/t.js?site=shop"></script>
 *
 * The collector serves the core in this one file, the site's settings written into its
 * call (tag.py): a returning visitor who has decided sends the first pixel after this one request. On
 * a first visit the collector can tell (no decision cookie came with the request, as it
 * would from a page on the collector's host), the file also holds the consent module
 * (b.js), its styles and the banner: the banner paints after one request too.
 * Otherwise the core asks the site's parts (/p/SITE.js) for what the page needs: with
 * ?a=1 the attribution (a.js: campaigns and conversions) on a page reached from a
 * campaign, with a kept campaign touch or a conversion; with ?b=LANG the consent module
 * with the banner in the page's language, for a visitor without a decision, when the
 * visitor opens the preferences, or when the page holds scripts to release or embeds
 * that need a placeholder (the module then asks for their release, ?h=LANG). w.js, the
 * words of the console warnings, loads only when something is wrong.
 *
 * The collector hands what comes with the core the API this core returns, under the name
 * cpx: nothing when the core stood aside, and never another script's cpx.
 *
 * Written for readers; the collector shortens the names (minify.py), and the site's
 * settings travel under the short keys of tagkeys.py. Plain ES5, no eval, no inline
 * styles, one global (cpx), and nothing may throw into the host page.
 */
(function (window, document, settings) {

  var script = document.currentScript;
  var existing = window.cpx;
  // Without our own <script> element, or with the name taken, stand aside.
  if (!script || existing && (own(existing, 'loaded') || typeof existing != 'function')) return;

  var base = script.src.replace(/\/t\.js\b.*/, '/');
  var calls = own(existing, 'q') || [];  // calls made before the tag arrived
  var referrerHost = document.referrer.split('/')[2];
  var sent = 0;             // pixels sent from this document
  var waiting = [];         // events tracked before the decision: [name, properties, path]
  var moduleWaiters = [];   // what to do once the consent module has started
  var unattributed = [];    // conversions waiting for the attribution
  var asked = {};           // the parts asked for
  var decision,             // {granted: [categories], underGpc: 1 if made under Global Privacy Control}
    lastPath,               // the path of the last page view
    attributed,             // the page needs the attribution: a campaign, a kept touch, a conversion
    attribution,            // campaigns and conversions (a.js), once here
    module;                 // the consent module (b.js), once started

  // An object's own property only: the page may have put anything on Object.prototype.
  function own(object, key) {
    return object != null && {}.hasOwnProperty.call(object, key) && object[key];
  }

  // Our errors stay ours: the host page never sees them.
  function guard(action) {
    return function () {
      try {
        return action.apply(this, arguments);
      } catch (error) {}
    };
  }

  function attempt(action) {
    guard(action)();
  }

  function load(path, onError) {
    var element = document.createElement('script');
    element.src = base + path;
    element.nonce = script.nonce;
    element.referrerPolicy = 'origin';  // the collector learns the page's origin, never its URL
    element.onerror = guard(onError);
    document.head.appendChild(element);
  }

  // A blocking script in <head> can hold the parser back: no <body> yet, held elements
  // still to come.
  function whenParsed(action) {
    if (document.readyState == 'loading') document.addEventListener('DOMContentLoaded', guard(action));
    else action();
  }

  // ---- the parts a page needs, and the warnings ----

  // A part of the site's script, once: the attribution (a=1), or the consent module with
  // its styles and the banner (b=…) in the page's language, or else in the first of the
  // browser's that the site speaks. Without the attribution (blocked, offline), the page
  // view goes unlabelled rather than not at all.
  function loadPart(query) {
    if (!own(asked, query[0])) {
      load('p/' + settings.site + '.js?' + query, function () {
        if (query == 'a=1') {
          attributed = 0;
          pageView();
        }
      });
    }
    asked[query[0]] = 1;
  }

  // Run action with the consent module, loading it first if need be: texts in the
  // settings mean that the module comes with them.
  function withModule(action) {
    if (module) return action();
    moduleWaiters.push(action);
    if (!settings.texts) loadPart('b=' + document.documentElement.lang);
  }

  // A misconfiguration the site owner should see: w.js has the words and reads what
  // went wrong from its URL's fragment, which keeps it one cached file.
  function warn(code, detail) {
    load('w.js#' + encodeURIComponent(JSON.stringify([code, detail, settings.site])));
  }

  // ---- the privacy filter ----

  // The collector's own rules (privacy.TAG_RULES), which it applies again: the first
  // rule that matches the value names its placeholder.
  function scrub(value) {
    for (var i = 0, rule; rule = settings.rules[i++];) {  // [placeholder, pattern]
      if (RegExp(rule[1], 'i').test(value)) return rule[0];
    }
    return value.slice(0, 64);
  }



  // ---- consent ----

  // The decision cookie: version . seconds . granted categories joined by "-" . "g" if
  // made under Global Privacy Control (b.js writes it). Anything else, a decision under
  // another policy version, from the future or past its days, is no decision.
  function readDecision() {
    var parts = /(^|; )cpx=(\d+)\.(\d+)\.([\w-]*)\.(g?)(;|$)/.exec(document.cookie) || [];
    var age = Date.now() / 1e3 - parts[3];
    if (parts[2] == settings.policyVersion && age >= 0 && age < settings.consentDays * 86400) {
      decision = {granted: parts[4].split('-'), underGpc: parts[5] && 1};
    }
  }

  // Global Privacy Control refuses the site's GPC categories, unless the visitor switched
  // them on while the signal was on.
  function isGranted(category) {
    var refusedBySignal = navigator.globalPrivacyControl === true && settings.gpcCategories.indexOf(category) >= 0;
    return category == 'necessary' || settings.categories.indexOf(category) >= 0 &&
      (decision ? decision.granted.indexOf(category) >= 0 && (!refusedBySignal || decision.underGpc)
                : settings.mode == 'opt-out' && !refusedBySignal);
  }

  function consentState() {
    var state = {decided: !!decision};
    settings.categories.map(function (category) {
      state[category] = !!isGranted(category);  // true or false, whatever the cookie held
    });
    return state;
  }

  // A decision read or made: the attribution keeps the campaign touch if allowed; the
  // page is told.
  function applyDecision(made) {
    decision = made || decision;
    attempt(function () {
      if (attribution) attribution.keep();
    });
    attempt(function () {
      document.dispatchEvent(new CustomEvent('cpx:consent', {detail: consentState()}));
    });
  }

  // ---- events and the pixel ----

  function track(name, properties) {
    var category = own(settings.events, name);
    var event = [name, properties, location.pathname];
    if (!category) warn('event', name);
    else if (isGranted(category)) attempt(function () { send(event); });
    else if (!decision) waiting.push(event);
  }

  // The attribution adds the campaign, and what it makes of a conversion's value,
  // currency and order ID: conversions wait for it.
  function send(event) {
    var name = event[0];
    if (name != 'pageview' && !attribution) {
      unattributed.push(event);
      return loadPart('a=1');
    }
    pixel('p.gif?s=' + settings.site + (attribution ? attribution.parameters(event) : '') +
      parameter('e', name) +
      parameter('r', referrerHost != location.host && referrerHost) +
      parameter('a', settings.categories.filter(isGranted).join('-')) +
      parameter('w', navigator.webdriver && 1) +
      parameter('x', decision && decision.underGpc) +
      parameter('p', cleanPath(event[2])));
  }

  function parameter(name, value) {
    return value ? '&' + name + '=' + encodeURIComponent(value) : '';
  }

  function cleanPath(path) {
    try {
      path = decodeURI(path);
    } catch (error) {}
    return path.split('/').map(function (segment) {
      return scrub(segment.split(';')[0]);  // ;jsessionid=…
    }).join('/');
  }

  // The counter makes each URL new: a document reuses an image it already has.
  function pixel(path) {
    var image = new Image();
    image.referrerPolicy = 'origin';  // the collector learns the page's origin, not its URL
    image.src = base + path + '&z=' + ++sent;
  }


  // A page view; the landing from a campaign waits for the attribution, which labels it.
  function pageView() {
    if (location.pathname != lastPath && (attribution || !attributed)) {
      lastPath = location.pathname;
      if (attribution) attribution.pageView();
      if (own(settings.events, 'pageview')) track('pageview');
    }
  }

  // Declared events: data-event on the script, data-cpx-event on links and forms.
  function trackElement(element, prefix) {
    var name = element.getAttribute(prefix + 'event');
    if (name) {
      track(name, {value: element.getAttribute(prefix + 'value'),
        currency: element.getAttribute(prefix + 'currency'),
        order_id: element.getAttribute(prefix + 'order-id')});
    }
  }

  // ---- the API ----

  function api(command, first, second) {
    if (command == '_attribution') {
      // The page view it labels, the campaign touch it keeps, the conversions that wait.
      attribution = first(core);
      [pageView, attribution.keep].map(attempt);
      unattributed.splice(0).map(function (event) { attempt(function () { send(event); }); });
    } else if (command == '_module') {
      // b.js starts once the page is parsed; it hands over nothing when it needs the
      // texts in the page's language first, and comes again with them.
      whenParsed(function () {
        if (module = first(core)) moduleWaiters.splice(0).map(attempt);
      });
    } else if (command == '_held') {
      module.held(first);  // h.js, which the module asked for
    } else {
      if (command == 'track') track(first, second);
      if (command == 'preferences') withModule(function () { module.showPreferences(); });
      if (command == 'consent' && first) withModule(function () { module.choose(first); });
      return consentState();
    }
  }

  // What the core hands the attribution and the consent module.
  var core = {settings: settings, isGranted: isGranted, state: consentState,
    applyDecision: applyDecision, waiting: waiting, send: send, pixel: pixel, scrub: scrub,
    own: own, attempt: attempt, parameter: parameter, warn: warn, load: load, base: base};

  var publicApi = window.cpx = guard(api);
  publicApi.loaded = 1;
  var pushState = history.pushState;
  history.pushState = function () {
    pushState.apply(this, arguments);
    attempt(pageView);
  };
  window.addEventListener('popstate', guard(pageView));
  ['click', 'submit'].map(function (type) {
    document.addEventListener(type, guard(function (event) {
      var element = event.target.closest('[data-cpx-event],[data-cpx-preferences]');
      // a click on a form is not yet its submission
      if (!element || type == 'click' && element.tagName == 'FORM') return;
      if (!element.hasAttribute('data-cpx-preferences')) return trackElement(element, 'data-cpx-');
      event.preventDefault();
      api('preferences');
    }), true);
  });

  // The tag starts, each step on its own.
  [function () {
    attributed = location.search || script.hasAttribute('data-event') || localStorage.getItem('cpx_touch');
    if (attributed) loadPart('a=1');
  }, readDecision, pageView, applyDecision, function () {
    calls.map(function (call) { publicApi.apply(0, call); });
    trackElement(script, 'data-');
  }, function () {
    // Opt-in asks at once; opt-out (CCPA) allows until refused, through the preferences.
    if (!decision && settings.mode == 'opt-in') withModule(function () { module.showBanner(); });
    // Held scripts to release, or a held embed that needs its placeholder.
    else whenParsed(function () {
      [].map.call(document.querySelectorAll('[data-cpx-category]'), function (element) {
        // the module releases them as it starts
        if (element.tagName == 'IFRAME' || isGranted(element.getAttribute('data-cpx-category'))) withModule(function () {});
      });
    });
  }].map(attempt);
  return publicApi;  // to the parts that came with the core, and to no one else
})(window, document, __SETTINGS__);  // the collector writes the site's settings in
