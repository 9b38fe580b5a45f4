document.cookie = '_demo_ads_id=abc; path=/';
document.cookie = '_demo_ads_deep=abc; path=/cookies.html';
document.cookie = '_demo_adsx=abc; path=/';
window.adsCookiesSet = true;
