"""Personal data in outgoing requests: e-mail addresses, phone numbers, cards, IBANs.

The collector's rules (privacy.py) decide what may be stored, and replace much more
than this (IDs, tokens, UUIDs). The audit asks a narrower question about other
people's requests too: does this request carry data that names a person? Pseudonymous
IDs fill third-party traffic and are not flagged, so that every finding is worth
reading. Findings name the kind and the place, never the value, and `Scan.mask` takes
the values out of a URL or body before it goes into a report.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterator
from urllib.parse import parse_qsl, quote, quote_plus, unquote, unquote_plus, urlsplit

from ..privacy import IBAN, luhn, valid_iban
from .model import Finding

PLACEHOLDERS = {"email": ":email", "phone": ":phone", "card": ":card", "iban": ":iban"}

EMAIL = re.compile(r"[a-z0-9._%+-]+@(?:[a-z0-9-]+\.)+([a-z]{2,24})(?![a-z0-9-])", re.I)
# "logo@2x.png" and friends look like addresses: their last label is a file suffix.
FILE_SUFFIXES = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "ico", "bmp",
                           "js", "mjs", "css", "map", "json", "html", "htm", "woff", "woff2",
                           "ttf", "otf", "eot", "mp4", "webm", "mp3", "pdf", "txt", "xml"})
# Phones are only recognised in international form in free text; a field named like a
# phone number is enough for a national one.
PHONE = re.compile(r"(?<![\w+])(?:\+|00)[1-9](?:[\s().-]{0,2}\d){6,14}(?![\d])")
PHONE_FIELD = re.compile(r"(?:^|[^a-z])(?:tel|phone|mobile|cell|ph|telefon|telephone)(?:$|[^a-z])",
                         re.I)
NATIONAL_PHONE = re.compile(r"^[\s().+/-]*\d(?:[\s().+/-]{0,2}\d){6,14}[\s()]*$")
CARD = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")
# An IBAN as printed ("DE89 3704 0044 …") or run together; privacy.IBAN is the latter.
IBAN_TEXT = re.compile(r"(?<![a-z0-9])[a-z]{2}\d{2}(?: ?[a-z0-9]){11,30}", re.I)


def card_issuer(digits: str) -> bool:
    """Does the number start like a card of a major scheme, with that scheme's length?

    Luhn alone passes one random number in ten, far too many timestamps and IDs.
    """
    n = len(digits)
    two, four = int(digits[:2]), int(digits[:4])
    return ((digits[0] == "4" and n in (13, 16, 19))               # Visa
            or (51 <= two <= 55 or 2221 <= four <= 2720) and n == 16  # Mastercard
            or two in (34, 37) and n == 15                          # American Express
            or (four == 6011 or two == 65 or 644 <= int(digits[:3]) <= 649) and n >= 16
            or 3528 <= four <= 3589 and n >= 16                     # JCB
            or two == 62 and n >= 16)                               # UnionPay


def shortest_iban(candidate: str) -> str:
    """The valid IBAN that candidate starts with, if any: a greedy match may have run
    on into the next word."""
    for end in range(len(candidate), 14, -1):
        text = candidate[:end].rstrip()
        compact = text.replace(" ", "")
        if 15 <= len(compact) <= 34 and IBAN.fullmatch(compact) and valid_iban(compact):
            return text
    return ""


def spans(text: str, name: str = "") -> Iterator[tuple[str, str]]:
    """(kind, matched text) for each piece of personal data in text; name is the
    field or parameter it came from, if any."""
    found: list[tuple[str, int, int]] = []
    for match in EMAIL.finditer(text):
        if match.group(1).lower() not in FILE_SUFFIXES:
            found.append(("email", match.start(), match.end()))
    for match in CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if card_issuer(digits) and luhn(digits):
            found.append(("card", match.start(), match.end()))
    for match in IBAN_TEXT.finditer(text):
        iban = shortest_iban(match.group())
        if iban:
            found.append(("iban", match.start(), match.start() + len(iban)))
    # "00…" starts phone numbers and runs of digits inside IBANs and cards alike.
    for match in PHONE.finditer(text):
        if not any(start < match.end() and match.start() < end for _, start, end in found):
            found.append(("phone", match.start(), match.end()))
    for kind, start, end in found:
        yield kind, text[start:end]
    if name and PHONE_FIELD.search(name) and NATIONAL_PHONE.match(text):
        yield "phone", text.strip()


@dataclass
class Scan:
    """What a scan found, and the matched values, which only `mask` uses."""

    findings: list[Finding] = field(default_factory=list)
    values: set[str] = field(default_factory=set)
    kinds: dict[str, str] = field(default_factory=dict)

    def add(self, text: str, where: str, name: str = "") -> None:
        for kind, value in spans(text, name):
            if not any(f.kind == kind and f.where == where for f in self.findings):
                self.findings.append(Finding(kind, where))
            self.values.add(value)
            self.kinds[value] = kind

    def mask(self, text: str) -> str:
        """text with every found value replaced, however it was percent-encoded."""
        for value in sorted(self.values, key=len, reverse=True):
            placeholder = PLACEHOLDERS[self.kinds[value]]
            for form in {value, quote(value, safe=""), quote_plus(value, safe=""),
                         quote(value, safe="@")}:
                text = re.sub(re.escape(form), placeholder, text, flags=re.I)
        return text


def scan_url(url: str) -> Scan:
    scan = Scan()
    parts = urlsplit(url)
    for segment in parts.path.split("/"):
        scan.add(unquote(segment), "path")
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        scan.add(value, f"query parameter {name}", name)
        scan.add(name, "query parameter name")
    return scan


def scan_body(body: str, scan: Scan | None = None) -> Scan:
    """A request body: JSON, form fields or plain text (sendBeacon, fetch, forms)."""
    scan = scan or Scan()
    parsed = as_json(body)
    if parsed is not None:
        for name, value in leaves(parsed):
            scan.add(value, f"body field {name}" if name else "body", name)
    elif is_form(body):
        for name, value in parse_qsl(body, keep_blank_values=True):
            scan.add(value, f"body field {name}", name)
    else:
        scan.add(body, "body")
        scan.add(unquote_plus(body), "body")
    return scan


def as_json(body: str) -> Any:
    if not body.lstrip().startswith(("{", "[")):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def is_form(body: str) -> bool:
    return "=" in body and not any(c in body for c in " \n\t{")


def leaves(value: Any, name: str = "") -> Iterator[tuple[str, str]]:
    """(field name, text) for every string or number in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, str(key))
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item, name)
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        yield name, str(value)
