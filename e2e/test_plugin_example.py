"""A thank-you page, checked in a real browser with consentpixel's pytest plugin.

Installing consentpixel brings the fixtures (cpx_…); the browser needs Playwright
(pip install '.[audit]' in the consentpixel checkout) and Chromium.
"""

from typing import Callable

from consentpixel.testing import CollectorProcess, PageServer, Visit

THANKS = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Thank you</title>
<script async src="{{collector}}/t.js?site=demo" data-event="purchase"
        data-value="49.90" data-currency="EUR"></script>
</head>
<body><h1>Thank you for your order</h1></body>
</html>
"""


def test_nothing_is_sent_before_a_decision_nor_after_refusal(
        cpx_pages: PageServer, cpx_open: Callable[..., Visit]) -> None:
    visit = cpx_open(cpx_pages.add("thanks.html", THANKS))
    visit.assert_nothing_gated()  # the banner is open: nothing may leave yet
    visit.reject()
    visit.reload()
    visit.assert_nothing_gated()  # refused, and it stays refused
    assert visit.consent() == {"decided": True, "analytics": False, "ads": False}


def test_the_purchase_counts_once_ads_are_allowed(
        cpx_pages: PageServer, cpx_open: Callable[..., Visit],
        cpx_collector: CollectorProcess) -> None:
    visit = cpx_open(cpx_pages.add("thanks.html", THANKS))
    visit.choose("ads")  # conversions, but no page views
    visit.assert_fired("purchase", v="49.90", c="EUR", a="ads")
    visit.assert_nothing_gated("ads")
    cpx_collector.expect_count("purchase", 1)
    assert "pageview" not in cpx_collector.counts()
