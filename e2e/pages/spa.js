document.getElementById('a').onclick = function () { history.pushState({}, '', '/spa/a'); };
document.getElementById('b').onclick = function () { history.pushState({}, '', '/spa/b?order=55'); };
document.getElementById('same').onclick = function () { location.hash = 'section'; };
