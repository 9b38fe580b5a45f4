/*
 * consentpixel consent module: the banner and its preferences, the decision cookie,
 * withdrawal, the events that waited for a decision, and the scripts and embeds held
 * until consent. t.js loads it when needed; every style comes from b.css, which is
 * loaded first so the dialog never shows unstyled.
 */
(function (d) {
  var link = d.createElement('link');
  link.rel = 'stylesheet';
  link.href = d.currentScript.src.replace('/b.js', '/b.css');
  link.onload = link.onerror = function () {
    cpx('_ui', consent);
  };
  d.head.appendChild(link);

  // cfg: the site's settings; ok(c): is category c granted; state(): all of them;
  // apply(decision): the core's reaction to a new decision; wait: events tracked
  // before it; send(name, props, path) and pixel(url): the core's way out.
  function consent(cfg, ok, state, apply, wait, send, pixel) {
    var gpc = navigator.globalPrivacyControl === true;
    var words = language();
    var dialog;
    var nested; // the preferences were opened from the banner: Esc goes back to it

    function language() {
      var wanted = [d.documentElement.lang].concat(navigator.languages);
      for (var i = 0; i < wanted.length; i++) {
        var lang = (wanted[i] || '').slice(0, 2).toLowerCase();
        if (cfg.t[lang]) return cfg.t[lang];
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
      cfg.c.map(function (c) {
        if (!ok(c)) wipe(c);
      });
      pixel('c.gif?s=' + cfg.s + '&y=' + cfg.c.filter(ok).join('-') + '&n=' +
        cfg.c.filter(function (c) { return !ok(c); }).join('-'));
      release();
      if (dialog && dialog.open) dialog.close();
    }

    // Withdrawal: delete what was stored for the category, on this host and its parents.
    function wipe(category) {
      var host = location.hostname.split('.');
      if (category == cfg.a) {
        try {
          localStorage.removeItem('cpx_touch');
        } catch (e) {}
      }
      d.cookie.split(/;\s*/).map(function (pair) {
        var name = pair.split('=')[0];
        (cfg.k[category] || []).map(function (wanted) {
          var prefix = wanted.slice(-1) == '*';
          if (prefix ? name.indexOf(wanted.slice(0, -1)) == 0 : name == wanted) {
            for (var i = 0; i <= host.length; i++) {
              d.cookie = name + '=; path=/; max-age=0' + (i ? '; domain=' + host.slice(i - 1).join('.') : '');
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
          if (el && el.className == 'cpx-ph') el.parentNode.removeChild(el);
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
        old.parentNode.replaceChild(el, old);
        if (!old.src) next(i + 1);
      })(0);
    }

    function button(action, text) {
      return '<button type="button" data-a="' + action + '">' + esc(text) + '</button>';
    }

    function row(category, text, fixed) {
      return '<label class="cpx-cat"><input type="checkbox" role="switch" value="' + category +
        '"' + (fixed ? ' checked disabled' : ok(category) ? ' checked' : '') +
        '><span><b>' + esc(text[0]) + '</b>' + esc(text[1]) + '</span></label>';
    }

    function show(prefs) {
      var off = cfg.c.filter(locked).map(function (c) { return words.cats[c][0]; });
      if (dialog) dialog.parentNode.removeChild(dialog);
      dialog = d.createElement('dialog');
      dialog.className = prefs ? 'cpx cpx-prefs' : 'cpx';
      dialog.innerHTML = '<h2 id="cpx-title">' + esc(words.title) + '</h2>' +
        '<p id="cpx-body">' + esc(words.body) + '</p>' +
        (off.length ? '<p class="cpx-gpc">' + esc(words.gpc.replace('{cats}', off.join(', '))) + '</p>' : '') +
        '<div class="cpx-cats">' + row('necessary', [words.necessary, ''], 1) +
        cfg.c.map(function (c) { return row(c, words.cats[c]); }).join('') + '</div>' +
        '<div class="cpx-buttons">' + button('reject', words.reject) + button('accept', words.accept) +
        button('prefs', words.prefs) + button('save', words.save) + '</div>';
      dialog.setAttribute('aria-labelledby', 'cpx-title');
      dialog.setAttribute('aria-describedby', 'cpx-body');
      dialog.lang = words.lang;
      dialog.dir = words.rtl ? 'rtl' : 'ltr';
      dialog.onclick = function (event) {
        var action = event.target.getAttribute('data-a');
        if (action == 'reject') decide([]);
        if (action == 'accept') decide(cfg.c.filter(function (c) { return !locked(c); }));
        if (action == 'save') {
          decide([].map.call(dialog.querySelectorAll('input:checked:enabled'), function (input) {
            return input.value;
          }));
        }
        if (action == 'prefs') {
          nested = 1;
          dialog.className = 'cpx cpx-prefs';
          dialog.querySelector('input:enabled').focus();
        }
      };
      // Esc leaves the preferences for the banner, or closes them once decided; it
      // never dismisses a pending decision. Handled on keydown, before the browser
      // turns it into a cancel that it may refuse to let us prevent twice.
      dialog.onkeydown = function (event) {
        if (event.key != 'Escape') return;
        event.preventDefault();
        if (nested) {
          nested = 0;
          dialog.className = 'cpx';
          dialog.querySelector('[data-a=prefs]').focus();
        } else if (state().decided) {
          dialog.close();
        }
      };
      dialog.oncancel = function (event) {
        if (!state().decided) event.preventDefault();
      };
      nested = 0;
      d.body.appendChild(dialog);
      dialog.showModal();
    }

    // A held embed shows what it needs and a button to allow just that.
    function placeholders() {
      [].map.call(d.querySelectorAll('iframe[data-cpx-category]'), function (frame) {
        var category = frame.getAttribute('data-cpx-category');
        var text = words.cats[category];
        var holder = frame.previousElementSibling;
        if (!text || holder && holder.className == 'cpx-ph') return;
        holder = d.createElement('div');
        holder.className = 'cpx-ph';
        holder.innerHTML = '<p>' + esc(text[0] + ': ' + text[1]) + '</p>' +
          button('allow', words.allow + ': ' + text[0]);
        holder.lastChild.onclick = function () {
          decide(cfg.c.filter(ok).concat(category));
        };
        frame.hidden = true;
        frame.parentNode.insertBefore(holder, frame);
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
