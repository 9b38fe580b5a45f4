/*
 * consentpixel consent module: the banner and its preferences, the decision cookie,
 * withdrawal, the tally of decisions; h.js releases the scripts and embeds held until
 * consent.
 *
 * The collector serves it after the site's settings and the banner's texts, in the
 * tag's own file (t.js?site=…) on a first visit it can tell, else in the site's script
 * (/s/SITE.js?l=…). It hands t.js a factory, which t.js calls with its core once the
 * page is parsed. The styles (the site's stylesheet, /s/SITE.css, which the collector
 * writes in for STYLES) are adopted as a constructed stylesheet: no request, no inline
 * style, nothing a Content-Security-Policy refuses; the layout (bar, box or modal) is
 * the site's `banner` setting. Written for readers and shortened by the collector,
 * like t.js.
 */
cpx('_module', function (core) {
  var document = window.document;
  var settings = core.settings;
  var texts = settings.texts;
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

  function escape(text) {
    return ('' + (text || '')).replace(/[&<>"']/g, function (character) {
      return '&#' + character.charCodeAt(0) + ';';
    });
  }

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
      withdraw(settings.categories.filter(refused));
    }, function () {
      if (settings.tallies) {
        core.pixel('c.gif?s=' + settings.site + '&y=' + settings.categories.filter(core.isGranted).join('-') +
          '&n=' + settings.categories.filter(refused).join('-'));
      }
    }, release].map(attempt);
  }

  // Withdrawal: what was stored for the refused categories goes: the campaign touch
  // here, and the cookies they name (a name, or a prefix*), which d.js deletes; it loads
  // only for categories that name some.
  function withdraw(refusedCategories) {
    var cookies = [];
    refusedCategories.map(function (category) {
      if (category == settings.attributionCategory) attempt(function () { localStorage.removeItem('cpx_touch'); });
      cookies = cookies.concat(own(settings.cookies, category) || []);
    });
    if (cookies[0]) core.load('d.js#' + encodeURIComponent(JSON.stringify(cookies)));
  }

  // ---- what the page holds until consent ----

  // h.js releases it: loaded once, only on a page that holds something, and run after
  // every decision (and on arrival, for the decisions made while it was on its way).
  function release() {
    if (held) held();
    else if (!heldAsked && document.querySelector('[data-cpx-category]')) {
      heldAsked = 1;
      core.load('h.js');
    }
  }

  // ---- the banner ----

  function button(action, text) {
    return '<button type="button" data-a="' + action + '">' + escape(text) + '</button>';
  }

  function row(category, words, fixed) {
    return '<label class="cpx-cat"><input type="checkbox" role="switch" value="' + category + '"' +
      (fixed ? ' checked disabled' : core.isGranted(category) ? ' checked' : '') +
      '><span><b>' + escape(words[0]) + '</b>' + escape(words[1]) + '</span></label>';
  }

  // The banner, or the preferences (the same element, another view).
  function view(preferences) {
    nested = 0;
    box.className = 'cpx cpx-' + settings.layout + (preferences ? ' cpx-prefs' : '');
  }

  function show(preferences) {
    var off = settings.categories.filter(locked).map(function (category) {
      return own(texts.cats, category)[0];
    });
    var holder = document.createElement('div');
    close();
    opener = document.activeElement;
    // role="dialog" also for browsers without <dialog>, where it is a plain element
    holder.innerHTML = '<dialog role="dialog" tabindex="-1" aria-labelledby="cpx-title" aria-describedby="cpx-body" ' +
      'lang="' + escape(texts.lang) + '" dir="' + (texts.rtl ? 'rtl' : 'ltr') + '">' +
      '<h2 id="cpx-title">' + escape(texts.title) + '</h2><p id="cpx-body">' + escape(texts.body) + '</p>' +
      (off[0] && texts.gpc ? '<p class="cpx-gpc">' + escape(texts.gpc.replace('{cats}', off.join(', '))) + '</p>' : '') +
      '<div class="cpx-cats">' + row('necessary', [texts.necessary], 1) +
      settings.categories.map(function (category) { return row(category, own(texts.cats, category)); }).join('') +
      '</div><div class="cpx-buttons">' + button('reject', texts.reject) + button('accept', texts.accept) +
      button('prefs', texts.prefs) + button('save', texts.save) + '</div></dialog>';
    box = holder.firstChild;
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
  // the page's are on their way, with a new factory.
  var languages = own(texts, 'languages');
  if (languages && pageLanguage != texts.lang && languages.indexOf(pageLanguage) >= 0) {
    if (!own(texts, 'asked')) core.load('s/' + settings.site + '.js?l=' + pageLanguage);
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
      held = factory(core, decide, button, escape);
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
