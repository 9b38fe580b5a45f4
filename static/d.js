/*
 * consentpixel's withdrawal: deletes the cookies of the categories a visitor refused.
 *
 * The consent module loads it as d.js#COOKIES, the cookies those categories name (a
 * name, or a prefix*; a JSON list in the fragment, which keeps this one cached file),
 * only when they name some. A cookie may sit on this host or a parent domain, and on
 * any path above this page; it is deleted only by naming both, which document.cookie
 * never shows, so every pair is tried.
 */
(function (wanted) {
  var host = location.hostname.split('.');
  var path = location.pathname.split('/');
  document.cookie.split(/;\s*/).map(function (pair) {
    var name = pair.split('=')[0];
    wanted.map(function (cookie) {
      if (cookie.slice(-1) == '*' ? !name.indexOf(cookie.slice(0, -1)) : name == cookie) {
        for (var i = 0; i <= host.length; i++) {
          for (var j = 1; j <= path.length; j++) {
            document.cookie = name + '=; max-age=0; path=' + (path.slice(0, j).join('/') || '/') +
              (i ? '; domain=' + host.slice(i - 1).join('.') : '');
          }
        }
      }
    });
  });
})(JSON.parse(decodeURIComponent(document.currentScript.src.split('#')[1])));
