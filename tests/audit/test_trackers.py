"""The known trackers: matching URLs, cookies and storage keys, and a file of one's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from consentpixel.audit import trackers

TRACKER_CASES = [
    # (url, tracker name or None, a beacon?)
    ("https://www.facebook.com/tr?id=1&ev=PageView", "Meta Pixel", True),
    ("https://connect.facebook.net/en_US/fbevents.js", "Meta Pixel", False),
    ("https://region1.google-analytics.com/g/collect?v=2", "Google Analytics", True),
    ("https://www.google-analytics.com/analytics.js", "Google Analytics", False),
    ("https://www.googletagmanager.com/gtag/js?id=G-1", "Google Tag Manager", False),
    ("https://ad.doubleclick.net/activity;src=1", "Google Ads", True),
    ("https://bat.bing.com/action/0?ti=1", "Microsoft Advertising", True),
    ("https://bat.bing.com/bat.js", "Microsoft Advertising", False),
    ("https://stats.shop.example/analytics/matomo.php?idsite=1", "Matomo", True),
    ("https://evilfacebook.com/tr", None, False),
    ("https://facebook.com.evil.example/tr", None, False),
    ("https://www.facebook.com/shop", None, False),
    ("https://shop.example/tr", None, False),
]


# The beacon and a cookie of each tracker the audit must know whatever the page.
COVERED = [
    ("Google Analytics", "https://region1.google-analytics.com/g/collect?v=2&tid=G-1", "_ga_ABC1"),
    ("Google Ads", "https://www.googleadservices.com/pagead/conversion/1/?label=x", "_gcl_au"),
    ("Meta Pixel", "https://www.facebook.com/tr/?id=1&ev=PageView", "_fbp"),
    ("TikTok Pixel", "https://analytics.tiktok.com/api/v2/pixel", "_ttp"),
    ("LinkedIn Insight", "https://px.ads.linkedin.com/collect/?pid=1&fmt=gif", "li_fat_id"),
    ("Microsoft Clarity", "https://k.clarity.ms/collect", "_clck"),
    ("Microsoft Advertising", "https://bat.bing.com/action/0?ti=1&evt=pageLoad", "_uetvid"),
    ("Hotjar", "https://in.hotjar.com/api/v2/client/sites/1/visit-data", "_hjSessionUser_1"),
    ("Pinterest Tag", "https://ct.pinterest.com/v3/?tid=1&event=init", "_pin_unauth"),
    ("Snap Pixel", "https://tr.snapchat.com/p", "_scid"),
    ("X (Twitter) Pixel", "https://t.co/i/adsct?txn_id=1&p_id=Twitter", "_twclid"),
    ("Criteo", "https://sslwidget.criteo.com/event?a=1", "cto_bundle"),
    ("Taboola", "https://trc.taboola.com/1/log/3/unip?en=page_view", "t_gid"),
    ("Outbrain", "https://tr.outbrain.com/unifiedPixel?marketerId=1", "obuid"),
]


@pytest.mark.parametrize("name, url, cookie", COVERED, ids=[c[0] for c in COVERED])
def test_the_common_trackers_are_known_by_beacon_and_cookie(name: str, url: str,
                                                            cookie: str) -> None:
    found = trackers.BUILTIN.match(url)
    assert found is not None and (found.name, found.beacon) == (name, True)
    rule = trackers.BUILTIN.cookie(cookie)
    assert rule is not None and rule.owner == name


@pytest.mark.parametrize("url, name, beacon", TRACKER_CASES,
                         ids=[c[0][8:50] for c in TRACKER_CASES])
def test_tracker_matching(url: str, name: str | None, beacon: bool) -> None:
    found = trackers.BUILTIN.match(url)
    assert (found.name if found else None, found.beacon if found else False) == (name, beacon)
    # The expression that decides what is intercepted agrees with the matcher.
    pattern = trackers.BUILTIN.beacons()
    assert pattern is not None and bool(pattern.search(url)) == beacon


@pytest.mark.parametrize("name, owner", [("_ga", "Google Analytics"),
                                         ("_ga_ABC123", "Google Analytics"),
                                         ("_fbp", "Meta Pixel"), ("_gcl_au", "Google Ads"),
                                         ("cpx", None), ("sessionid", None), ("_gallery", None)])
def test_tracker_cookies(name: str, owner: str | None) -> None:
    rule = trackers.BUILTIN.cookie(name)
    assert (rule.owner if rule else None) == owner


def test_a_trackers_file_adds_to_the_list(tmp_path: Path) -> None:
    file = tmp_path / "trackers.toml"
    file.write_text('[[tracker]]\nname = "Acme"\nhost = "collect.acme.example"\npath = "/hit"\n'
                    'category = "statistics"\n\n[[cookie]]\nname = "_acme*"\n'
                    'category = "statistics"\nowner = "Acme"\n\n[[storage]]\nname = "acme_id"\n')
    known = trackers.load(file)
    acme = known.match("https://eu.collect.acme.example/hit?x=1")
    assert acme == trackers.Tracker("Acme", "collect.acme.example", "/hit", "statistics", True)
    assert known.cookie("_acme_uid") == trackers.NameRule("_acme*", "statistics", "Acme")
    assert known.stored("acme_id") == trackers.NameRule("acme_id", "ads", "")
    assert known.match("https://www.facebook.com/tr").name == "Meta Pixel"  # built-ins stay


@pytest.mark.parametrize("text, message", [
    ('[[tracker]]\nname = "x"\n', "tracker 1: give a host, a path, or both"),
    ('[[tracker]]\nhost = "a.example"\nurl = "x"\n', "tracker 1: unknown key 'url'"),
    ('[[tracker]]\npath = "hit"\n', "tracker 1: path must start with /"),
    ('[[tracker]]\nhost = "a.example"\nbeacon = "yes"\n',
     "tracker 1: beacon must be true or false"),
    ('[[cookie]]\ncategory = "ads"\n', "cookie 1: name is required"),
    ('[[trackers]]\nhost = "a.example"\n', "unknown table 'trackers'"),
    ("[[tracker]\n", "not valid TOML"),
])
def test_trackers_file_mistakes_are_named(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "trackers.toml"
    file.write_text(text)
    with pytest.raises(trackers.TrackersError, match=message.replace("(", r"\(")):
        trackers.load(file)
