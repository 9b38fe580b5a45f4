"""A corpus of realistic personal data, planted where sites leak it, and the search for it.

Values come from Faker in many locales (names, e-mails, phones, addresses, postcodes,
IBANs, cards, national IDs, dates of birth, IP addresses, usernames, licence plates,
tokens), beside values that are not personal (campaign names with dates, product
slugs and numbers, EANs, ISBNs, SKUs, versions). Each is planted in one place of a
hit (a path segment, a utm_* label, an impression label, a click link, a referrer, the
query, the fragment, an order ID, an event name, a click ID) in one encoding, and sent
by fewer than k clients or by k of them. After the run, every planted value and its
obvious fragments are searched for in what the collector kept: the store's bytes, its
log, the API and the CSV export.

Used by tests/test_privacy_corpus.py (a seeded sample, a few seconds) and by
`python -m bench.privacy` (the large run, before and after).
"""

from __future__ import annotations

import base64
import http.client
import json
import random
import re
import sqlite3
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator
from urllib.parse import quote, urlencode, urlsplit

from consentpixel.decoding import decoded

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "pl_PL",
           "sv_SE", "ja_JP", "hi_IN")
DATE_FORMATS = {"en_US": "%m/%d/%Y", "en_GB": "%d/%m/%Y", "de_DE": "%d.%m.%Y",
                "fr_FR": "%d/%m/%Y", "es_ES": "%d/%m/%Y", "it_IT": "%d/%m/%Y",
                "nl_NL": "%d-%m-%Y", "pt_BR": "%d/%m/%Y", "pl_PL": "%d.%m.%Y",
                "sv_SE": "%Y-%m-%d", "ja_JP": "%Y/%m/%d", "hi_IN": "%d-%m-%Y"}

# Kinds the patterns must catch whoever sends them; the others only the crowd catches.
STRICT = ("email", "phone", "card", "iban", "national_id", "ip", "token", "birth_date")
PERSONAL = (*STRICT, "name", "username", "address", "postcode", "plate")
# Kinds none may find whatever the crowd; names and usernames except where the site put them.
TARGETED = (*STRICT, "name", "username")
THINGS = ("dated_campaign", "product_slug", "product_number", "ean", "isbn", "sku", "version",
          "dated_path")

# Where a value is planted; the free-text places are the crowd's.
PLACES = ("path", "utm_source", "utm_medium", "utm_campaign", "utm_content", "impression",
          "click_link", "referrer_host", "referrer_url", "query", "fragment", "order_id",
          "event_name", "click_id")
THING_PLACES = ("path", "utm_campaign", "utm_content", "impression")
ENCODINGS = ("raw", "percent", "double", "plus", "entities", "fullwidth", "base64", "upper",
             "obfuscated")

SITE = "corpus"
TEMPLATE = "/account/:user/*"  # the site's own template: a user name after /account


@dataclass(frozen=True)
class Planting:
    kind: str
    locale: str
    value: str  # as the person wrote it
    place: str
    encoding: str
    clients: int  # how many different clients send it
    site_listed: bool = False  # a campaign the site lists itself ("campaigns")
    templated: bool = False  # under the site's path template
    limit: bool = False  # a name sent by k clients where the site put no template

    @property
    def kind_label(self) -> str:
        return f"{self.kind} (k clients, no template: the limit)" if self.limit else self.kind

    @property
    def personal(self) -> bool:
        return self.kind in PERSONAL

    def encoded(self) -> str:
        return encode(self.value, self.encoding)

    def fragments(self) -> set[str]:
        """The value and its obvious parts, lowercased: none may be found anywhere; for
        base64, the encoded form too (a collector that does not read it keeps it)."""
        found = fragments(self.kind, self.value)
        if self.encoding == "base64":
            found.add(self.encoded().rstrip("=").lower())
        return found

    def stored_form(self) -> str:
        """What the collector should keep of a non-personal value."""
        if self.place == "path":
            return path_for(self.kind, self.value)
        return self.value.lower()


def fragments(kind: str, value: str) -> set[str]:
    text = value.lower()
    found = {text, re.sub(r"[\s.\-/()]", "", text)}
    if kind == "email":
        found.add(text.split("@")[0])
    if kind in ("name", "address", "username"):
        found |= {token for token in re.split(r"[\s,.\-/']+", text) if len(token) >= 5}
    found |= set(re.findall(r"\d{6,}", text))
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 6 and kind != "birth_date":
        found.add(digits)
    return {fragment for fragment in found if len(fragment) >= 4}


def encode(value: str, encoding: str) -> str:
    """value as a page or a client might have written it into a URL parameter."""
    if encoding == "percent":
        return quote(value, safe="")
    if encoding == "double":
        return quote(quote(value, safe=""), safe="")
    if encoding == "plus":
        return value.replace(" ", "+")
    if encoding == "entities":
        return "".join(f"&#{ord(char)};" if not char.isalpha() else char for char in value)
    if encoding == "fullwidth":
        return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char
                       for char in value)
    if encoding == "base64":
        return base64.b64encode(value.encode()).decode()
    if encoding == "upper":
        return value.upper()
    if encoding == "obfuscated":
        return value.replace("@", " (at) ").replace(".", " [dot] ")
    return value


def path_for(kind: str, value: str, templated: bool = False) -> str:
    if templated:
        return f"/account/{value}/settings"
    if kind == "dated_path":
        return f"/events/{value}/tickets"
    if kind in THINGS:
        return f"/products/{value}"
    return f"/members/{value}/settings"


def personal_values(fake: object, locale: str, kind: str, rng: random.Random) -> str:
    """One value of kind from a Faker of locale."""
    f = fake  # a faker.Faker; untyped here so that the module imports without it
    if kind == "name":
        return str(f.name())  # type: ignore[attr-defined]
    if kind == "email":
        return str(f.email())  # type: ignore[attr-defined]
    if kind == "phone":
        return str(f.phone_number())  # type: ignore[attr-defined]
    if kind == "address":
        return " ".join(str(f.street_address()).split())  # type: ignore[attr-defined]
    if kind == "postcode":
        return str(f.postcode())  # type: ignore[attr-defined]
    if kind == "iban":
        return str(f.iban())  # type: ignore[attr-defined]
    if kind == "card":
        return str(f.credit_card_number())  # type: ignore[attr-defined]
    if kind == "national_id":
        return national_id(f, locale, rng)
    if kind == "birth_date":
        born = f.date_of_birth(minimum_age=18, maximum_age=90)  # type: ignore[attr-defined]
        return str(born.strftime(DATE_FORMATS[locale] if rng.random() < 0.7 else "%Y-%m-%d"))
    if kind == "ip":
        return str(f.ipv4() if rng.random() < 0.6 else f.ipv6())  # type: ignore[attr-defined]
    if kind == "username":
        return str(f.user_name())  # type: ignore[attr-defined]
    if kind == "plate":
        return str(f.license_plate())  # type: ignore[attr-defined]
    if kind == "token":
        choice = rng.random()
        if choice < 0.4:
            return str(f.uuid4())  # type: ignore[attr-defined]
        if choice < 0.7:
            return str(f.sha1())[:32]  # type: ignore[attr-defined]
        secret = f.password(length=24, special_chars=False)  # type: ignore[attr-defined]
        return "ya29." + str(secret)
    raise ValueError(kind)


INDIA: list[object] = []  # a Faker("en_IN") for Aadhaar numbers, made once


def national_id(f: object, locale: str, rng: random.Random) -> str:
    extra = {"es_ES": ("nif", "nie"), "pt_BR": ("cpf",), "pl_PL": ("pesel",)}
    names = ("ssn", *extra.get(locale, ()))
    if locale == "hi_IN":
        if not INDIA:
            from faker import Faker

            INDIA.append(Faker("en_IN"))
        f = INDIA[0]
        f.seed_instance(rng.random())  # type: ignore[attr-defined]
        names = ("aadhaar_id", "ssn")
    return str(getattr(f, rng.choice(names))())


def thing_values(kind: str, rng: random.Random, fake: object) -> str:
    f = fake
    year = rng.randint(2019, 2026)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    if kind == "dated_campaign":
        name = rng.choice(["newsletter", "spring-sale", "black-friday", "webinar", "launch"])
        return f"{name}-{year}-{month:02d}-{day:02d}"
    if kind == "dated_path":
        return f"{year}-{month:02d}-{day:02d}"
    if kind == "product_slug":
        return "-".join(str(f.word()) for _ in range(rng.randint(2, 3))).lower() + \
            f"-{rng.choice(['250g', '500ml', 'xl', '2-pack', 'v2'])}"  # type: ignore[attr-defined]
    if kind == "product_number":
        return str(rng.randint(10_000, 99_999_999))
    if kind == "ean":
        return str(f.ean13() if rng.random() < 0.8 else f.ean8())  # type: ignore[attr-defined]
    if kind == "isbn":
        return str(f.isbn13())  # type: ignore[attr-defined]
    if kind == "sku":
        return f"sku-{rng.randint(100, 9999)}-{rng.choice(['xs', 's', 'm', 'l', 'xl'])}"
    if kind == "version":
        return f"v{rng.randint(1, 12)}.{rng.randint(0, 20)}.{rng.randint(0, 40)}"
    raise ValueError(kind)


def build(seed: int = 13, per_cell: int = 1, k: int = 3, locales: Iterable[str] = LOCALES,
          places: Iterable[str] = PLACES, limit: bool = True) -> list[Planting]:
    """Personal values of every kind in every place and locale, each in a rotating
    encoding, half sent by fewer than k clients and half by k; names and usernames by k
    only under the site's template or in its campaign list; and non-personal values."""
    from faker import Faker

    rng = random.Random(seed)
    plantings: list[Planting] = []
    encodings = iter(rotation(ENCODINGS, rng))
    things = Faker("en_US")
    for locale in locales:
        fake = Faker(locale)
        fake.seed_instance(rng.random())
        for kind in PERSONAL:
            for place in places:
                for _ in range(per_cell):
                    value = personal_values(fake, locale, kind, rng)
                    rare = rng.random() < 0.5
                    clients = rng.randint(1, k - 1) if rare and k > 1 else k
                    templated = listed = False
                    if clients >= k and kind in ("name", "username"):
                        # A crowd's name is stored wherever it is sent (see docs/privacy.md);
                        # the targets count names only where the site itself puts them.
                        templated = place == "path"
                        listed = place == "utm_campaign"
                        if not (templated or listed):
                            clients = max(1, k - 1)
                    encoding = "raw" if listed else next(encodings)
                    plantings.append(Planting(kind, locale, value, place, encoding,
                                              clients, listed, templated))
        if limit:
            plantings.append(Planting("name", locale, fake.name(), "utm_campaign", "raw", k,
                                      limit=True))
        things.seed_instance(rng.random())
        for kind in THINGS:
            for place in THING_PLACES if kind != "dated_path" else ("path",):
                for _ in range(per_cell):
                    plantings.append(Planting(kind, locale, thing_values(kind, rng, things),
                                              place, "raw", k))
    return plantings


def rotation(items: tuple[str, ...], rng: random.Random) -> Iterator[str]:
    while True:
        shuffled = list(items)
        rng.shuffle(shuffled)
        yield from shuffled


# -- sending ---------------------------------------------------------------------------

def request(planting: Planting, origin: str) -> tuple[str, dict[str, str]]:
    """(path and query, headers) of the hit that carries the planting."""
    value, place = planting.encoded(), planting.place
    headers = {"Referer": origin + "/", "User-Agent": AGENT}
    params = {"s": SITE, "e": "pageview", "a": "analytics-ads", "p": "/landing"}
    if place == "path":
        params["p"] = path_for(planting.kind, value, planting.templated)
    elif place.startswith("utm_"):
        params.update({"utm_source": "newsletter", "utm_medium": "email",
                       "utm_campaign": "spring", place: value})
    elif place == "impression":
        return "/i.gif?" + urlencode({"s": SITE, "utm_source": "newsletter",
                                      "utm_campaign": value}), headers
    elif place == "click_link":
        return f"/go/{SITE}/{quote(value, safe='')}", headers
    elif place == "referrer_host":
        params["r"] = host_from(value)
    elif place == "referrer_url":
        params["r"] = "https://mail.example.net/inbox?search=" + quote(value, safe="")
    elif place == "query":
        params["p"] = "/landing?email=" + quote(value, safe="")
        params["q"] = value  # a parameter nobody asked for
    elif place == "fragment":
        params["p"] = "/landing#" + value
    elif place == "order_id":
        params.update({"e": "purchase", "v": "10", "c": "EUR", "o": value})
    elif place == "event_name":
        params["e"] = "signup_" + value
    elif place == "click_id":
        params.update({"k": value, "gclid": value})
    return "/p.gif?" + urlencode(params), headers


def host_from(value: str) -> str:
    """A referrer host made of the value, as a blog or a mail host named after someone."""
    label = re.sub(r"[^a-z0-9]+", "", value.lower().split("@")[0])[:40] or "x"
    return f"{label}.example.net"


AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/130.0 Safari/537.36")


class Clients:
    """Keep-alive connections from distinct loopback addresses: 127.0.0.2, .3, …"""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.connections: dict[int, http.client.HTTPConnection] = {}
        self.answered = 0

    def get(self, client: int, target: str, headers: dict[str, str]) -> int:
        for _ in range(2):
            connection = self.connections.get(client)
            if connection is None:
                connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=10, source_address=(f"127.0.0.{client + 2}", 0))
                self.connections[client] = connection
            try:
                connection.request("GET", target, headers=headers)
                response = connection.getresponse()
                response.read()
                self.answered += 1
                return response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                del self.connections[client]
        raise OSError(f"no answer to {target[:60]}")

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()


def send(url: str, plantings: list[Planting], origin: str, rng: random.Random) -> int:
    """Send every planting from its number of clients (drawn from a pool); hits sent."""
    clients = Clients(url)
    try:
        for planting in plantings:
            target, headers = request(planting, origin)
            for client in rng.sample(range(200), planting.clients):
                clients.get(client, target, headers)
    finally:
        clients.close()
    return clients.answered


# -- searching -------------------------------------------------------------------------

@dataclass
class Result:
    planting: Planting
    found: str  # the fragment found and where ("…@store"), or "" when none was


def search(plantings: list[Planting], texts: dict[str, bytes], allowed: Iterable[str],
           k: int) -> list[Result]:
    """Search every source for every personal planting's fragments, and check what was
    kept of the non-personal ones. A fragment that is also part of what may be stored
    (a non-personal value, the site's own labels, the schema, or another planting that
    a crowd may have stored: crowd_texts) is not searched for; a planting's own
    fragments never excuse it."""
    lowered = {name: text.lower() for name, text in texts.items()}
    # What a reader of the store would see: "%2540", "&#64;" and "＠" are all an @.
    lowered.update({f"{name} decoded": decoded(text.decode("utf-8", "replace")).lower()
                    .encode() for name, text in texts.items()})
    allowed_text = "\n".join(allowed).lower()
    crowds = crowd_texts(plantings, k)
    crowd_text = "\n".join(crowds.values())
    results = []
    for planting in plantings:
        if not planting.personal:
            results.append(Result(planting, ""))
            continue
        own = crowds.get(planting, "")
        found = ""
        for fragment in sorted(planting.fragments(), key=len, reverse=True):
            if not planting.limit and (fragment in allowed_text or
                                       crowd_text.count(fragment) > own.count(fragment)):
                continue
            needle = fragment.encode()
            where = next((name for name, text in lowered.items() if needle in text), "")
            if where:
                found = f"{fragment}@{where}"
                break
        results.append(Result(planting, found))
    return results


def crowd_texts(plantings: list[Planting], k: int) -> dict[Planting, str]:
    """The fragments of what a crowd may have stored (addresses, postcodes, plates,
    names sent by k clients), one a line, per planting: a fragment another planting
    shares ("ulica", "contrada") proves nothing about this one."""
    return {planting: "\n".join(sorted(planting.fragments())) for planting in plantings
            if planting.personal and planting.clients >= k and planting.kind not in STRICT}


def altered(results: list[Result], stored: set[str]) -> list[Result]:
    """Non-personal plantings whose value was not kept as written."""
    for result in results:
        if not result.planting.personal:
            expected = result.planting.stored_form()
            result.found = "" if expected.lower() in stored else f"altered: {expected}"
    return [result for result in results if not result.planting.personal]


def expected_leaks(result: Result) -> bool:
    """A found value the targets allow: a name or username the site's own campaign
    list puts in the store."""
    return result.planting.site_listed


def leaks(results: list[Result], k: int) -> dict[str, list[Result]]:
    """Found values against the targets: any sent by fewer than k clients; strict kinds
    sent by k or more; names and usernames sent by k or more outside the site's own
    template and campaign list (the limit plantings show that case on their own).
    Addresses, postcodes and plates a crowd sent are no target: what no pattern catches
    is stored once k clients sent it (docs/privacy.md, Limits), and the tables say how
    often."""
    rare = [r for r in results if r.planting.personal and r.planting.clients < k and r.found]
    crowd = [r for r in results if r.planting.kind in TARGETED and r.planting.clients >= k
             and r.found and not expected_leaks(r) and not r.planting.limit]
    return {"rare": rare, "crowd": crowd}


def share(found: int, total: int) -> str:
    return "—" if not total else f"{found / total:.1%} ({found}/{total})"


def place_of(planting: Planting) -> str:
    return planting.place


def kind_of(planting: Planting) -> str:
    return planting.kind_label


# -- what the collector kept --------------------------------------------------------------

def api_texts(url: str, secret: str) -> bytes:
    """What the API and its CSV export show of the site, every row (min_count is 1)."""
    found = []
    for query in ("report?by=path", "report?by=source,medium,campaign,content", "campaigns",
                  "events?by=event,path,source,campaign"):
        for form in ("json", "csv"):
            sep = "&" if "?" in query else "?"
            request = urllib.request.Request(
                f"{url}/api/v1/sites/{SITE}/{query}{sep}days=2&format={form}",
                headers={"Authorization": f"Bearer {secret}"})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
                found.append(response.read())
    return b"\n".join(found)


# Random or salted values the store keeps (order and session digests, batch IDs, its
# salt): their hex digits would match any short number by chance, so they are blanked.
RANDOM = ("SELECT digest FROM orders", "SELECT id FROM batches", "SELECT value FROM meta",
          "SELECT digest FROM sessions")


def store_bytes(db: str) -> bytes:
    """SQLite: the file and its write-ahead log as they are on disk. PostgreSQL: every
    row of every table, as text. Without the store's random values (RANDOM)."""
    randoms: list[str] = []
    if db.startswith("sqlite:///"):
        path = Path(db[len("sqlite:///"):])
        text = b"".join(part.read_bytes() for part in path.parent.glob(path.name + "*"))
        connection = sqlite3.connect(path)
        for query in RANDOM:
            try:
                randoms += [str(value) for (value,) in connection.execute(query)]
            except sqlite3.OperationalError:  # a store of a version without the table
                pass
        connection.close()
    else:
        import psycopg

        with psycopg.connect(db, autocommit=True) as pg:
            tables = [name for (name,) in pg.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            rows = [repr(row) for table in tables
                    for row in pg.execute(f'SELECT * FROM "{table}"')]  # noqa: S608
            for query in RANDOM:
                if query.rsplit(" ", 1)[1] in tables:
                    randoms += [str(value) for (value,) in pg.execute(query)]
        text = "\n".join(rows).encode()
    for value in sorted(randoms, key=len, reverse=True):
        if len(value) >= 8:
            text = text.replace(value.encode(), b"#")
    return text


def stored_values(db: str) -> set[str]:
    from consentpixel.store import open_store

    store = open_store(db)
    try:
        return {str(row[0]).lower() for group in ("path", "source", "medium", "campaign",
                                                  "content")
                for row in store.totals(SITE, 0, 2**40, [group])}
    finally:
        store.close()


def allowed(plantings: list[Planting], db: str) -> list[str]:
    """Text that may be stored: the non-personal values, the site's own labels, the
    schema (SQLite's file holds its CREATE statements)."""
    schema = []
    if db.startswith("sqlite:///"):
        connection = sqlite3.connect(db[len("sqlite:///"):])
        schema = [sql for (sql,) in connection.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")]
        connection.close()
    things = [planting.stored_form() for planting in plantings if not planting.personal]
    return [*things, *campaign_list(plantings), *schema, "example.net", "newsletter",
            "spring", SITE]


def site_config(db: str, k: int | None, campaigns: Iterable[str] = (), flush: float = 0.2
                ) -> str:
    """The corpus site's TOML; k None for a collector without the crowd rule (which
    has no templates or campaign list either)."""
    lines = ["[collector]", f"db = {json.dumps(db)}", f"flush_interval = {flush}",
             f"[sites.{SITE}]", 'origins = ["http://127.0.0.1:*", "http://localhost:*"]',
             "count_automation = true", "min_count = 1",
             f"[sites.{SITE}.links.spring]", 'url = "http://localhost:8000/"',
             'source = "newsletter"', 'medium = "email"', 'campaign = "spring"']
    if k is not None:
        lines[7:7] = [f"crowd_clients = {k}", f"paths = [{json.dumps(TEMPLATE)}]",
                      f"campaigns = {json.dumps(list(campaigns))}"]
    return "\n".join(lines) + "\n"


def campaign_list(plantings: list[Planting]) -> list[str]:
    """The campaigns the site lists: the names planted as its own campaigns."""
    return sorted({planting.value for planting in plantings if planting.site_listed})


def wait_until(check: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("not reached in time")
        time.sleep(0.05)

