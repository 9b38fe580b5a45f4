"""Turn one request into a cell, or into a reason for not counting it.

Nothing here keeps the request: the client address lives at most one rate-limit window
in memory (as a hash), and one crowd window as a hash under a key that changes with it
(crowd.py); the User-Agent becomes a device class, the referrer a host.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from collections import Counter
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Iterable
from urllib.parse import unquote

from . import privacy, useragent
from .attribution import labels
from .buffer import Buffer, Cell, ConsentKey
from .cache import BoundedCache
from .config import Config, Link, Site
from .crowd import Crowd
from .currencies import MINOR_UNITS
from .drops import Drops
from .proxies import client_key

log = logging.getLogger("consentpixel")

MAX_QUERY = 4096
MAX_FIELDS = 32
MAX_VALUE = Decimal(10_000_000)
VALUE = re.compile(r"^\d{1,12}(?:\.\d{1,6})?$", re.A)
EVENT = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

# Longer keys than these are judged every time, never remembered: real User-Agents
# are under 300 characters, origins ("scheme://host:port") shorter still.
MAX_AGENT = useragent.MAX_LENGTH
MAX_ORIGIN = 300

REASONS = ("malformed", "site", "origin", "automation", "rate_limit", "event", "consent",
           "gpc", "value", "currency", "buffer_full", "method", "error")


class Drop(Exception):
    """A hit that is answered but not counted; the reason is a metrics label, and with
    the site and a detail (drops.py bounds it) what the owner is shown."""

    def __init__(self, reason: str, site: str = "", detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.site = site
        self.detail = detail


def parse_query(raw: bytes) -> dict[str, str]:
    """Query parameters, first occurrence wins; undecodable bytes become U+FFFD."""
    if len(raw) > MAX_QUERY:
        raise Drop("malformed")
    parts = raw.decode("latin-1").split("&")
    if len(parts) > MAX_FIELDS:
        raise Drop("malformed")
    params: dict[str, str] = {}
    for part in parts:
        name, _, value = part.partition("=")
        if name not in params and name:
            if "%" in value or "+" in value:  # as unquote_plus, which others return as is
                value = unquote(value.replace("+", " "), errors="replace")
            params[name] = value
    return params


def header_values(headers: Iterable[tuple[bytes, bytes]]) -> tuple[str, str, bool]:
    """Referer, User-Agent and Sec-GPC: the only headers a hit is judged by."""
    referer = agent = ""
    gpc = False
    for name, value in headers:
        if name == b"referer":
            referer = value.decode("latin-1")
        elif name == b"user-agent":
            agent = value.decode("latin-1")
        elif name == b"sec-gpc":
            gpc = value.strip() == b"1"
    return referer, agent, gpc


def hour(now: float) -> int:
    return int(now) // 3600 * 3600


def parse_minor_units(raw: str, currency: str) -> int:
    if not VALUE.match(raw):
        raise Drop("value")
    value = Decimal(raw)
    if value > MAX_VALUE:
        raise Drop("value")
    exponent = Decimal(1).scaleb(-MINOR_UNITS[currency])
    return int(value.quantize(exponent, rounding=ROUND_HALF_EVEN).scaleb(MINOR_UNITS[currency]))


class RateLimiter:
    """Hits per minute per client; addresses are hashed and forgotten every minute.

    A client is an IPv4 address or an IPv6 /64 (what one subscriber gets, so rotating
    through it is still one client). At most max_clients are tracked in a minute: past
    that (a flood from countless addresses) newcomers are let through uncounted until
    the minute turns, and the log says so, since refusing them would turn the flood
    into a lock-out of every real visitor.
    """

    def __init__(self, max_clients: int = 100_000) -> None:
        self.max_clients = max_clients
        self.window = 0
        self.counts: Counter[int] = Counter()
        self.overflow = 0  # newcomers let through this minute, past max_clients

    def allow(self, client: str, site: str, limit: int, now: float) -> bool:
        window = int(now) // 60
        if window != self.window:
            self.window, self.counts, self.overflow = window, Counter(), 0
        key = hash((client_key(client), site))
        if key not in self.counts and len(self.counts) >= self.max_clients:
            if not self.overflow:
                log.warning("rate limit: more than %d clients this minute; newcomers are not "
                            "limited until it turns (rate_limit_clients)", self.max_clients)
            self.overflow += 1
            return True
        self.counts[key] += 1
        return self.counts[key] <= limit


class Verdicts:
    """What recent queries decided, so that a page's next visitors cost less.

    The tag makes every URL unique with a counter (z) that the collector ignores;
    without it, hits from one page, landing and kind of browser are the same query. A
    verdict is remembered by a keyed digest of query, Referer, device and Sec-GPC, so
    that no raw input outlives its request here; only accepted hits are remembered, and
    each only for the hour its cell belongs to. Bounded: the memory is emptied when full.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.secret = secrets.token_bytes(16)
        self.known: BoundedCache[bytes, tuple[int, Site, Cell, int]] = BoundedCache(size, 16)

    def key(self, query: bytes, referer: str, device: tuple[str, bool], gpc: bool) -> bytes:
        counter = query.rfind(b"&z=")
        if counter >= 0 and query[counter + 3:].isdigit():
            query = query[:counter + 3]
        # Headers cannot hold NUL, so the parts cannot run into each other.
        text = b"\x00".join((query, referer.encode("latin-1"), device[0].encode(),
                             b"%d%d" % (device[1], gpc)))
        return hashlib.blake2b(text, digest_size=16, key=self.secret).digest()

    def get(self, key: bytes, period: int) -> tuple[Site, Cell, int] | None:
        known = self.known.get(key)
        if known is None or known[0] != period:
            return None
        return known[1], known[2], known[3]

    def remember(self, key: bytes, site: Site, cell: Cell, value: int) -> None:
        self.known.remember(key, (cell.period, site, cell, value))


class Ingest:
    """The collector's front doors, one per endpoint, and what they counted.

    Each door counts its hit or raises Drop with the reason it was not counted (the
    click door, whose visitor is sent on whatever happens, counts the drop itself).
    """

    def __init__(self, config: Config, buffer: Buffer, salt: bytes = b"") -> None:
        self.config = config
        self.sites = config.sites
        self.buffer = buffer
        self.salt = salt
        self.accepted = 0
        self.decisions = 0
        self.dropped: Counter[str] = Counter({reason: 0 for reason in REASONS})
        self.limiter = RateLimiter(config.rate_limit_clients)
        # Remembered per User-Agent: what it says about the device and about automation.
        self.devices: BoundedCache[str, tuple[str, bool]] = BoundedCache(4096, MAX_AGENT)
        self.verdicts = Verdicts()
        self.crowd = Crowd(config, buffer)
        # (site, origin) -> allowed; an origin is not personal, and pages send few.
        self.origins: BoundedCache[tuple[str, str], bool] = BoundedCache(4096, MAX_ORIGIN)
        self.drops = Drops(config)

    def drop(self, reason: str, site: str = "", detail: str = "") -> None:
        """Count a hit that was not counted: for /metrics, and per site, day and reason
        for the store (written with the cells) and the log."""
        self.dropped[reason] += 1
        now = time.time()
        key = self.drops.key(reason, site, detail, now)
        self.buffer.add_drop(key)
        self.drops.log(key, now)

    def pixel(self, query: bytes, headers: Iterable[tuple[bytes, bytes]],
              client: str = "", now: float | None = None) -> None:
        """Count a conversion or page view from /p.gif, or raise Drop saying why not.

        What a query like it decided is remembered; only the rate limit, which depends
        on who sends the hit, is checked again.
        """
        if len(query) > MAX_QUERY:  # before the key, which ignores the counter's length
            raise Drop("malformed")
        now = time.time() if now is None else now
        referer, agent, gpc = header_values(headers)
        key = self.verdicts.key(query, referer, self.device(agent), gpc)
        known = self.verdicts.get(key, hour(now))
        if known is not None:
            site, cell, value = known
            if site.rate_limit and not self.limiter.allow(client, site.name, site.rate_limit,
                                                          now):
                raise Drop("rate_limit", site.name)
            self.count(site, cell, value, None, client, now)
            return
        params = parse_query(query)
        site, cell, value = self.judge(params, referer, agent, gpc, client, now)
        order = params.get("o")
        # Orders, and paths that held an ID (now a placeholder), rarely come twice.
        if not order and ":" not in cell.path:
            self.verdicts.remember(key, site, cell, value)
        self.count(site, cell, value, order, client, now)

    def impression(self, query: bytes, headers: Iterable[tuple[bytes, bytes]],
                   client: str = "", now: float | None = None) -> None:
        """Count an ad or e-mail impression from /i.gif, labelled with utm_* parameters.

        It sets no cookie and carries no identifier, so it needs no consent; it has
        no origin check either, since e-mails and ads on other sites send no Referer.
        """
        params = parse_query(query)
        now = time.time() if now is None else now
        _, agent, _ = header_values(headers)
        site = self.sites.get(params.get("s", ""))
        if site is None:
            raise Drop("site", "", params.get("s", ""))
        self.check_client(site, params, agent, client, now)
        source, medium, campaign, content = labels(params)
        if not campaign:
            raise Drop("malformed", site.name)
        cell = Cell(site=site.name, period=hour(now), event="impression", source=source,
                    medium=medium, campaign=campaign, content=content,
                    device=self.device(agent)[0])
        self.count(site, cell, 0, None, client, now)

    def consent(self, query: bytes, headers: Iterable[tuple[bytes, bytes]],
                client: str = "", now: float | None = None) -> None:
        """Count one decision from /c.gif: per site, day, category and choice."""
        params = parse_query(query)
        now = time.time() if now is None else now
        referer, agent, _ = header_values(headers)
        site = self.admit(params, referer, agent, client, now)
        day = int(now) // 86400 * 86400
        for key, choice in (("y", "granted"), ("n", "refused")):
            for category in params.get(key, "").split("-"):
                if category in site.categories:
                    self.buffer.add_consent(ConsentKey(site.name, day, category, choice))
        self.decisions += 1

    def click(self, site: Site, link: Link, headers: Iterable[tuple[bytes, bytes]],
              client: str = "", now: float | None = None) -> None:
        """Count a visit through one of a site's click links, or count why not."""
        now = time.time() if now is None else now
        try:
            _, agent, _ = header_values(headers)
            self.check_client(site, {}, agent, client, now)
            # Labels cleaned as the tag's are, so clicks and conversions meet in one row.
            cell = Cell(site=site.name, period=hour(now), event="click",
                        source=privacy.clean_label(link.source) or "(not set)",
                        medium=privacy.clean_label(link.medium) or "(not set)",
                        campaign=privacy.clean_label(link.campaign),
                        content=privacy.clean_label(link.content),
                        device=self.device(agent)[0])
            self.count(site, cell, 0, None, client, now)
        except Drop as drop:
            self.drop(drop.reason, drop.site, drop.detail)

    def judge(self, params: dict[str, str], referer: str, agent: str, gpc: bool, client: str,
              now: float) -> tuple[Site, Cell, int]:
        """The site, cell and value a hit counts for, or a Drop saying why it does not."""
        site = self.admit(params, referer, agent, client, now)
        event = params.get("e", "")
        category = site.events.get(event) if EVENT.match(event) else None
        if category is None:
            detail = self.crowd.detail(site, event, client_key(client), now)
            raise Drop("event", site.name, detail)
        if not self.consented(site, event, category, params.get("a")):
            raise Drop("consent", site.name, event)
        if gpc and category in site.gpc_categories and params.get("x") != "1":
            raise Drop("gpc", site.name, event)
        currency, value = self.parse_value(site, params)
        device = self.device(agent)[0]
        source, medium, campaign, content = labels(params)
        cell = Cell(site=site.name, period=hour(now), event=event,
                    path=privacy.clean_site_path(params.get("p"), site.paths),
                    source=source, medium=medium,
                    campaign=campaign, content=content, device=device, currency=currency)
        return site, cell, value

    def count(self, site: Site, cell: Cell, value: int, order: str | None, client: str,
              now: float) -> None:
        """Count a judged hit under the crowd rule (crowd.py): free text that too few
        clients sent is counted under a placeholder until enough do."""
        # One client as the rate limit counts one: an IPv6 address's /64 is one household's.
        counted, missing = self.crowd.apply(site, cell, client_key(client), now)
        # A repeat of an order is told by its labels as judged, not as counted: its
        # campaign may have reached its crowd between the first sighting and the repeat.
        self.add(site, counted, value, order, judged=cell)
        if missing and not order:
            self.crowd.remember(site, cell, self.buffer.counted_as(counted), value, missing)

    def add(self, site: Site, cell: Cell, value: int, order: str | None,
            judged: Cell | None = None) -> None:
        """Count a judged hit in the buffer: the one place a hit becomes accepted."""
        if order:
            digest = self.digest(site.name, order, judged or cell, value)
            added = self.buffer.add_order(site.name, digest, cell, value)
        else:
            added = self.buffer.add(cell, value)
        if not added:
            raise Drop("buffer_full", site.name)
        self.accepted += 1

    def admit(self, params: dict[str, str], referer: str, agent: str, client: str,
              now: float) -> Site:
        """The site a hit is for, once its origin, automation and rate are in order."""
        site = self.sites.get(params.get("s", ""))
        if site is None:
            raise Drop("site", "", params.get("s", ""))
        origin = origin_of(referer)
        if not self.allows_origin(site, origin):
            detail = self.crowd.detail(site, origin, client_key(client), now)
            raise Drop("origin", site.name, detail)
        self.check_client(site, params, agent, client, now)
        return site

    def check_client(self, site: Site, params: dict[str, str], agent: str, client: str,
                     now: float) -> None:
        if not site.count_automation and (params.get("w") == "1" or self.device(agent)[1]):
            raise Drop("automation", site.name)
        if site.rate_limit and not self.limiter.allow(client, site.name, site.rate_limit, now):
            raise Drop("rate_limit", site.name)

    def allows_origin(self, site: Site, origin: str) -> bool:
        """Site.allows_origin, remembered."""
        key = (site.name, origin)
        allowed = self.origins.get(key)
        if allowed is None:
            allowed = self.origins.remember(key, site.allows_origin(origin))
        return allowed

    def consented(self, site: Site, event: str, category: str, granted: str | None) -> bool:
        if category == "necessary":
            return True
        if granted is None:  # no tag, no consent: a <noscript> pixel
            return event in site.exempt_events
        return category in granted.split("-")

    def parse_value(self, site: Site, params: dict[str, str]) -> tuple[str, int]:
        raw_value, code = params.get("v", ""), params.get("c", "").upper()
        if not raw_value and not code:
            return "", 0
        currency = code or site.currency
        if currency not in MINOR_UNITS:
            raise Drop("currency", site.name, currency)
        try:
            return currency, parse_minor_units(raw_value, currency) if raw_value else 0
        except Drop:
            raise Drop("value", site.name) from None

    def device(self, agent: str) -> tuple[str, bool]:
        """The device class of a User-Agent, and whether it is automated; remembered."""
        known = self.devices.get(agent)
        if known is None:
            known = self.devices.remember(agent, (useragent.device(agent),
                                                  useragent.automated(agent)))
        return known

    def digest(self, site: str, order: str, cell: Cell, value: int) -> str:
        """What makes a conversion a repeat: its order ID, and what it says and credits.

        Order IDs are often predictable (1001, 1002, …): anyone may send them first. A
        first sighting therefore only suppresses a conversion just like it, with the same
        event, value, currency and campaign labels; the real purchase, worth more or
        credited elsewhere, still counts, and a repeat never moves value or credit.
        """
        parts = (site, order[:200], cell.event, str(value), cell.currency, cell.source,
                 cell.medium, cell.campaign, cell.content)
        message = "\x00".join(parts).encode("utf-8", "replace")
        return hmac.new(self.salt, message, hashlib.sha256).hexdigest()[:32]


def origin_of(referer: str) -> str:
    # Only "scheme://host:port" goes further (see privacy.authority on urlsplit's cache).
    scheme, found, _ = referer.partition("://")
    return f"{scheme}://{privacy.authority(referer)}" if found else ""
