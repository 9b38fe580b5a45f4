"""Decode before judging: a value as a reader of it would see it.

Percent-encoding (once, twice, more), HTML entities, full-width and other compatible
Unicode forms, digits of other scripts and "(at)" spellings all hide an e-mail address
or a phone number from a pattern that reads the raw text. The rules judge the decoded
text, and only the decoded text is stored.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
from urllib.parse import unquote

MAX_ROUNDS = 4  # "%252540" is three layers deep; nobody encodes more by accident
OBFUSCATIONS = (
    (re.compile(r"\s*[\[({<]\s*(?:at|@)\s*[\])}>]\s*|\s+at\s+(?=[a-z0-9-]+\s*[\[({<]\s*dot)",
                re.I), "@"),
    (re.compile(r"\s*[\[({<]\s*dot\s*[\])}>]\s*", re.I), "."),
)
# A long run of the base64 alphabet; it is read only when it decodes to text.
BASE64 = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
MAX_BASE64 = 4  # runs read per value
PIECE = re.compile(r"[-_]")


def decoded(text: str) -> str:
    """text percent- and entity-decoded (repeatedly, bounded), NFKC, obfuscations undone."""
    for _ in range(MAX_ROUNDS):
        before = text
        if "%" in text:
            text = unquote(text, errors="replace")
        if "&" in text:
            text = html.unescape(text)
        if text == before:
            break
    if not text.isascii():
        text = ascii_digits(unicodedata.normalize("NFKC", text))
    if "t" in text or "T" in text:
        for pattern, replacement in OBFUSCATIONS:
            text = pattern.sub(replacement, text)
    return text


def still_encoded(text: str) -> bool:
    """Is text, once decoded, still encoded? Then it was encoded more than MAX_ROUNDS
    times, which no page does by accident: the rules take it for a token."""
    return ("%" in text and unquote(text) != text) or ("&" in text and
                                                       html.unescape(text) != text)


def ascii_digits(text: str) -> str:
    """Digits of any script as ASCII digits ("०१२" is "012"), which the rules read."""
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() and not char.isascii()
                   else char for char in text)


def base64_texts(text: str) -> list[str]:
    """What the base64-looking runs of text decode to, where that is printable text."""
    found = []
    for match in BASE64.finditer(text):
        run = match.group()
        # A slug ("coffee-beans") is lowercase; base64 of text hardly ever is.
        if run.islower() or run.isdigit():
            continue
        plain = read_base64(run)
        # "-" and "_" are URL-safe base64, and also what joins words: "user-YWRhQGIuY28".
        pieces = [plain] if plain else [read_base64(piece) for piece in PIECE.split(run)
                                        if len(piece) >= 8 and not piece.islower()]
        found += [piece for piece in pieces if piece]
        if len(found) >= MAX_BASE64:
            break
    return found[:MAX_BASE64]


def read_base64(run: str) -> str:
    data = run.rstrip("=")
    data += "=" * (-len(data) % 4)
    try:
        raw = base64.b64decode(data, altchars=b"-_" if "-" in run or "_" in run else None,
                               validate=True)
        plain = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return ""
    return plain if len(plain) >= 4 and plain.isprintable() else ""
