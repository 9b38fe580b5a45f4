"""Personal data in URLs and bodies: found, named, and masked in every encoding."""

from __future__ import annotations

import json

import pytest

from consentpixel.audit import pii

URL_CASES = [
    # (url, findings as (kind, where))
    ("https://www.facebook.com/tr?id=1&ev=Lead&em=ada.lovelace%40analytical.example",
     {("email", "query parameter em")}),
    ("https://t.example/u/MARIE.CURIE%40SORBONNE.EXAMPLE/orders", {("email", "path")}),
    ("https://t.example/c?email=ada.lovelace%2Bnews%40analytical.example&utm_source=mail",
     {("email", "query parameter email")}),
    ("https://t.example/c?tel=%2B49%2030%20123456", {("phone", "query parameter tel")}),
    ("https://t.example/c?tel=030%201234567", {("phone", "query parameter tel")}),
    ("https://t.example/c?note=call+me+on+%2B33+1+23+45+67+89",
     {("phone", "query parameter note")}),
    ("https://t.example/invoice/5500-0000-0000-0004/pdf", {("card", "path")}),
    ("https://t.example/pay?cc=4111111111111111", {("card", "query parameter cc")}),
    ("https://t.example/c?iban=DE89370400440532013000", {("iban", "query parameter iban")}),
    ("https://t.example/c?iban=DE89+3704+0044+0532+0130+00", {("iban", "query parameter iban")}),
    ("https://t.example/c?ada%40analytical.example=1", {("email", "query parameter name")}),
    # what is not personal data, though it looks like it
    ("https://cdn.example/img/logo@2x.png", set()),
    ("https://cdn.example/npm/package@1.2.3/dist/x.js", set()),
    ("https://www.google-analytics.com/g/collect?v=2&cid=123456789.1700000000&_p=1700000000123",
     set()),
    ("https://t.example/c?z=1700000000000&order=0301234567", set()),
    ("https://t.example/c?cc=4111111111111112", set()),  # fails Luhn
    ("https://t.example/c?iban=DE00370400440532013000", set()),  # fails mod 97
    ("https://t.example/users/550e8400-e29b-41d4-a716-446655440000?t=9f8e7d6c5b4a3928", set()),
]


@pytest.mark.parametrize("url, found", URL_CASES, ids=[c[0][8:60] for c in URL_CASES])
def test_personal_data_in_urls(url: str, found: set[tuple[str, str]]) -> None:
    assert {(f.kind, f.where) for f in pii.scan_url(url).findings} == found


BODY_CASES = [
    ('{"event": "lead", "user": {"email": "linus@kernel.example"}}',
     {("email", "body field email")}),
    ('[{"phone": "+44 20 7946 0958"}]', {("phone", "body field phone")}),
    ('{"tel": "030 1234567", "order": "0301234567"}', {("phone", "body field tel")}),
    ("ev=Lead&em=ada%40analytical.example&ts=1700000000000", {("email", "body field em")}),
    ("Contact: katherine.johnson@nasa.example, IBAN DE89 3704 0044 0532 0130 00",
     {("email", "body"), ("iban", "body")}),
    ('{"cid": "123456789.1700000000", "items": [{"id": "SKU-4111"}], "value": 49.9}', set()),
    ("", set()),
]


@pytest.mark.parametrize("body, found", BODY_CASES, ids=[c[0][:40] for c in BODY_CASES])
def test_personal_data_in_bodies(body: str, found: set[tuple[str, str]]) -> None:
    assert {(f.kind, f.where) for f in pii.scan_body(body).findings} == found


@pytest.mark.parametrize("text, absent", [
    ("https://t.example/tr?em=ada.lovelace%40analytical.example&x=1", ["ada.lovelace"]),
    ("https://t.example/tr?em=ada.lovelace@analytical.example", ["ada.lovelace"]),
    ("https://t.example/c?tel=%2B49%2030%20123456", ["123456"]),
    ("https://t.example/c?tel=%2B49+30+123456", ["123456"]),
    ("https://t.example/invoice/5500-0000-0000-0004/pdf", ["5500"]),
])
def test_masking_removes_the_value_in_every_encoding(text: str, absent: list[str]) -> None:
    masked = pii.scan_url(text).mask(text)
    assert all(value not in masked for value in absent), masked
    assert any(p in masked for p in pii.PLACEHOLDERS.values())


def test_masking_a_body_keeps_its_shape() -> None:
    body = '{"event": "lead", "phone": "+44 20 7946 0958", "email": "linus@kernel.example"}'
    masked = pii.scan_body(body).mask(body)
    assert json.loads(masked) == {"event": "lead", "phone": ":phone", "email": ":email"}
