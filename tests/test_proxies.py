"""Who the client is: the socket peer, unless a trusted proxy names it."""

from __future__ import annotations

from typing import Any

import pytest

from consentpixel.proxies import Proxies, client_key, parse_address

NGINX = ["127.0.0.1"]
BALANCERS = ["10.0.0.0/8"]

# peer, trusted proxies, the header they write, headers sent -> client, scheme
CASES: list[tuple[str, list[str], str, list[tuple[str, str]], str, str]] = [
    ("127.0.0.1", [], "x-forwarded-for", [("x-forwarded-for", "203.0.113.7")], "127.0.0.1", "http"),
    ("198.51.100.1", NGINX, "x-forwarded-for", [("x-forwarded-for", "203.0.113.7")],
     "198.51.100.1", "http"),
    ("127.0.0.1", NGINX, "x-forwarded-for", [("x-forwarded-for", "203.0.113.7")], "203.0.113.7",
     "http"),
    ("127.0.0.1", NGINX, "x-forwarded-for", [("x-forwarded-for", "1.2.3.4, 203.0.113.7")],
     "203.0.113.7", "http"),
    ("127.0.0.1", NGINX, "x-forwarded-for",
     [("x-forwarded-for", "1.2.3.4"), ("x-forwarded-for", "203.0.113.7")], "203.0.113.7", "http"),
    ("10.1.2.3", BALANCERS, "x-forwarded-for", [("x-forwarded-for", "203.0.113.7, 10.9.9.9")],
     "203.0.113.7", "http"),
    ("10.1.2.3", BALANCERS, "x-forwarded-for", [("x-forwarded-for", "10.5.5.5, 10.9.9.9")],
     "10.5.5.5", "http"),
    ("127.0.0.1", NGINX, "x-forwarded-for", [("x-forwarded-for", "unknown")], "127.0.0.1", "http"),
    ("127.0.0.1", NGINX, "x-forwarded-for", [("x-forwarded-for", "[2001:db8::7]:443")],
     "2001:db8::7", "http"),
    ("127.0.0.1", NGINX, "x-forwarded-for",
     [("x-forwarded-for", "203.0.113.7"), ("x-forwarded-proto", "https")], "203.0.113.7", "https"),
    ("198.51.100.1", NGINX, "x-forwarded-for", [("x-forwarded-proto", "https")], "198.51.100.1",
     "http"),
    ("127.0.0.1", NGINX, "x-forwarded-for", [("forwarded", "for=203.0.113.7")], "127.0.0.1", "http"),
    ("203.0.113.50", ["*"], "x-forwarded-for", [("x-forwarded-for", "192.0.2.9")], "192.0.2.9",
     "http"),
    ("10.1.1.1", ["*"], "x-forwarded-for", [("x-forwarded-for", "10.2.2.2, 192.0.2.9")],
     "192.0.2.9", "http"),  # any peer: only the hop it added itself
    ("10.1.1.1", ["*", "35.191.0.0/16"], "x-forwarded-for",
     [("x-forwarded-for", "192.0.2.9, 35.191.3.4")], "192.0.2.9", "http"),
    ("127.0.0.1", NGINX, "forwarded",
     [("forwarded", 'for=192.0.2.60;proto=https;by=203.0.113.43')], "192.0.2.60", "https"),
    ("127.0.0.1", NGINX, "forwarded",
     [("forwarded", 'for=1.2.3.4, For="[2001:db8:cafe::17]:4711"')], "2001:db8:cafe::17", "http"),
    ("127.0.0.1", NGINX, "forwarded", [("x-forwarded-for", "203.0.113.7")], "127.0.0.1", "http"),
    ("127.0.0.1", NGINX, "forwarded", [("forwarded", "for=_hidden")], "127.0.0.1", "http"),
]


def scope(peer: str, headers: list[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "http", "client": (peer, 5555), "scheme": "http",
            "headers": [(name.encode(), value.encode()) for name, value in headers]}


@pytest.mark.parametrize("peer, allowed, header, headers, client, scheme", CASES)
def test_the_client_is_the_peer_unless_a_trusted_proxy_names_it(
        peer: str, allowed: list[str], header: str, headers: list[tuple[str, str]],
        client: str, scheme: str) -> None:
    request = scope(peer, headers)
    Proxies(allowed, header).resolve(request)
    assert (request["client"][0], request["scheme"]) == (client, scheme)


def test_no_trusted_proxy_means_nothing_to_do() -> None:
    assert not Proxies([])
    assert Proxies(NGINX) and Proxies(["*"])


@pytest.mark.parametrize("text, address", [
    ("192.0.2.1", "192.0.2.1"), (" 192.0.2.1:8080", "192.0.2.1"), ("2001:DB8::1", "2001:db8::1"),
    ("[2001:db8::1]:80", "2001:db8::1"), ("::ffff:192.0.2.1", "192.0.2.1"), ("unknown", None),
    ("_obfuscated", None), ("", None), ("999.1.1.1", None),
])
def test_forwarded_hops_are_addresses_or_nothing(text: str, address: str | None) -> None:
    assert parse_address(text) == address


# an address -> whom it stands for, wherever clients are counted
CLIENTS = [
    ("192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),  # the same subscriber
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),  # the next one
    ("::ffff:192.0.2.7", "192.0.2.7"),  # IPv4 on a socket listening on "::"
    ("testclient", "testclient"),
    ("x" * 500, "x" * 64),
    ("", ""),
]


@pytest.mark.parametrize("address, client", CLIENTS)
def test_whom_an_address_stands_for(address: str, client: str) -> None:
    assert client_key(address) == client
