/*
 * What the audit runs inside the pages it opens (see probe.py and session.py).
 *
 * Playwright gets one function at a time, with this whole file around it, so the
 * functions share nothing but these declarations and none leaks into the page. They
 * read the page and change nothing in it, except the two that run before the page's
 * own scripts in every frame (keepConsentEvents and claimGpc) and decideByApi, which
 * answers a consent manager through its own API as a visitor would through its banner.
 * Nothing here is sent anywhere; what they return goes back to the audit, which masks it.
 */

// The consent managers the audit recognises on pages without our tag, by their globals
// or their markup, how to answer those whose JavaScript API can take a decision, and how
// to ask some whether the visitor has decided.
// Cookiebot also defines a CookieConsent global: it comes before vanilla-cookieconsent.
const MANAGERS = [
  {name: 'Cookiebot', global: () => window.Cookiebot, markup: '#CybotCookiebotDialog',
   decided: () => Cookiebot.hasResponse,
   reject: () => Cookiebot.submitCustomConsent(false, false, false),
   accept: () => Cookiebot.submitCustomConsent(true, true, true),
   call: ['Cookiebot.submitCustomConsent(false, false, false)',
          'Cookiebot.submitCustomConsent(true, true, true)']},
  {name: 'vanilla-cookieconsent',
   global: () => window.CookieConsent && typeof CookieConsent.acceptCategory == 'function',
   markup: '#cc-main, #cc--main',
   decided: () => CookieConsent.validConsent(),
   reject: () => { CookieConsent.acceptCategory([]); CookieConsent.hide(); },
   accept: () => { CookieConsent.acceptCategory('all'); CookieConsent.hide(); },
   call: ['CookieConsent.acceptCategory([])', "CookieConsent.acceptCategory('all')"]},
  {name: 'Klaro', global: () => window.klaro && typeof klaro.getManager == 'function',
   markup: '.klaro',
   decided: () => klaro.getManager().confirmed,
   reject: () => { const m = klaro.getManager(); m.changeAll(false); m.saveAndApplyConsents(); },
   accept: () => { const m = klaro.getManager(); m.changeAll(true); m.saveAndApplyConsents(); },
   call: ['klaro.getManager().changeAll(false), then saveAndApplyConsents()',
          'klaro.getManager().changeAll(true), then saveAndApplyConsents()']},
  {name: 'Orejime', global: () => window.orejime && window.orejime.manager,
   markup: '.orejime-Env, #orejime',
   decided: () => !orejime.manager.isDirty(),
   reject: () => orejime.manager.declineAll(), accept: () => orejime.manager.acceptAll(),
   call: ['orejime.manager.declineAll()', 'orejime.manager.acceptAll()']},
  {name: 'tarteaucitron', global: () => window.tarteaucitron && tarteaucitron.userInterface,
   markup: '#tarteaucitronRoot',
   decided: () => tarteaucitron.job.length > 0 &&
                  tarteaucitron.job.every(job => typeof tarteaucitron.state[job] == 'boolean'),
   reject: () => tarteaucitron.userInterface.respondAll(false),
   accept: () => tarteaucitron.userInterface.respondAll(true),
   call: ['tarteaucitron.userInterface.respondAll(false)',
          'tarteaucitron.userInterface.respondAll(true)']},
  {name: 'Osano cookieconsent',
   global: () => window.cookieconsent && typeof cookieconsent.initialise == 'function',
   markup: '.cc-window'},
  {name: 'OneTrust', global: () => window.OneTrust && typeof OneTrust.RejectAll == 'function',
   markup: '#onetrust-consent-sdk, #onetrust-banner-sdk',
   decided: () => OneTrust.IsAlertBoxClosed(),
   reject: () => OneTrust.RejectAll(), accept: () => OneTrust.AllowAll(),
   call: ['OneTrust.RejectAll()', 'OneTrust.AllowAll()']},
  {name: 'Didomi', global: () => window.Didomi && typeof Didomi.setUserDisagreeToAll == 'function',
   markup: '#didomi-host, #didomi-notice',
   reject: () => Didomi.setUserDisagreeToAll(), accept: () => Didomi.setUserAgreeToAll(),
   call: ['Didomi.setUserDisagreeToAll()', 'Didomi.setUserAgreeToAll()']},
  {name: 'Usercentrics', global: () => window.UC_UI && typeof UC_UI.denyAllConsents == 'function',
   markup: '#usercentrics-root, #usercentrics-cmp-ui',
   reject: () => UC_UI.denyAllConsents().then(() => UC_UI.closeCMP()),
   accept: () => UC_UI.acceptAllConsents().then(() => UC_UI.closeCMP()),
   call: ['UC_UI.denyAllConsents()', 'UC_UI.acceptAllConsents()']},
  {name: 'Quantcast Choice', global: () => false,
   markup: '#qc-cmp2-container, .qc-cmp2-container, #qc-cmp2-ui'},
  {name: 'Complianz', global: () => typeof cmplz_deny_all == 'function',
   markup: '#cmplz-cookiebanner-container, .cmplz-cookiebanner',
   reject: () => cmplz_deny_all(), accept: () => cmplz_accept_all(),
   call: ['cmplz_deny_all()', 'cmplz_accept_all()']},
];

// A consent banner's controls on any page: buttons and links whose accessible name says
// what they do (see controls.py for the words), inside something that speaks of cookies
// or consent, in the document and in its open shadow roots. One frame at a time: the
// audit asks every frame, same-origin or not.
const CONTROLS = 'button, a[href], [role=button], [role=link], input[type=button], input[type=submit]';

const deepControls = (root, out) => {
  for (const el of root.querySelectorAll('*')) {
    if (el.matches(CONTROLS)) out.push(el);
    if (el.shadowRoot) deepControls(el.shadowRoot, out);
  }
  return out;
};

// Read from the markup (textContent, not innerText), so that looking costs no layout.
const accessibleName = el => {
  const root = el.getRootNode();
  const ids = (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
  const labelled = ids.map(id => root.getElementById(id)).filter(Boolean)
    .map(node => node.textContent).join(' ');
  const text = labelled || el.getAttribute('aria-label') ||
    (el.tagName == 'INPUT' ? el.value : el.textContent) || el.title || '';
  return text.replace(/\s+/g, ' ').trim();
};

// Speaks of cookies or consent: the control's surroundings, up to what is still a banner
// (a container with the page's whole text is not one).
const inConsentContext = (el, context) => {
  for (let node = el, depth = 0; node && depth < 12; node = node.parentNode || node.host) {
    const element = node.nodeType == 1;
    if (!element && !(node instanceof ShadowRoot)) continue;
    depth++;
    // a shadow root's text is its own: the host's innerText does not show it
    const text = (element ? node.innerText : node.textContent) || '';
    const marks = element ? [node.id, typeof node.className == 'string' ? node.className : '',
                             node.getAttribute('aria-label')].join(' ') : '';
    if (context.test(marks)) return true;
    if (text.length > 4000) return false;
    if (context.test(text)) return true;
  }
  return false;
};

const findControls = words => {
  const actions = words.actions.map(([action, source]) => [action, new RegExp(source, 'i')]);
  const context = new RegExp(words.context, 'i'), all = new RegExp(words.all, 'i');
  const found = [];
  for (const el of deepControls(document, [])) {
    const name = accessibleName(el);
    const hit = name.length <= 80 && actions.find(([, pattern]) => pattern.test(name));
    if (!hit) continue;
    const rect = el.getBoundingClientRect();
    if (!rect.width || !rect.height || !el.checkVisibility({opacityProperty: true,
                                                             visibilityProperty: true})) continue;
    if (!inConsentContext(el, context)) continue;
    found.push({action: hit[0], name, all: all.test(name),
                shadow: el.getRootNode() instanceof ShadowRoot, el});
  }
  return found;
};

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

// The consent manager of a page without our tag: {name, evidence, api}, or null.
function recogniseManager() {
  for (const manager of MANAGERS) {
    let evidence = '';
    try {
      if (manager.global()) evidence = 'its JavaScript global';
    } catch (e) {}
    const markup = !evidence && manager.markup && document.querySelector(manager.markup);
    if (markup) evidence = 'its markup (' + manager.markup.split(', ').find(s => markup.matches(s)) + ')';
    if (evidence) return {name: manager.name, evidence, api: !!manager.reject};
  }
  return null;
}

// Answers the consent manager `name` through its own API: what it called, or '' when it
// has none (or it is not there yet).
function decideByApi([name, action]) {
  const manager = MANAGERS.find(m => m.name == name);
  try {
    if (!manager || !manager.reject || !manager.global()) return '';
    (action == 'reject' ? manager.reject : manager.accept)();
    return manager.call[action == 'reject' ? 0 : 1];
  } catch (e) {
    return '';
  }
}

// Whether the consent manager `name` says the visitor has decided (so no banner will
// come): true, or false when it says no or cannot tell.
function managerDecided(name) {
  const manager = MANAGERS.find(m => m.name == name);
  try {
    return !!(manager && manager.decided && manager.global() && manager.decided());
  } catch (e) {
    return false;
  }
}

// The banner's controls in this frame: [{action, name, all, shadow}], in document order.
function listControls(words) {
  return findControls(words).map(({action, name, all, shadow}) => ({action, name, all, shadow}));
}

// The control with this action and name, for Playwright to click.
function controlElement([words, action, name]) {
  const found = findControls(words).find(c => c.action == action && c.name == name);
  return found ? found.el : null;
}

// The consentpixel tag's script element (t.js?site=…, or as first published, t.js with
// data-site): where it came from, its site and event.
function findTag() {
  for (const s of document.querySelectorAll('script[src*="/t.js"]')) {
    const site = s.getAttribute('data-site') || new URL(s.src).searchParams.get('site');
    if (site) return {src: s.src, site, event: s.getAttribute('data-event') || ''};
  }
  return null;
}

function tagStarted() {
  return window.__consentpixelAudit && window.__consentpixelAudit.events.length > 0;
}

// Whether the page's main thread has been idle since the audit first asked with this
// token. A script downloaded but not yet run (on a busy machine) keeps it busy, so a
// step does not end between a tracker's download and the cookie it then sets.
function idleAfter(token) {
  const audit = window.__consentpixelAudit;
  if (!audit) return true;  // not a page the audit's init script saw: nothing to wait on
  if (audit.idle && audit.idle.token === token) return audit.idle.idle;
  const fresh = audit.idle = {token, idle: false};
  const done = () => { fresh.idle = true; };
  if (window.requestIdleCallback) requestIdleCallback(done, {timeout: 2000});
  else setTimeout(done, 50);
  return false;
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
