"""Numbers that name a person, told apart from numbers that name a thing."""

from __future__ import annotations

import pytest

from consentpixel.identifiers import OLDEST_EVENT, gtin, luhn, number_kind, valid_iban, verhoeff


@pytest.mark.parametrize("text, expected", [
    ("4111 1111 1111 1111", ":card"), ("4111-1111-1111-1111", ":card"),
    ("+49 30 123456", ":phone"), ("0049301234567", ":phone"), ("030 1234 5678", ":phone"),
    ("878532624571", ":id"),  # an EAN's check too, but Aadhaar's (Verhoeff's) wins
    ("123456789", ":id"),  # nine digits and no code's check: an identifier
    ("138-73-1034", ":id"), ("ZZ 91 41 77 T", ":id"), ("X7201009P", ":id"),
    ("10/27/1943", ":date"), ("1943-10-27", ":date"), ("27 octobre 1943", ":date"),
    # Things: product numbers, EANs, UPCs, ISBNs, a campaign's date, a version.
    ("88008110", None), ("4006381333931", None), ("036000291452", None),
    ("9783161484100", None), ("978-3-16-148410-0", None), ("1-5114-7913-2", None),
    ("2026-03-24", None), (f"{OLDEST_EVENT + 1}-05-03", None), ("v10.13.28", None),
])
def test_number_kinds(text: str, expected: str | None) -> None:
    assert number_kind(text) == expected


def test_the_oldest_event_date_is_a_date_of_birth() -> None:
    assert number_kind(f"{OLDEST_EVENT}-05-03") == ":date"


def test_check_digits() -> None:
    assert gtin("878532624571") and verhoeff("878532624571")
    assert luhn("4111111111111111") and not luhn("4111111111111112")
    assert gtin("4006381333931") and not gtin("4006381333932")
    assert verhoeff("898259791900") and not verhoeff("898259791901")
    assert valid_iban("DE89370400440532013000") and not valid_iban("DE89370400440532013001")
