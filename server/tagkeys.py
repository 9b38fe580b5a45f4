"""The names of a site's settings as the tag reads them, and the short keys they travel as.

static/t.js and static/b.js are written with the readable names (`settings.policyVersion`);
the collector's build (minify.py) turns every property read on a variable named
`settings` or `…Settings` into its short key, tag.py
writes the settings under the short keys, and the audit reads them back through this
table. Here, and only here, is the mapping.
"""

from __future__ import annotations

SETTINGS = {
    "site": "s",                  # the site's name
    "policyVersion": "v",         # a decision under another version asks again
    "mode": "m",                  # opt-in or opt-out
    "consentDays": "d",           # days a decision holds
    "lookbackDays": "l",          # days a campaign touch is credited
    "attributionCategory": "a",   # the category that keeps the campaign touch
    "events": "e",                # event name → category
    "categories": "c",            # the site's categories, in order
    "gpcCategories": "gp",        # categories Global Privacy Control refuses
    "cookies": "k",               # category → cookie names or prefixes* to delete
    "rules": "r",                 # [placeholder, pattern] (privacy.TAG_RULES)
    "countsAutomation": "w",      # whether automated browsers are counted
    "tallies": "y",               # send the decision tally (/c.gif)
    "layout": "b",                # bar, box or modal
    "texts": "t",                 # the banner's texts in one language, or null
}

# The properties t.js and b.js hand each other (the core, the module, a decision): only
# our two files use them, so the build shortens them everywhere in both. None may be
# the name of a property of the browser's own objects that the tag uses.
SHARED = {
    "settings": "s",
    "isGranted": "g",
    "state": "t",
    "applyDecision": "a",
    "waiting": "w",
    "send": "n",
    "pixel": "p",
    "own": "h",
    "attempt": "e",
    "scrub": "r",
    "parameter": "m",
    "pageView": "l",
    "keep": "k",
    "parameters": "v",
    "warn": "z",
    "showBanner": "b",
    "showPreferences": "o",
    "choose": "c",
    "granted": "y",
    "underGpc": "x",
    "held": "d",
    "load": "q",
    "base": "u",
}


def holds_settings(variable: str) -> bool:
    """Whether the JS source names a settings object so: `settings`, `receivedSettings`."""
    return variable == "settings" or variable.endswith("Settings")


def short(name: str) -> str:
    """The key a readable settings name travels as."""
    return SETTINGS[name]
