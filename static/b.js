/*
 * consentpixel consent module: the banner and its preferences, the decision cookie,
 * withdrawal, the tally of decisions; h.js releases the scripts and embeds held until
 * consent.
 *
 * The collector serves it with the banner (its markup in one language, rendered by the
 * collector): in the tag's own file (t.js?site=…) on a first visit it can tell, the
 * banner among the site's settings; else as a part of the site's script
 * (/p/SITE.js?b=…), the banner written in for TEXTS. It hands t.js a factory, which
 * t.js calls with its core once the page is parsed. The styles (the site's stylesheet,
 * /s/SITE.css, which the collector writes in for STYLES) are adopted as a constructed
 * stylesheet: no request, no inline style, nothing a Content-Security-Policy refuses;
 * the layout (bar, box or modal) is the site's `banner` setting. Written for readers
 * and shortened by the collector, like t.js.
 */
cpx('_module', function start(core) {
  var document = window.document;
  var settings = core.settings;
  var texts = __TEXTS__ || settings.texts;
  var pageLanguage = document.documentElement.lang.split('-')[0].toLowerCase();
  var modal = settings.layout == 'modal';
  var gpc = navigator.globalPrivacyControl === true;
  var own = core.own;          // an object's own property only
  var attempt = core.attempt;  // runs a step; what it throws stays ours
  var box,        // the banner's element, while it is open
    opener,       // what had focus when it opened
    nested,       // the preferences were opened from the banner
    held,         // the release of what the page holds (h.js), once here
    heldAsked;    // … and h.js asked for

  // Categories that Global Privacy Control refuses unless switched on here.
  function locked(category) {
    return gpc && settings.gpcCategories.indexOf(category) >= 0;
  }

  function refused(category) {
    return !core.isGranted(category);
  }

  // ---- the decision ----

  function decide(granted) {
    granted = settings.categories.filter(function (category) {
      return granted.indexOf(category) >= 0;
    });
    [close, function () {
      // version . seconds . granted categories . "g" when decided under GPC; no identifier
      document.cookie = 'cpx=' + [settings.policyVersion, Date.now() / 1e3 | 0, granted.join('-'), gpc ? 'g' : ''].join('.') +
        '; path=/; max-age=' + settings.consentDays * 86400 + '; samesite=lax' +
        (location.protocol == 'https:' ? '; secure' : '');
    }, function () {
      core.applyDecision({granted: granted, underGpc: gpc && 1});
    }, function () {
      // The events that waited: sent if their category is now granted, else dropped.
      core.waiting.splice(0).map(function (event) {
        if (core.isGranted(own(settings.events, event[0]))) attempt(function () { core.send(event); });
      });
    }, function () {
      settings.categories.filter(refused).map(withdraw);
    }, function () {
      if (settings.tallies) {
        core.pixel('c.gif?s=' + settings.site + '&y=' + settings.categories.filter(core.isGranted).join('-') +
          '&n=' + settings.categories.filter(refused).join('-'));
      }
    }, release].map(attempt);
  }

  // Withdrawal: delete what was stored for the category. A cookie may sit on this host
  // or a parent domain, and on any path above this page; it is deleted only by naming
  // both, which document.cookie never shows, so every pair is tried.
  function withdraw(category) {
    var host = location.hostname.split('.');
    var path = location.pathname.split('/');
    if (category == settings.attributionCategory) attempt(function () { localStorage.removeItem('cpx_touch'); });
    document.cookie.split(/;\s*/).map(function (pair) {
      var name = pair.split('=')[0];
      (own(settings.cookies, category) || []).map(function (wanted) {  // a name, or a prefix*
        if (wanted.slice(-1) == '*' ? !name.indexOf(wanted.slice(0, -1)) : name == wanted) {
          for (var i = 0; i <= host.length; i++) {
            for (var j = 1; j <= path.length; j++) {
              document.cookie = name + '=; max-age=0; path=' + (path.slice(0, j).join('/') || '/') +
                (i ? '; domain=' + host.slice(i - 1).join('.') : '');
            }
          }
        }
      });
    });
  }

  // ---- what the page holds until consent ----

  // h.js releases it: loaded once, only on a page that holds something, and run after
  // every decision (and on arrival, for the decisions made while it was on its way).
  function release() {
    if (held) held();
    else if (!heldAsked && document.querySelector('[data-cpx-category]')) {
      heldAsked = 1;
      core.load('p/' + settings.site + '.js?h=' + texts.lang);
    }
  }

  // ---- the banner ----


  // The banner, or the preferences (the same element, another view).
  function view(preferences) {
    nested = 0;
    box.className = 'cpx cpx-' + settings.layout + (preferences ? ' cpx-prefs' : '');
  }

  // The banner's markup comes rendered by the collector (templates/tag/banner.html), in
  // one language; here it gets its switches and its behaviour.
  function show(preferences) {
    var holder = document.createElement('div');
    close();
    opener = document.activeElement;
    holder.innerHTML = texts.banner;
    box = holder.firstChild;
    [].map.call(box.querySelectorAll('input:enabled'), function (input) {
      input.checked = core.isGranted(input.value);
    });
    box.onclick = function (event) {
      var action = event.target.getAttribute('data-a');
      if (action == 'reject') decide([]);
      if (action == 'accept') decide(settings.categories.filter(function (category) { return !locked(category); }));
      if (action == 'save') {
        decide([].map.call(box.querySelectorAll('input:checked:enabled'), function (input) {
          return input.value;
        }));
      }
      if (action == 'prefs') {
        view(1);
        nested = 1;
        box.querySelector('input:enabled').focus();
      }
    };
    box.onkeydown = function (event) {
      var shown = [].filter.call(box.querySelectorAll('button,input:enabled'), function (element) {
        return element.offsetWidth;
      });
      var last = shown.length - 1;
      // In the modal, Tab stays in the dialog: from the last control to the first, and back.
      if (modal && event.key == 'Tab' && document.activeElement == shown[event.shiftKey ? 0 : last]) {
        event.preventDefault();
        shown[event.shiftKey ? last : 0].focus();
      }
      // Esc leaves the preferences for the banner, or closes them once decided; it never
      // dismisses a pending decision.
      if (event.key == 'Escape') {
        event.preventDefault();
        if (nested) {
          view();
          box.querySelector('[data-a=prefs]').focus();
        } else if (core.state().decided) {
          close();
        }
      }
    };
    box.oncancel = function (event) {
      event.preventDefault();  // Esc is handled above
    };
    view(preferences);
    // First in the page, so that the keyboard reaches it first; where it shows is the
    // stylesheet's business.
    document.body.prepend(box);
    if (modal && box.showModal) box.showModal();
    else box.setAttribute('open', '');
    // A non-blocking banner leaves the focus where it is; the modal and the preferences
    // take it, on the dialog itself or the first switch, never on a button.
    if (preferences) box.querySelector('input:enabled').focus();
    else if (modal) box.focus();
  }

  function close() {
    if (box) {
      var focused = box.contains(document.activeElement);
      box.remove();
      box = 0;
      if (focused && opener && opener.focus) opener.focus();
    }
  }

  // ---- starting ----

  // Texts chosen from the browser's languages, on a page in another the site speaks:
  // the page's are on their way, with a new factory; if they cannot come, these do.
  var languages = own(texts, 'languages');
  if (languages && pageLanguage != texts.lang && languages.indexOf(pageLanguage) >= 0) {
    if (!own(texts, 'asked')) {
      core.load('p/' + settings.site + '.js?b=' + pageLanguage, function () {
        texts.languages = 0;
        cpx('_module', start);
      });
    }
    texts.asked = 1;
    return;
  }
  // The styles as a constructed stylesheet; a browser without them gets the
  // stylesheet, which styles the banner once it has loaded.
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(__STYLES__);
    document.adoptedStyleSheets = document.adoptedStyleSheets.concat(sheet);
  } catch (error) {
    var link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = core.base + 's/' + settings.site + '.css';
    link.referrerPolicy = 'origin';
    document.head.appendChild(link);
  }

  // An automated browser is most often a site owner's test: its first page, without a
  // decision, loads this module, and says here why its hits are not counted. (What the
  // collector sees is wrong, the page's origin, it says in the site's script.)
  if (navigator.webdriver && !settings.countsAutomation) core.warn('automation');
  release();
  return {
    // h.js hands over its release, given what it needs of this module
    held: function (factory) {
      held = factory(core, decide);
      held();
    },
    showBanner: function () { show(); },
    showPreferences: function () { show(1); },
    // The page's cpx('consent', {…}): changes what it names; it may refuse what Global
    // Privacy Control refuses, but not allow it, which only the visitor's switch does.
    choose: function (choices) {
      decide(settings.categories.filter(function (category) {
        var named = {}.hasOwnProperty.call(choices, category);
        var wanted = named && !!choices[category];
        return named && !locked(category) ? wanted : core.isGranted(category) && (!named || wanted);
      }));
    }
  };
});
