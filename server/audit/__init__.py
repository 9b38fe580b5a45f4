"""`consentpixel audit`: what a page does before and after each consent choice.

The audit opens a page in headless Chromium, once per scenario and each time with a
fresh profile (no decision; reject all; accept all; each category alone; Global Privacy
Control on), records everything the page sends and stores, and judges it. A page with
the consentpixel tag is driven through the tag's own markup and settings; any other
page through its consent manager's banner, found by the accessible names of its
controls, or the manager's JavaScript API.

- `model.py`    what was seen: requests, cookies, storage, steps, scenarios, checks
- `trackers.py` the known third-party beacons and cookies, extendable from a TOML file
- `pii.py`      personal data in URLs and bodies, found and masked
- `traffic.py`  a request's kind (the tag's, a tracker's, first or third party) and
                the tag's pixels decoded
- `chromium.py` Playwright (imported there only, when a browser starts), Chromium, and
                their errors for people
- `probe.js`    what runs inside the page (`probe.py` hands it to Playwright): reading it,
                finding a banner's controls, recognising consent managers
- `controls.py` the words of a banner's controls (reject, accept…) in many languages
- `recorder.py` every request of a browser context; pixels and beacons answered
- `session.py`  one visitor with a fresh profile: open, decide, read each step
- `scheduler.py` many visitors side by side: each waits as a generator of `Wait`s
- `browser.py`  the audit's run: each URL through its scenarios
- `checks.py`   the named checks, pure functions of what was seen
- `report.py`   the terminal summary, JSON and the HTML report

Only `chromium.playwright()` imports Playwright, when a browser starts, so every module
(and the pytest plugin) can be imported without it.
"""
