"""Chromium's errors, for people."""

from __future__ import annotations

import pytest

from consentpixel.audit.chromium import load_error


@pytest.mark.parametrize("error, message", [
    ("Page.goto: net::ERR_CONNECTION_REFUSED at http://127.0.0.1:9/",
     "cannot reach it: connection refused"),
    ("Page.goto: net::ERR_CERT_AUTHORITY_INVALID at https://x/", "TLS error: the certificate"),
    ("Page.goto: net::ERR_SSL_PROTOCOL_ERROR at https://x/", "TLS error: ERR_SSL_PROTOCOL_ERROR"),
    ("Page.goto: net::ERR_BLOCKED_BY_CLIENT at http://x/", "could not load it: ERR_BLOCKED"),
    ("Page.goto: Target closed\nCall log: …", "could not load it: Target closed"),
])
def test_load_errors_are_one_line(error: str, message: str) -> None:
    assert load_error(Exception(error)).startswith(message)
