"""Decode before judging: what a reader of a value would see."""

from __future__ import annotations

import pytest

from consentpixel.decoding import MAX_ROUNDS, base64_texts, decoded, still_encoded
from consentpixel.privacy import clean_label


@pytest.mark.parametrize("raw, expected", [
    ("ada%40b.co", "ada@b.co"),
    ("ada%2540b.co", "ada@b.co"),  # encoded twice
    ("ada%252540b.co", "ada@b.co"),  # three times
    ("ada&#64;b.co", "ada@b.co"), ("ada&commat;b.co", "ada@b.co"),
    ("ada%26%2364%3Bb.co", "ada@b.co"),  # an entity, percent-encoded
    ("ada\uff20b\uff0eco", "ada@b.co"),  # full-width
    ("\u0966\u0967\u0968 \u0663\u0664", "012 34"),  # Devanagari and Arabic-Indic digits
    ("ada (at) b [dot] co", "ada@b.co"), ("ada [at] b.co", "ada@b.co"),
    ("ada at b [dot] co", "ada@b.co"),
    ("caf%C3%A9", "café"), ("50%25 off", "50% off"), ("R&D", "R&D"),
    ("what about that", "what about that"),  # "at" alone is a word
])
def test_values_are_decoded(raw: str, expected: str) -> None:
    assert decoded(raw) == expected


def test_decoding_is_bounded_and_what_is_left_is_no_text() -> None:
    deep = "ada%40b.co"
    for _ in range(MAX_ROUNDS):
        deep = deep.replace("%", "%25")
    assert still_encoded(decoded(deep))  # one layer more than MAX_ROUNDS undoes
    assert clean_label(deep) == ":token"
    assert not still_encoded(decoded("ada%252540b.co"))


@pytest.mark.parametrize("text, expected", [
    ("NTgyLTIxLTI5NzQ=", ["582-21-2974"]),
    ("YWRhQGIuY28", ["ada@b.co"]),  # unpadded
    ("id-YWRhQGIuY28-x", ["ada@b.co"]),  # a run inside a longer value
    ("coffee-beans-250g", []),  # a slug: lowercase, never read
    ("12345678901", []),  # digits only
    ("AAAAAAAAAAAA", []),  # decodes to bytes that are not text
])
def test_base64_runs_are_read_when_they_decode_to_text(text: str, expected: list[str]) -> None:
    assert base64_texts(text) == expected
