document.cookie = '_demo_stats_id=xyz; path=/';
window.statsCookiesSet = true;
