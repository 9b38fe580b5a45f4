"""Numbers that name a person, told apart from numbers that name a thing.

Cards, IBANs, phone numbers, national IDs and dates of birth are personal whoever
sends them; product numbers, EANs, ISBNs and the date of a campaign are not. Check
digits, issuer prefixes and layouts tell most of them apart; what stays ambiguous is
treated as personal.
"""

from __future__ import annotations

import re
import time

# Dates older than this many years are taken for dates of birth (the visitors of a
# shop are rarely children); younger ones for the dates of events and campaigns.
ADULT_YEARS = 16
THIS_YEAR = time.gmtime().tm_year
OLDEST_EVENT = THIS_YEAR - ADULT_YEARS

FLAGS = re.ASCII | re.IGNORECASE
# National identifiers with letters, whose digits alone look like anything: the UK's
# National Insurance number, Italy's codice fiscale, Spain's NIF and NIE, India's PAN,
# the US SSN and Sweden's personnummer as written, Brazil's CPF.
NATIONAL_IDS = re.compile(
    r"(?<![a-z0-9])(?:"
    r"[a-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[a-z]"
    r"|[a-z]{6}\d{2}[a-z]\d{2}[a-z]\d{3}[a-z]"
    r"|\d{8}-?[a-z]|[xyz]-?\d{7}-?[a-z]"
    r"|[a-z]{5}\d{4}[a-z]"
    r"|\d{3}[- ]\d{2}[- ]\d{4}"
    r"|(?:\d{2})?\d{6}[-+]\d{4}"
    r"|\d{3}\.\d{3}\.\d{3}-\d{2}"
    r")(?![a-z0-9])", FLAGS)

# A run of digits as people write them: "+49 (0)30 123-456", "4158 6834 4978 6909".
RUN = re.compile(r"(?:\+|(?<!\d)00)?\(?\d(?:[\s().\-/]{0,3}\d)*", re.ASCII)
NON_DIGITS = re.compile(r"\D", re.ASCII)

MONTHS = ("jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|"
          "januar|februar|märz|mai|juni|juli|oktober|dezember|"
          "janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre|"
          "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|"
          "diciembre|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre")
# (year, month, day) in any order people write them; "年月日" as in Japanese.
DATES = (
    (re.compile(r"(?<!\d)(\d{4})[-./年](\d{1,2})[-./月](\d{1,2})日?(?!\d)"), "ymd"),
    # Not a version ("v10.13.28") nor part of a longer dotted number.
    (re.compile(r"(?<![a-z0-9.])(\d{1,2})([-./])(\d{1,2})\2(\d{4}|\d{2})(?![0-9.])", re.I),
     "dmy"),
    (re.compile(rf"(?<!\d)(\d{{1,2}})\.?\s*(?:{MONTHS})[a-zé]*\.?,?\s*(\d{{4}})(?!\d)", re.I),
     "d_y"),
    (re.compile(rf"(?:{MONTHS})[a-zé]*\.?\s*(\d{{1,2}}),?\s*(\d{{4}})(?!\d)", re.I), "d_y"),
)


def date_kind(text: str) -> tuple[str | None, str]:
    """(":date" for a date of birth, else None; text with its recent dates blanked)."""
    for pattern, order in DATES:
        if not pattern.search(text):
            continue
        for match in pattern.finditer(text):
            if birth_date(match.groups(), order):
                return ":date", text
        text = pattern.sub(" ", text)
    return None, text


def birth_date(groups: tuple[str | None, ...], order: str) -> bool:
    """Is it a real date, old enough to be someone's date of birth?"""
    parts = [int(part) for part in groups if part and part.isdigit()]
    if order == "ymd":
        year, month, day = parts
        return valid_day(month, day) and year <= OLDEST_EVENT
    if order == "d_y":
        day, year = parts
        return 1 <= day <= 31 and year <= OLDEST_EVENT
    first, second, year = parts
    if year < 100:  # "27/10/43": the century whose year is not in the future
        year += 2000 if year <= THIS_YEAR % 100 else 1900
    either = valid_day(first, second) or valid_day(second, first)
    return either and year <= OLDEST_EVENT


def valid_day(month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


def number_kind(text: str) -> str | None:
    """The placeholder for the first personal number in text, or None."""
    if NATIONAL_IDS.search(text):
        return ":id"
    kind, text = date_kind(text)
    if kind:
        return kind
    for match in RUN.finditer(text):
        run = match.group()
        digits = NON_DIGITS.sub("", run)
        if len(digits) >= 6:
            kind = digits_kind(run, digits)
            if kind:
                return kind
    return None


def digits_kind(run: str, digits: str) -> str | None:
    """What a run of six or more digits is, as far as it is personal."""
    count = len(digits)
    if run.startswith("+"):
        return ":phone"
    if isbn(run, digits):
        return None
    if card(digits):
        return ":card"
    if digits.startswith("00") and count >= 9:
        return ":phone"
    if run.strip("()") != digits and count >= 7:  # grouped like a phone number
        return ":phone"
    if count <= 8:  # a product or order number, a postcode: for the crowd to judge
        return None
    if 12 <= count <= 14 and gtin(digits) and not (count == 12 and (luhn(digits) or
                                                                     verhoeff(digits))):
        return None  # an EAN, UPC or ISBN; a 12-digit Aadhaar number has a check of its own
    return ":phone" if digits.startswith("0") else ":id"


def card(digits: str) -> bool:
    """A payment card: Luhn's check, and the length and issuer prefix of a real scheme."""
    count = len(digits)
    if not 12 <= count <= 19 or not luhn(digits):
        return False
    if count == 12:  # Maestro
        return digits[0] in "56" or digits.startswith("0604")
    if count == 13:  # the old Visa
        return digits[0] == "4"
    return digits[0] in "23456" or digits.startswith("1800")


def isbn(run: str, digits: str) -> bool:
    """An ISBN as printed: 978-3-16-148410-0, or ten digits in four groups."""
    if len(digits) == 13 and digits[:3] in ("978", "979"):
        return gtin(digits)
    if len(digits) == 10 and run.count("-") == 3:
        total = sum((10 - index) * int(char) for index, char in enumerate(digits))
        return total % 11 == 0
    return False


def gtin(digits: str) -> bool:
    """The check digit of an EAN-8, UPC-A, EAN-13 or GTIN-14."""
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(char) * (3 if index % 2 == 0 else 1)
                for index, char in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6), (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4), (9, 8, 7, 6, 5, 4, 3, 2, 1, 0))
VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2), (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8))


def verhoeff(digits: str) -> bool:
    """The check of India's Aadhaar numbers."""
    check = 0
    for index, char in enumerate(reversed(digits)):
        check = VERHOEFF_D[check][VERHOEFF_P[index % 8][int(char)]]
    return check == 0


IBAN = re.compile(r"[a-z]{2}\d{2}[a-z0-9]{11,30}", FLAGS)


def valid_iban(text: str) -> bool:
    text = text.upper()
    rearranged = text[4:] + text[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1
