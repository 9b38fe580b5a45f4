/*
 * consentpixel's console warnings: what is wrong with the tag's setup, and the fix.
 *
 * Loaded only when something is wrong, so the words cost a correctly configured page
 * nothing. t.js loads it as w.js#CODE,DETAIL,SITE; the collector also serves it, with
 * the problem filled in, when it sees the problem itself: in the tag, a page origin the
 * site does not list; instead of the tag, a site it does not know. Each problem is
 * printed once per page.
 */
(function (problem) {
  var code = problem[0];
  var detail = problem[1];
  var site = problem[2];
  var api = window.cpx || {};
  var printed = api.warned = api.warned || {};
  var words = {
    site: site ?
      'the tag names the site "' + site + '", which this collector does not know, so ' +
      'nothing is counted. Use the name of a [sites.NAME] table in the collector\'s config: ' +
      't.js?site=NAME.' :
      'the tag names no site, so nothing is counted. Load it as <script async ' +
      'src="…/t.js?site=NAME"></script>, NAME being a [sites.NAME] table in the ' +
      'collector\'s config.',
    origin: 'this page\'s origin ' + detail + ' is not among sites.' + site + '.origins, so ' +
      'the collector drops its hits. Add "' + detail + '" to origins in [sites.' + site +
      '] of the collector\'s config.',
    automation: 'this browser is automated (navigator.webdriver) and sites.' + site +
      '.count_automation is false, so the collector drops its hits. Set count_automation = ' +
      'true in [sites.' + site + '] to count test browsers.',
    event: 'the event "' + detail + '" is not declared for site ' + site + ', so it is not ' +
      'sent. Declare it in [sites.' + site + '.events] of the collector\'s config, e.g. ' +
      detail + ' = "ads".'
  };
  var key = code + ' ' + detail;
  if (Object.prototype.hasOwnProperty.call(words, code) && !printed[key]) {
    printed[key] = 1;
    console.warn('consentpixel: ' + words[code]);
  }
})(__PROBLEM__);
