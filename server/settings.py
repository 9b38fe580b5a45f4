"""Every setting consentpixel reads, in one table: name, default and help.

The config loader validates against these tables, `consentpixel init` writes its
starter file from them, and a test checks that docs/configuration.md documents each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()


COLLECTOR = (
    Setting("db", "sqlite:///consentpixel.db",
            "Database URL: sqlite:///path/to.db or postgresql://user@host/dbname."),
    Setting("admin_secret", "",
            "Secret for the dashboard, the API and /metrics, at least 16 characters. "
            "CONSENTPIXEL_ADMIN_SECRET overrides it; when both are empty, serve generates one "
            "and keeps it in admin_secret_file."),
    Setting("flush_interval", 1.0,
            "Seconds between writes of the in-memory aggregates to the store."),
    Setting("max_cells_per_hour", 5000,
            "Distinct cells one site may add per hour; more fold into an '(other)' cell."),
    Setting("max_buffer_cells", 200000,
            "Cells held in memory while the store is unreachable; further hits are "
            "counted as dropped (buffer_full)."),
    Setting("admin_secret_file", "",
            "Where the generated admin secret is kept (mode 0600) when no secret is set: "
            "default beside a SQLite store (shop.db -> shop.secret), else beside this file. "
            "`consentpixel secret rotate` replaces it."),
    Setting("admin_max_failures", 10,
            "Failed admin attempts (a wrong secret at sign-in or as a bearer token) one "
            "client may make per minute; further attempts are answered 429 with Retry-After. "
            "Counted per client and process, never blocking the right secret elsewhere."),
    Setting("session_hours", 12,
            "Hours a dashboard sign-in lasts, however active; signing out or rotating the "
            "secret ends it sooner."),
    Setting("max_orders_per_hour", 5000,
            "Order IDs one site may register per hour for de-duplication; conversions "
            "beyond are still counted, without their order ID, so a repeat of one of "
            "them counts again."),
    Setting("rate_limit_clients", 100000,
            "Clients the rate limit tracks in a minute (about 100 bytes each); past it, "
            "newcomers are let through unlimited until the minute turns, and the log "
            "says so."),
    Setting("max_connections", 4096,
            "Open connections one collector process keeps; the next is answered 503 at "
            "once. serve raises its file-descriptor limit to fit, or lowers this with a "
            "warning when the hard limit is too low (docs/deploy.md)."),
    Setting("forwarded_allow_ips", [],
            "Proxies whose forwarded_header is believed for the client address, as "
            "addresses or networks, e.g. [\"127.0.0.1\"] behind nginx on the same host; "
            "\"*\" takes any peer for one (only the hop it adds is believed). Empty: the "
            "client is the socket peer."),
    Setting("forwarded_header", "x-forwarded-for",
            "The header those proxies name the client in: x-forwarded-for, or forwarded "
            "(RFC 7239); the other one is ignored.", ("x-forwarded-for", "forwarded")),
    Setting("public_url", "",
            "The collector's URL as visitors reach it, e.g. https://collect.example; "
            "redirects, links and the tag snippet are built from it, not from the "
            "request's Host header."),
)

SITE = (
    Setting("origins", [],
            "Page origins allowed to send hits, e.g. \"https://shop.example\"; "
            "\"https://*.shop.example\" matches subdomains, \"http://localhost:*\" any port."),
    Setting("mode", "opt-in",
            "opt-in: nothing gated is sent before the visitor allows it (GDPR). "
            "opt-out: allowed until refused (CCPA/CPRA).", ("opt-in", "opt-out")),
    Setting("policy_version", 1,
            "Raise it when the privacy policy changes: every visitor is asked again."),
    Setting("consent_days", 182,
            "Days a decision is kept before the banner asks again."),
    Setting("count_automation", False,
            "Count hits from automated browsers and crawlers (navigator.webdriver, "
            "HeadlessChrome, the crawler-user-agents list)."),
    Setting("currency", "EUR",
            "ISO 4217 currency of conversion values that name none."),
    Setting("lookback_days", 30,
            "Days a campaign touch is credited with a later conversion."),
    Setting("min_count", 3,
            "Report rows counting fewer than this merge into one 'other' row."),
    Setting("hourly_days", 35,
            "Days hourly cells are kept before they are rolled up into daily cells."),
    Setting("retention_days", 760,
            "Days daily cells are kept; older ones are deleted."),
    Setting("rate_limit", 0,
            "Hits per minute accepted from one client address; 0 means no limit. "
            "The address is kept in memory for one minute at most, never stored."),
    Setting("gpc_categories", ["ads"],
            "Categories that a Global Privacy Control signal refuses."),
    Setting("events", {},
            "Event name to consent category, added to the standard events; custom "
            "events must be declared here, e.g. webinar = \"ads\"."),
    Setting("exempt_events", [],
            "Events a <noscript> pixel may count without consent (aggregate measurement "
            "only; off by default)."),
    Setting("languages", ["en", "de", "fr", "es"],
            "Banner languages, the first one being the fallback; en, de, fr and es have "
            "built-in texts, others need [sites.NAME.text.LANG]."),
    Setting("banner", "bar",
            "The banner's layout: bar (bottom, full width) and box (a corner card) leave the "
            "page usable; modal blocks it until the visitor chooses.", ("bar", "box", "modal")),
    Setting("consent_tallies", True,
            "Count each decision per day, category and choice (/c.gif: the site and the "
            "granted and refused categories, nothing else)."),
    Setting("crowd_clients", 3,
            "Different clients that must send a free-text value (path segment, campaign "
            "label, referrer host) within crowd_hours before it is stored; until then it "
            "is counted as :rare or (rare). 1 turns the rule off."),
    Setting("crowd_hours", 24,
            "The crowd rule's window: values gather their clients afresh in each one."),
    Setting("paths", [],
            "Path templates applied before any other rule, e.g. \"/account/:user/*\": "
            "the named segment is stored as :user, * keeps the rest for the rules."),
    Setting("campaigns", [],
            "Campaign labels (utm_source, utm_medium, utm_campaign, utm_content) known in "
            "advance: stored from the first hit, whatever the crowd."),
)

CATEGORY = (
    Setting("label", "", "Name shown on the category's switch, a string or a table per language."),
    Setting("description", "", "One sentence under the switch, a string or a table per language."),
    Setting("cookies", [],
            "Cookies deleted when the category is withdrawn: names, or prefixes ending in *."),
    Setting("consent_mode", [],
            "Google Consent Mode v2 types granted with the category, e.g. \"ad_storage\"."),
)

LINK = (
    Setting("url", "", "Destination of the click link, on one of the site's origins."),
    Setting("source", "", "utm_source added to the destination."),
    Setting("medium", "", "utm_medium added to the destination."),
    Setting("campaign", "", "utm_campaign added to the destination."),
    Setting("content", "", "utm_content (creative) added to the destination."),
)

TEXT = (
    Setting("title", "", "Banner heading."),
    Setting("body", "", "Banner text: what is measured and why."),
    Setting("accept", "", "The accept-all button (built in for en, de, fr, es)."),
    Setting("reject", "", "The reject-all button."),
    Setting("prefs", "", "The button that opens the preferences."),
    Setting("save", "", "The button that saves the preferences."),
    Setting("necessary", "", "The label of the always-on category."),
    Setting("allow", "", "The button on a held embed's placeholder."),
    Setting("gpc", "", "What the banner says under Global Privacy Control; {cats} names the "
                       "categories the signal refuses."),
)

# The banner's look, as CSS custom properties in the site's stylesheet; dark_… apply
# when the visitor's system prefers a dark color scheme.
THEME = (
    Setting("background", "#ffffff", "Background of the banner and placeholders."),
    Setting("text", "#1a1a1a", "Text color."),
    Setting("accent", "#1a1a1a", "Buttons and switched-on switches."),
    Setting("accent_text", "#ffffff", "Text on the accent color."),
    Setting("focus", "#0b57d0", "Focus ring and the Global Privacy Control note."),
    Setting("dark_background", "#1f1f1f", "Background in dark mode."),
    Setting("dark_text", "#f2f2f2", "Text color in dark mode."),
    Setting("dark_accent", "#f2f2f2", "Accent in dark mode."),
    Setting("dark_accent_text", "#1a1a1a", "Text on the accent in dark mode."),
    Setting("dark_focus", "#8ab4f8", "Focus ring in dark mode."),
    Setting("radius", "12px", "Corner radius of the box and the modal."),
    Setting("button_radius", "8px", "Corner radius of the buttons."),
    Setting("font", "system-ui, sans-serif", "Font family."),
)

STANDARD_EVENTS = {
    "pageview": "analytics",
    "purchase": "ads",
    "signup": "ads",
    "lead": "ads",
    "download": "ads",
    "add_to_cart": "ads",
    "begin_checkout": "ads",
    "subscribe": "ads",
    "contact": "ads",
}

ALL = {
    "collector": COLLECTOR,
    "sites.NAME": SITE,
    "sites.NAME.categories.NAME": CATEGORY,
    "sites.NAME.links.ID": LINK,
    "sites.NAME.text.LANG": TEXT,
    "sites.NAME.theme": THEME,
}
