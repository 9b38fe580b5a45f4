/*
 * consentpixel tag core: consent state, events, privacy filter, pixel.
 *
 *   <script async src="https://COLLECTOR/t.js" data-site="shop"></script>
 *
 * A returning visitor who has decided loads only this file and the site's settings
 * (/s/SITE.js). The consent module (b.js, b.css) loads when a decision is due or
 * changes, or when the page holds scripts or embeds until consent; it also sends or
 * drops the events that wait for the decision. gcm.js mirrors decisions into Google
 * Consent Mode for the sites that want it.
 *
 * The collector minifies this file with jsmin, which keeps every name as written:
 * so names are short, locals often one letter, and the comments say what they hold.
 * Plain ES5, no eval, no inline styles, and nothing may throw into the host page.
 */
(function (w, d) {
  var me = d.currentScript;
  var old = w.cpx;
  // Without our own <script> element, or with the name taken, stand aside.
  if (!me || old && (old.l || typeof old != 'function')) return;

  var loc = location;
  var base = me.src.replace(/\/t\.js\b.*/, '/');
  var gpc = navigator.globalPrivacyControl === true;
  var calls = old && old.q || []; // calls made before the settings arrived
  var cfg;       // the site's settings, see tag.site_settings() on the collector
  var dec;       // the decision: {g: granted categories, x: made under GPC}
  var wait = []; // events tracked before the decision: [name, props, path]
  var ui;        // the consent module, once loaded
  var todo = []; // what to do once it has loaded
  var last;      // the path of the last page view
  var sent = 0;  // pixels sent from this document
  var ref = d.referrer.split('/')[2]; // the referrer's host; our own is no referrer
  var land;      // the campaign this page was reached from: {q: pixel parameters, t: time}

  function attr(el, name) {
    return el.getAttribute('data-' + name);
  }

  // Our errors stay ours: the host page never sees them.
  function safe(fn) {
    return function () {
      try {
        return fn.apply(this, arguments);
      } catch (e) {}
    };
  }

  function load(file) {
    var s = d.createElement('script');
    s.nonce = me.nonce;
    s.src = base + file;
    d.head.appendChild(s);
  }

  // The stored campaign touch: kept with touch(t), read within the lookback window
  // with touch(), removed once past it.
  function touch(t) {
    try {
      if (t) return localStorage.cpx_touch = JSON.stringify(t);
      t = JSON.parse(localStorage.cpx_touch);
      if (Date.now() - t.t < cfg.l * 864e5) return t;
      localStorage.removeItem('cpx_touch');
    } catch (e) {}
  }

  // ---- the privacy filter ----

  // The collector's own rules (privacy.TAG_RULES), which it applies again: the first
  // rule that matches s, or s without its separators (cfg.f), names its placeholder.
  function scrub(s) {
    var flat = s.replace(RegExp(cfg.f, 'g'), '');
    for (var i = 0, r; r = cfg.r[i++];) {
      if (RegExp(r[1], 'i').test(r[2] ? flat : s)) return r[0];
    }
    return s.slice(0, 64);
  }

  // The campaign in this page's URL as pixel parameters: the allowed parameters
  // (cfg.u: utm_source…) scrubbed, and the name of a click ID (cfg.i: gclid…), never
  // the ID itself: the collector maps the name to a source.
  function landing() {
    var q = '';
    new URLSearchParams(loc.search).forEach(function (v, k) {
      if (cfg.u.indexOf(k) >= 0) q += '&' + k + '=' + encodeURIComponent(scrub(v.toLowerCase()));
      if (cfg.i.indexOf(k) >= 0) q += '&k=' + k;
    });
    return q ? {q: q, t: Date.now()} : land;
  }

  // ---- consent ----

  // Is category c granted? Global Privacy Control refuses the categories in cfg.gp,
  // unless they were turned on while the signal was on.
  function ok(c) {
    var locked = gpc && cfg.gp.indexOf(c) >= 0;
    return c == 'necessary' || cfg.c.indexOf(c) >= 0 &&
      (dec ? dec.g.indexOf(c) >= 0 && (!locked || dec.x) : cfg.m == 'opt-out' && !locked);
  }

  function state() {
    var s = {decided: !!dec};
    cfg.c.map(function (c) { s[c] = ok(c); });
    return s;
  }

  // Once the decision is read or changed: keep the touch, tell the page.
  function apply(decision) {
    dec = decision || dec;
    if (land && ok(cfg.a)) touch(land);
    d.dispatchEvent(new CustomEvent('cpx:consent', {detail: state()}));
  }

  // ---- events and the pixel ----

  function track(name, props) {
    var event = [name, props || {}, loc.pathname];
    var c = cfg.e[name];
    if (ok(c)) send.apply(0, event);
    else if (c && !dec) wait.push(event);
  }

  // Conversions carry the stored touch (last touch), page views their own landing.
  function send(name, props, path) {
    var t = name == 'pageview' ? land : touch() || land;
    var q = {
      e: name, r: ref != loc.host && ref, v: props.value, c: props.currency,
      o: props.order_id && hash('' + props.order_id),
      a: cfg.c.filter(ok).join('-'), w: navigator.webdriver && 1, x: dec && dec.x && 1
    };
    var url = 'p.gif?s=' + attr(me, 'site') + (t ? t.q : '');
    try {
      path = decodeURI(path);
    } catch (e) {}
    q.p = path.split('/').map(function (s) {
      return scrub(s.split(';')[0]); // ;jsessionid=…
    }).join('/');
    for (var k in q) {
      if (q[k]) url += '&' + k + '=' + encodeURIComponent(q[k]);
    }
    pixel(url);
  }

  // The counter z makes each URL new: a document reuses an image it already has.
  function pixel(url, img) {
    img = new Image();
    img.referrerPolicy = 'origin'; // the collector learns the page's origin, not its URL
    img.src = base + url + '&z=' + ++sent;
  }

  // The order ID never leaves the page, only its 32-bit FNV-1a hash. Rare collisions
  // cost little: 10,000 orders within 48 hours share a hash with odds of about 1%.
  function hash(s, h) {
    for (h = 2166136261; s; s = s.slice(1)) h = Math.imul(h ^ s.charCodeAt(0), 16777619);
    return h >>> 0;
  }

  function page() {
    if (loc.pathname != last) {
      last = loc.pathname;
      land = landing();
      track('pageview');
    }
  }

  // Declared events: data-event on the script, data-cpx-event on links and forms.
  function fire(el, prefix) {
    track(attr(el, prefix + 'event'), {value: attr(el, prefix + 'value'),
      currency: attr(el, prefix + 'currency'), order_id: attr(el, prefix + 'order-id')});
  }

  // Run fn with the consent module, loading it first if need be.
  function withUI(fn) {
    if (ui) return fn();
    if (todo.push(fn) == 1) load('b.js?v=__ASSETS__');
  }

  // ---- the API ----

  function api(cmd, a, b) {
    if (cmd == '_ui') {
      ui = a(cfg, ok, state, apply, wait, send, pixel);
      return todo.splice(0).map(function (fn) { safe(fn)(); });
    }
    if (cmd == '_config') cfg = cfg || start(a);
    if (!cfg) return calls.push(arguments);
    if (cmd == 'track') track(a, b);
    if (cmd == 'preferences') withUI(function () { ui.open(2); });
    if (cmd == 'consent' && a) withUI(function () { ui.set(a); });
    return state();
  }

  function start(settings) {
    // the cookie: version . seconds . granted categories joined by "-" . "g" if under GPC
    var c = ((d.cookie.match(/(^|;\s*)cpx=([^;]*)/) || [])[2] || '').split('.');
    cfg = settings;
    if (+c[0] >= cfg.v && Date.now() / 1e3 - c[1] < cfg.d * 86400) {
      dec = {g: c[2].split('-'), x: c[3] == 'g'};
    }
    touch();
    page();
    apply();
    calls.map(function (call) { api.apply(0, call); });
    fire(me, '');
    // Opt-in asks at once; opt-out (CCPA) allows until refused, through the preferences.
    var ask = !dec && cfg.m == 'opt-in';
    if (ask || d.querySelector('[data-cpx-category]')) withUI(function () { ui.open(ask); });
    return cfg;
  }

  w.cpx = safe(api);
  w.cpx.l = 1;
  var push = history.pushState;
  history.pushState = function () {
    push.apply(this, arguments);
    safe(page)();
  };
  w.addEventListener('popstate', safe(page));
  ['click', 'submit'].map(function (type) {
    d.addEventListener(type, safe(function (e) {
      var el = cfg && e.target.closest('[data-cpx-event],[data-cpx-preferences]');
      // a click on a form is not yet its submission
      if (!el || type == 'click' && el.tagName == 'FORM') return;
      if (attr(el, 'cpx-preferences') == null) return fire(el, 'cpx-');
      e.preventDefault();
      api('preferences');
    }), true);
  });
  load('s/' + attr(me, 'site') + '.js');
})(window, document);
