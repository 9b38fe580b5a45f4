"""The privacy rules: what of a hit may reach the store.

The tag applies TAG_RULES before a hit leaves the browser (static/t.js, `scrub`); the
collector applies them again, and more, because it never trusts the client. Values
that look personal are replaced by placeholders, which also keeps cardinality low.
"""

from __future__ import annotations

import functools
import re
from typing import Callable
from urllib.parse import unquote

from .cache import BoundedCache

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

PLACEHOLDERS = frozenset({":email", ":ip", ":uuid", ":card", ":iban", ":phone", ":id",
                          ":token", ":address", ":url"})

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")

# The rules the tag applies before a hit leaves the browser, sent to it with the site's
# settings, so tag and collector share one definition. In order, the first match
# names the placeholder. Each pattern is read the same way by Python's re (with
# re.ASCII | re.IGNORECASE) and by JavaScript's RegExp (flag "i"). The third field
# says whether the rule looks at the text with its separators removed, so that
# "+49 30 123456" and "5500-0000-0000-0004" are one long run of digits.
SEPARATORS = r"[\s().+/-]"
TAG_RULES: tuple[tuple[str, str, bool], ...] = (
    (":email", r"@|%40", False),
    (":ip", r"\d+\.\d+\.\d+\.\d+|[0-9a-f]*:[0-9a-f]*:[0-9a-f]*:", False),
    (":uuid", r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", False),
    (":id", r"\d{6}", True),
    (":token", r"[a-z0-9]{24}|(?=[a-z0-9]*\d)[a-z0-9]{16}", False),
)
FLAGS = re.ASCII | re.IGNORECASE
FLAT = re.compile(SEPARATORS)
COMPILED = tuple((name, re.compile(pattern, FLAGS), flat) for name, pattern, flat in TAG_RULES)

# The collector looks closer than the tag can afford to: long digit runs that are
# cards (Luhn), IBANs (mod 97) or phone numbers get their own placeholder, and
# postal addresses are caught too.
DIGITS = re.compile(r"\d{6,}", re.A)
IBAN = re.compile(r"[a-z]{2}\d{2}[a-z0-9]{11,30}", FLAGS)
PHONE = re.compile(r"^(?:\+|00)\d{7,15}$", re.A)
PHONE_SEPARATORS = re.compile(r"[\s().\-/]")
STREET_WORDS = (r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|place|"
                r"court|ct|square|sq|terrace|crescent|close|rue|chemin|allée|calle|avenida|"
                r"plaza|via|viale|piazza|straße|strasse|str|weg|platz|gasse|allee|ring|damm")
ADDRESS = (
    re.compile(rf"\b\d{{1,5}}[a-z]?[\s,_-]+(?:[^\W\d]+[\s_-]+){{0,3}}(?:{STREET_WORDS})\b", re.I),
    re.compile(r"\b[^\W\d]+(?:straße|strasse|str\.|weg|platz|gasse|allee)[\s,_-]*\d{1,4}[a-z]?\b",
               re.I),
)
POSTCODE = re.compile(r"\b[a-z]{1,2}\d[a-z\d]?\s+\d[a-z]{2}\b", re.I)
URL = re.compile(r"[a-z][a-z0-9+.-]*://|^www\.", re.I)
IPV4 = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


def classify(text: str) -> str | None:
    """The placeholder for text that looks personal, or None when it may be kept."""
    if not text or plain_word(text):
        return None
    flat = FLAT.sub("", text)
    for name, pattern, on_flat in COMPILED:
        if pattern.search(flat if on_flat else text):
            return refine(text, flat) if name == ":id" else name
    if any(pattern.search(text) for pattern in ADDRESS):
        return ":address"
    if " " in text and POSTCODE.search(text):
        return ":address"
    return None


def plain_word(text: str) -> bool:
    """Letters and hyphens, shorter than a token: no rule can match ("pricing").

    Every rule but two needs a digit, an @ or a colon; the two that do not (a token of
    24 letters, a UUID of hex letters) need 24 characters or more.
    """
    return len(text) < 24 and text.replace("-", "").replace("_", "").isalpha()


def refine(text: str, flat: str) -> str:
    """Name a long run of digits more precisely: IBAN, card, phone, or just an ID."""
    iban = IBAN.search(flat)
    if iban and valid_iban(iban.group()):
        return ":iban"
    for run in DIGITS.findall(flat):
        if 13 <= len(run) <= 19 and luhn(run):
            return ":card"
    return ":phone" if PHONE.match(PHONE_SEPARATORS.sub("", text)) else ":id"


def luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def valid_iban(text: str) -> bool:
    text = text.upper()
    rearranged = text[4:] + text[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


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


@remembered
def clean_path(raw: str) -> str:
    """An origin-less path with no query, fragment, parameters or personal segments."""
    if not raw:
        return "/"
    path = raw.split("#", 1)[0].split("?", 1)[0]
    if URL.match(path) or path.startswith("//"):
        path = "/" + path.split("//", 1)[-1].partition("/")[2]
    segments = [clean_segment(segment) for segment in path.split("/")]
    kept = [segment for segment in segments if segment][:MAX_SEGMENTS]
    cleaned = "/" + "/".join(kept)
    if path.endswith("/") and kept and len(segments) <= MAX_SEGMENTS + 1:
        cleaned += "/"
    return cleaned[:MAX_PATH]


@remembered
def clean_segment(raw: str) -> str:
    # ";jsessionid=…" and other matrix parameters are identifiers, never paths.
    text = CONTROL.sub("", unquote(raw.split(";", 1)[0], errors="replace")).strip()
    placeholder = classify(text)
    if placeholder:
        return placeholder
    return text.replace("/", "%2F")[:MAX_SEGMENT]


@remembered
def clean_label(raw: str) -> str:
    """A campaign, source, medium or content label: short, lowercase, not personal."""
    if not raw:
        return ""
    text = " ".join(CONTROL.sub(" ", raw).split()).lower()
    if text in PLACEHOLDERS:
        return text
    if URL.search(text):
        host = clean_host(text)
        return host if host else ":url"
    return (classify(text) or text)[:MAX_LABEL]


HOST = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}\.)*[a-z0-9-]{1,63}$")


@remembered
def clean_host(raw: str) -> str:
    """The host of a referrer, without www., port, path or anything else."""
    if not raw:
        return ""
    text = CONTROL.sub("", raw).strip().lower()
    if "/" in text or "@" in text or "?" in text or "#" in text:
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
