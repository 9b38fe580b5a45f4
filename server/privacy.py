"""The privacy rules: what of a hit may reach the store.

The tag applies TAG_RULES before a hit leaves the browser (static/t.js, `scrub`); the
collector decodes what it receives and applies stricter rules again, because it never
trusts the client. Values that look personal are replaced by placeholders, which also
keeps cardinality low. What no rule can see (a name, a username) is left to the crowd
rule (crowd.py): free text is stored only once enough different clients sent it.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from typing import Callable

from .cache import BoundedCache
from .decoding import base64_texts, decoded, still_encoded
from .identifiers import IBAN, luhn, number_kind, valid_iban

__all__ = ["IBAN", "luhn", "valid_iban"]  # the audit reads personal data with them too

MAX_PATH = 200
MAX_SEGMENTS = 16
MAX_SEGMENT = 64
MAX_LABEL = 64
MAX_HOST = 100

# The cleaning functions are pure and see the same few paths and labels over and over,
# so their results are remembered: at most CACHED inputs of up to CACHEABLE characters
# per function, and only inputs the rules left as they were (give or take case and a
# leading www.), so that no cache holds anything the rules took out.
CACHED = 4096
CACHEABLE = 256

# ":rare" and "(rare)" stand for free text too few clients sent (crowd.py).
RARE_SEGMENT = ":rare"
RARE_LABEL = "(rare)"
PLACEHOLDERS = frozenset({":email", ":ip", ":uuid", ":card", ":iban", ":phone", ":id",
                          ":token", ":address", ":url", ":date", RARE_SEGMENT, RARE_LABEL})

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")

# The rules the tag applies before a hit leaves the browser, sent to it with the site's
# settings. In order, the first match names the placeholder. Each pattern is read the
# same way by Python's re (with re.ASCII | re.IGNORECASE) and by JavaScript's RegExp
# (flag "i"). Nine digits or more, whatever separates them: "+49 30 123456" and
# "5500-0000-0000-0004" are one long run of digits. A date ("2026-03-24") or a product
# number of eight digits is for the collector to judge, which checks what the tag cannot.
SEPARATORS = r"[\s().+/-]"
TAG_RULES: tuple[tuple[str, str], ...] = (
    (":email", r"@|%40|\uff20|\(at\)|\[at\]|&#0*64;|&commat;"),
    (":ip", r"\d+\.\d+\.\d+\.\d+|[0-9a-f]*:[0-9a-f]*:[0-9a-f]*:"),
    (":uuid", r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"),
    (":id", rf"\d({SEPARATORS}*\d){{8}}"),
    (":token", r"[a-z0-9]{24}|(?=[a-z0-9]*\d)[a-z0-9]{16}"),
)
FLAGS = re.ASCII | re.IGNORECASE
FLAT = re.compile(SEPARATORS)

# The collector looks closer than the tag can afford to: it decodes what it reads,
# tells the numbers that name a person (cards, IBANs, phones, national IDs, dates of
# birth) from those that name a thing (product numbers, EANs, ISBNs, a campaign's
# date), reads base64 that decodes to text, and catches postal addresses.
STRICT = (
    (":email", re.compile(r"@", FLAGS)),
    (":ip", re.compile(r"\d+\.\d+\.\d+\.\d+|[0-9a-f]*:[0-9a-f]*:[0-9a-f]*:", FLAGS)),
    (":uuid", re.compile(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", FLAGS)),
)
TOKEN = re.compile(r"[a-z0-9]{24}|(?=[a-z0-9]*\d)[a-z0-9]{16}", FLAGS)
DIGIT = re.compile(r"\d", re.A)
STREET_WORDS = (r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|place|"
                r"court|ct|square|sq|terrace|crescent|close|rue|chemin|allée|calle|avenida|"
                r"plaza|via|viale|piazza|straße|strasse|str|weg|platz|gasse|allee|ring|damm")
ADDRESS = (
    re.compile(rf"\b\d{{1,5}}[a-z]?[\s,_-]+(?:[^\W\d]+[\s_-]+){{0,3}}(?:{STREET_WORDS})\b", re.I),
    re.compile(r"\b[^\W\d]+(?:straße|strasse|str\.|weg|platz|gasse|allee)[\s,_-]*\d{1,4}[a-z]?\b",
               re.I),
)
# Written with spaces, a street's name and a house number, in the languages of the
# sites we know: "Via Elisa, 991", "ulica Leśna 74/39", "Skolvägen 669", "Lolahof 7".
# Only with spaces: a slug ("drive-safe-2-pack") is a product, not an address.
STREET_TYPES = frozenset((
    "street st road rd avenue ave lane ln drive dr boulevard blvd way place court ct square "
    "sq terrace crescent close park parkway loop row mews hill grove gardens trail highway "
    "hwy apt suite flat rue chemin allée impasse quai calle callejón avenida camino paseo "
    "plaza ronda cuesta urbanización carrera pasaje rambla pasadizo acceso glorieta travesía "
    "vía via viale piazza contrada corso vicolo strada rotonda stretto borgo largo canale "
    "incrocio appartamento rua travessa viela praça alameda estrada rodovia vila ulica ul "
    "al aleja plac pl osiedle os").split())
STREET_SUFFIX = re.compile(r"(?:straße|strasse|straat|gatan|vägen|väg|gränd|stigen|torget|"
                           r"laan|hof|singel|plein|gracht|kade|dijk|steeg|baan|dreef|pad|"
                           r"boulevard|weg|ring|allee|gasse|platz|damm)$")
HOUSE_NUMBER = re.compile(r"^\d{1,5}[a-z]?(?:[/-]\d{1,4}[a-z]?)?,?$")
POSTCODE = re.compile(r"\b[a-z]{1,2}\d[a-z\d]?\s+\d[a-z]{2}\b", re.I)
URL = re.compile(r"[a-z][a-z0-9+.-]*://|^www\.", re.I)
IPV4 = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


def classify(text: str, depth: int = 0) -> str | None:
    """The placeholder for text that looks personal, or None when it may be kept.

    text is judged as given (decode it first); base64 runs in it are judged by what
    they decode to, which is why a label is judged before it is lowercased.
    """
    if not text or plain_word(text):
        return None
    if still_encoded(text):
        return ":token"
    iban = IBAN.search(FLAT.sub("", text))
    if iban and valid_iban(iban.group()):
        return ":iban"
    for name, pattern in STRICT:
        if pattern.search(text):
            return name
    if DIGIT.search(text):
        kind = number_kind(text)
        if kind:
            return kind
    if TOKEN.search(text):
        return ":token"
    if any(pattern.search(text) for pattern in ADDRESS):
        return ":address"
    if " " in text and (POSTCODE.search(text) or street_address(text)):
        return ":address"
    if depth == 0:
        for plain in base64_texts(text):
            kind = classify(plain, 1) or classify(plain.lower(), 1)
            if kind:
                return kind
    if "+" in text:  # a form's space ("Via+Elisa,+991"); judged as sent first: "+49 30 …"
        return classify(text.replace("+", " "), depth)
    return None


def street_address(text: str) -> bool:
    """A street's type or name and a house number among words written with spaces."""
    words = text.lower().replace(",", " ").replace(".", " ").split()
    return (any(HOUSE_NUMBER.match(word) for word in words)
            and any(word in STREET_TYPES or STREET_SUFFIX.search(word) for word in words
                    if not word[0].isdigit()))


def plain_word(text: str) -> bool:
    """Letters and hyphens, shorter than a token: no rule can match ("pricing").

    Every rule but three needs a digit, an @ or a colon; a token of 24 letters and a
    UUID of hex letters need 24 characters or more, and base64 mixes cases.
    """
    return (len(text) < 24 and text.replace("-", "").replace("_", "").isalpha()
            and (len(text) < 8 or text[1:].islower()))


def remembered(function: Callable[[str], str]) -> Callable[[str | None], str]:
    """function, with a bounded memory of the inputs it kept unchanged."""
    memory: BoundedCache[str, str] = BoundedCache(CACHED, CACHEABLE)
    empty = function("")

    @functools.wraps(function)
    def clean(raw: str | None) -> str:
        if not raw:
            return empty
        known = memory.get(raw)
        if known is not None:
            return known
        cleaned = function(raw)
        lowered = raw.lower()
        if cleaned in (raw, lowered, lowered.removeprefix("www.")):
            memory.remember(raw, cleaned)
        return cleaned

    clean.memory = memory  # type: ignore[attr-defined]  # for tests of the bound
    return clean


# -- paths ----------------------------------------------------------------------------

# A date written across segments ("/account/10/27/1943/settings").
SLASHED_DATE = re.compile(r"(?<=/)(?:\d{1,2}/\d{1,2}/\d{2,4}|\d{4}/\d{1,2}/\d{1,2})(?=/|$)")


def path_of(raw: str) -> str:
    """The decoded path of raw: no query, fragment, scheme or host."""
    if not raw:
        return "/"
    if "&" in raw:  # "&#64;" is an @, not the start of a fragment
        raw = html.unescape(raw)
    path = decoded(raw.split("#", 1)[0].split("?", 1)[0])
    if URL.match(path) or path.startswith("//"):
        path = "/" + path.split("//", 1)[-1].partition("/")[2]
    return path


def judge_path(path: str) -> str:
    if "/" in path[1:]:
        path = SLASHED_DATE.sub(slashed_date, path)
    segments = [clean_segment(segment) for segment in path.split("/")]
    kept = [segment for segment in segments if segment][:MAX_SEGMENTS]
    cleaned = "/" + "/".join(kept)
    if path.endswith("/") and kept and len(segments) <= MAX_SEGMENTS + 1:
        cleaned += "/"
    return cleaned[:MAX_PATH]


def slashed_date(match: re.Match[str]) -> str:
    text = match.group()
    return ":date" if number_kind(text) == ":date" else text


@remembered
def clean_segment(raw: str) -> str:
    # ";jsessionid=…" and other matrix parameters are identifiers, never paths.
    text = CONTROL.sub("", decoded(raw.split(";", 1)[0])).strip()
    if text in PLACEHOLDERS:
        return text
    placeholder = classify(text)
    if placeholder:
        return placeholder
    return text.replace("/", "%2F")[:MAX_SEGMENT]


@remembered
def clean_path(raw: str) -> str:
    """An origin-less path with no query, fragment, parameters or personal segments."""
    return judge_path(path_of(raw))


def clean_site_path(raw: str | None, templates: tuple[Template, ...]) -> str:
    """clean_path, after the site's own path templates ("/account/:user/*")."""
    if not templates or not raw:
        return clean_path(raw)
    return judge_path(templated(path_of(raw), templates))


# A site's path templates: "/account/:user/*" names the segment after /account a
# user, whatever it holds, and keeps what follows for the rules and the crowd.
Template = tuple[str, ...]
TEMPLATE_NAME = re.compile(r"^:[a-z][a-z0-9_]{0,31}$")


def parse_template(text: str) -> Template:
    """A template's segments; ValueError saying what is wrong with it."""
    if not text.startswith("/"):
        raise ValueError(f"{text!r} does not start with /")
    parts = tuple(part for part in text.split("/") if part)
    for index, part in enumerate(parts):
        if part == "*" and index != len(parts) - 1:
            raise ValueError(f"{text!r}: * stands for the rest of a path, so it comes last")
        if part.startswith(":") and not TEMPLATE_NAME.match(part):
            raise ValueError(f"{text!r}: name a segment like :user (a-z, 0-9, _)")
        if part != "*" and not part.startswith(":") and classify(part):
            raise ValueError(f"{text!r}: {part!r} looks personal; use a :name for it")
    return parts


def templated(path: str, templates: tuple[Template, ...]) -> str:
    """path with the segments the first matching template names replaced by their names."""
    segments = [segment for segment in path.split("/") if segment]
    for template in templates:
        rest = template[-1] == "*" if template else False
        fixed = template[:-1] if rest else template
        if len(segments) < len(fixed) or not rest and len(segments) != len(fixed):
            continue
        if all(part.startswith(":") or part == segment for part, segment in zip(fixed, segments)):
            named = [part if part.startswith(":") else segment
                     for part, segment in zip(fixed, segments)]
            trail = "/" if path.endswith("/") and segments else ""
            return "/" + "/".join(named + segments[len(fixed):]) + trail
    return path


def template_names(templates: tuple[Template, ...]) -> frozenset[str]:
    return frozenset(part for template in templates for part in template
                     if part.startswith(":"))


# -- labels and hosts -----------------------------------------------------------------

@remembered
def clean_label(raw: str) -> str:
    """A campaign, source, medium or content label: short, lowercase, not personal."""
    if not raw:
        return ""
    text = " ".join(CONTROL.sub(" ", decoded(raw)).split())
    lowered = text.lower()
    if not text.isascii():
        lowered = unicodedata.normalize("NFKC", lowered)
    if lowered in PLACEHOLDERS:
        return lowered
    if URL.search(text):
        host = clean_host(text)
        return host if host and not host.startswith(":") else ":url"
    # Judged before and after lowercasing: base64 is read in its own case, and a
    # lowercase form must not be harder to judge than the form it came from.
    placeholder = classify(text) or classify(lowered)
    if placeholder:
        return placeholder
    label = lowered[:MAX_LABEL]
    return classify(label) or label


HOST = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}\.)*[a-z0-9-]{1,63}$")


@remembered
def clean_host(raw: str) -> str:
    """The host of a referrer, without www., port, path or anything else."""
    if not raw:
        return ""
    text = CONTROL.sub("", decoded(raw)).strip().lower()
    if "/" in text or "@" in text or "?" in text or "#" in text:
        scheme, found, _ = text.partition("://")
        if found and scheme not in ("http", "https"):
            return ""
        text = authority(text).rpartition("@")[2]
        if text.startswith("["):  # [2001:db8::1]:443
            text = text[1:].partition("]")[0]
    text = text.rsplit(":", 1)[0] if text.count(":") == 1 else text
    if text.startswith("www."):
        text = text[4:]
    if IPV4.match(text) or ":" in text:
        return ":ip"
    if len(text) > MAX_HOST or not HOST.match(text):
        return ""
    return ":id" if classify(text) else text


def authority(url: str) -> str:
    """The part of a URL between "//" and the path: "user@host:port".

    urllib's urlsplit would do, but it caches what it is given, and a URL sent by a
    client may carry personal data that must not outlive the request.
    """
    rest = url.split("//", 1)[1] if "//" in url else url
    for end in "/?#":
        rest = rest.split(end, 1)[0]
    return rest
