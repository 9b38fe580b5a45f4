/*
 * consentpixel consent module: the banner and its preferences, the decision cookie,
 * withdrawal, the events that waited for a decision, and the scripts and embeds held
 * until consent. t.js loads it when needed; every style comes from b.css, loaded
 * first so the dialog never shows unstyled. Like t.js it is minified by jsmin, which
 * keeps names as written: short names, explained where they are made.
 */
(function (d) {
  var css = d.createElement('link');
  css.rel = 'stylesheet';
  css.href = d.currentScript.src.replace('/b.js', '/b.css');
  css.onload = css.onerror = function () {
    // A blocking script in <head> can hold the parser back: no <body> to show in yet.
    if (d.body) cpx('_ui', consent);
    else d.addEventListener('DOMContentLoaded', function () { cpx('_ui', consent); });
  };
  d.head.appendChild(css);

  // cfg: the site's settings; ok(c): is category c granted; state(): all of them;
  // apply(decision): the core's reaction to a new decision; wait: events tracked
  // before it; send(name, props, path) and pixel(url): the core's way out.
  function consent(cfg, ok, state, apply, wait, send, pixel) {
    var gpc = navigator.globalPrivacyControl === true;
    var words = language(); // the texts in the visitor's language
    var box;                // the <dialog>
    var nested;             // the preferences were opened from the banner

    function language() {
      var wanted = [d.documentElement.lang].concat(navigator.languages);
      for (var i = 0; i < wanted.length; i++) {
        var t = cfg.t[(wanted[i] || '').slice(0, 2).toLowerCase()];
        if (t) return t;
      }
      return cfg.t[Object.keys(cfg.t)[0]];
    }

    function esc(text) {
      return String(text || '').replace(/[&<>"']/g, function (c) {
        return '&#' + c.charCodeAt(0) + ';';
      });
    }

    // Categories that Global Privacy Control refuses unless switched on here.
    function locked(c) {
      return gpc && cfg.gp.indexOf(c) >= 0;
    }

    function not(fn) {
      return function (c) { return !fn(c); };
    }

    function decide(granted) {
      var g = cfg.c.filter(function (c) { return granted.indexOf(c) >= 0; });
      // version . seconds . granted categories . "g" when decided under GPC; no identifier
      d.cookie = 'cpx=' + [cfg.v, Date.now() / 1e3 | 0, g.join('-'), gpc ? 'g' : ''].join('.') +
        '; path=/; max-age=' + cfg.d * 86400 + '; samesite=lax' +
        (location.protocol == 'https:' ? '; secure' : '');
      apply({g: g, x: gpc});
      wait.splice(0).map(function (event) {
        if (ok(cfg.e[event[0]])) send.apply(0, event); // refused: dropped
      });
      cfg.c.filter(not(ok)).map(wipe);
      pixel('c.gif?s=' + cfg.s + '&y=' + cfg.c.filter(ok).join('-') + '&n=' +
        cfg.c.filter(not(ok)).join('-'));
      release();
      if (box && box.open) box.close();
    }

    // Withdrawal: delete what was stored for the category. A cookie may sit on this
    // host or a parent domain, and on any path above this page; it is deleted only by
    // naming both, which document.cookie never shows, so every pair is tried.
    function wipe(category) {
      var host = location.hostname.split('.');
      var path = location.pathname.split('/');
      if (category == cfg.a) {
        try {
          localStorage.removeItem('cpx_touch');
        } catch (e) {}
      }
      d.cookie.split(/;\s*/).map(function (pair) {
        var name = pair.split('=')[0];
        (cfg.k[category] || []).map(function (w) { // a name, or a prefix ending in *
          if (w.slice(-1) == '*' ? !name.indexOf(w.slice(0, -1)) : name == w) {
            for (var i = 0; i <= host.length; i++) {
              for (var j = 1; j <= path.length; j++) {
                d.cookie = name + '=; max-age=0; path=' + (path.slice(0, j).join('/') || '/') +
                  (i ? '; domain=' + host.slice(i - 1).join('.') : '');
              }
            }
          }
        });
      });
    }

    // Scripts (type="text/plain" data-cpx-category) run in document order once their
    // category is granted, keeping their nonce; embeds (data-cpx-src) load.
    function release() {
      var held = [].filter.call(d.querySelectorAll('[data-cpx-category]'), function (el) {
        return ok(el.getAttribute('data-cpx-category')) && !el.removeAttribute('data-cpx-category');
      });
      (function next(i) {
        var old = held[i];
        var el;
        if (!old) return;
        if (old.tagName != 'SCRIPT') {
          el = old.previousElementSibling;
          if (el && el.className == 'cpx-ph') el.remove();
          old.hidden = false;
          old.src = old.getAttribute('data-cpx-src');
          return next(i + 1);
        }
        el = d.createElement('script');
        [].map.call(old.attributes, function (a) {
          if (a.name != 'type') el.setAttribute(a.name, a.value);
        });
        el.nonce = old.nonce;
        if (old.src) el.onload = el.onerror = function () { next(i + 1); };
        else el.text = old.text;
        old.replaceWith(el);
        if (!old.src) next(i + 1);
      })(0);
    }

    function button(action, text) {
      return '<button type="button" data-a="' + action + '">' + esc(text) + '</button>';
    }

    function row(c, text, fixed) {
      return '<label class="cpx-cat"><input type="checkbox" role="switch" value="' + c + '"' +
        (fixed ? ' checked disabled' : ok(c) ? ' checked' : '') +
        '><span><b>' + esc(text[0]) + '</b>' + esc(text[1]) + '</span></label>';
    }

    function view(prefs) {
      nested = 0;
      box.className = prefs ? 'cpx cpx-prefs' : 'cpx';
    }

    function show(prefs) {
      var off = cfg.c.filter(locked).map(function (c) { return words.cats[c][0]; });
      var holder = d.createElement('div');
      if (box) box.remove();
      holder.innerHTML = '<dialog aria-labelledby="cpx-title" aria-describedby="cpx-body" ' +
        'lang="' + words.lang + '" dir="' + (words.rtl ? 'rtl' : 'ltr') + '">' +
        '<h2 id="cpx-title">' + esc(words.title) + '</h2><p id="cpx-body">' + esc(words.body) + '</p>' +
        (off[0] ? '<p class="cpx-gpc">' + esc(words.gpc.replace('{cats}', off.join(', '))) + '</p>' : '') +
        '<div class="cpx-cats">' + row('necessary', [words.necessary], 1) +
        cfg.c.map(function (c) { return row(c, words.cats[c]); }).join('') + '</div>' +
        '<div class="cpx-buttons">' + button('reject', words.reject) + button('accept', words.accept) +
        button('prefs', words.prefs) + button('save', words.save) + '</div></dialog>';
      box = holder.firstChild;
      box.onclick = function (event) {
        var action = event.target.getAttribute('data-a');
        if (action == 'reject') decide([]);
        if (action == 'accept') decide(cfg.c.filter(not(locked)));
        if (action == 'save') {
          decide([].map.call(box.querySelectorAll('input:checked:enabled'), function (input) {
            return input.value;
          }));
        }
        if (action == 'prefs') {
          view(2);
          nested = 1;
          box.querySelector('input:enabled').focus();
        }
      };
      box.onkeydown = function (event) {
        var shown = [].filter.call(box.querySelectorAll('button,input:enabled'), function (el) {
          return el.offsetWidth;
        });
        var last = shown.length - 1;
        // Tab stays in the dialog: from the last control to the first, and back.
        if (event.key == 'Tab' && d.activeElement == shown[event.shiftKey ? 0 : last]) {
          event.preventDefault();
          shown[event.shiftKey ? last : 0].focus();
        }
        // Esc leaves the preferences for the banner, or closes them once decided; it
        // never dismisses a pending decision. Handled here, before the browser makes
        // it a cancel event that it may not let us prevent twice.
        if (event.key == 'Escape') {
          event.preventDefault();
          if (nested) {
            view();
            box.querySelector('[data-a=prefs]').focus();
          } else if (state().decided) {
            box.close();
          }
        }
      };
      box.oncancel = function (event) {
        if (!state().decided) event.preventDefault();
      };
      view(prefs);
      d.body.appendChild(box);
      box.showModal();
    }

    // A held embed shows what it needs and a button that allows just that.
    function placeholders() {
      [].map.call(d.querySelectorAll('iframe[data-cpx-category]'), function (frame) {
        var c = frame.getAttribute('data-cpx-category');
        var text = words.cats[c];
        var holder = frame.previousElementSibling;
        if (!text || holder && holder.className == 'cpx-ph') return;
        holder = d.createElement('div');
        holder.className = 'cpx-ph';
        holder.innerHTML = '<p>' + esc(text[0] + ': ' + text[1]) + '</p>' +
          button('allow', words.allow + ': ' + text[0]);
        holder.lastChild.onclick = function () {
          decide(cfg.c.filter(ok).concat(c));
        };
        frame.hidden = true;
        frame.before(holder);
      });
    }

    return {
      // mode: 1 (or true) the banner, 2 the preferences, 0 only what is held
      open: function (mode) {
        release();
        placeholders();
        if (mode) show(mode == 2);
      },
      set: function (choices) {
        decide(cfg.c.filter(function (c) { return c in choices ? choices[c] : ok(c); }));
      }
    };
  }
})(document);
