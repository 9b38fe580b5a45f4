/*
 * What the audit runs inside the pages it opens (see probe.py and session.py).
 *
 * Playwright gets one function at a time, with this whole file around it, so the
 * functions share nothing but these declarations and none leaks into the page. They
 * read the page and change nothing in it, except the two that run before the page's
 * own scripts in every frame: keepConsentEvents and claimGpc. Nothing here is sent
 * anywhere; what they return goes back to the audit, which masks it.
 */

// Keeps the tag's consent events. The tag sends one as soon as its settings arrive,
// so the first tells that it has started.
function keepConsentEvents() {
  const seen = window.__consentpixelAudit = {events: []};
  document.addEventListener('cpx:consent', e => seen.events.push(e.detail));
}

// Chromium has no Global Privacy Control of its own; the header comes with the context.
function claimGpc() {
  Object.defineProperty(Navigator.prototype, 'globalPrivacyControl',
                        {get: () => true, configurable: true});
}

// The consentpixel tag's script element: where it came from, its site and event.
function findTag() {
  const s = document.querySelector('script[data-site][src*="/t.js"]');
  return s && {src: s.src, site: s.getAttribute('data-site'),
               event: s.getAttribute('data-event') || ''};
}

function tagStarted() {
  return window.__consentpixelAudit && window.__consentpixelAudit.events.length > 0;
}

function countConsentEvents() {
  return window.__consentpixelAudit.events.length;
}

function consentEventAfter(count) {
  return window.__consentpixelAudit.events.length > count;
}

// cpx('consent'), once the tag has started.
function readConsent() {
  const a = window.__consentpixelAudit;
  return a && a.events.length && typeof cpx == 'function' ? cpx('consent') : null;
}

// The banner's visible buttons: [data-a, text], whatever the page's language.
function readButtons(dialog) {
  return [...dialog.querySelectorAll('button[data-a]')]
    .filter(b => b.checkVisibility()).map(b => [b.getAttribute('data-a'), b.textContent.trim()]);
}

// The keys in localStorage and sessionStorage: [area, key] (never the values).
function readStorage() {
  const out = [];
  for (const [area, get] of [['local', () => localStorage], ['session', () => sessionStorage]]) {
    try { const s = get(); for (let i = 0; i < s.length; i++) out.push([area, s.key(i)]); }
    catch (e) {}
  }
  return out;
}

// The elements the page holds until consent (data-cpx-category), and whether each
// would run at once: a script whose type the browser runs, an embed with a src.
function readHeld() {
  return [...document.querySelectorAll('[data-cpx-category]')].map(el => {
    const script = el.tagName == 'SCRIPT';
    const held = el.getAttribute('data-cpx-src');
    const src = held ? new URL(held, document.baseURI).href : el.getAttribute('src') ? el.src : '';
    const type = script ? el.type.trim() : '';
    return {tag: el.tagName.toLowerCase(), src, category: el.getAttribute('data-cpx-category'),
            runs: script ? /^((text|application)\/(x-)?(java|ecma)script|module|)$/i.test(type)
                         : !!el.getAttribute('src')};
  });
}

// Google's dataLayer, one line per entry: "consent default", "config G-1", "event x".
function readDataLayer() {
  return (Array.isArray(window.dataLayer) ? window.dataLayer : []).slice(0, 200).map(e => {
    try {
      if (e && typeof e == 'object' && typeof e.length == 'number')
        return [...e].slice(0, 2).filter(x => typeof x == 'string').join(' ');
      return e && e.event ? 'event ' + e.event : 'object';
    } catch (x) { return 'unreadable'; }
  });
}

// Up to n links to other pages of the same host, documents only.
function findLinks(n) {
  const seen = new Set([location.href.split('#')[0]]), out = [];
  for (const a of document.querySelectorAll('a[href]')) {
    let u;
    try { u = new URL(a.href, location.href); } catch (e) { continue; }
    u.hash = '';
    if (u.host != location.host || !/^https?:$/.test(u.protocol) || seen.has(u.href)) continue;
    if (/\.(pdf|zip|gz|png|jpe?g|gif|svg|webp|mp[34]|docx?|xlsx?)$/i.test(u.pathname)) continue;
    seen.add(u.href);
    out.push(u.href);
    if (out.length >= n) break;
  }
  return out;
}
