"""Who sent a request: the socket peer, unless the peer is a proxy the config trusts.

The one place the client address is decided. pixel.Pixels calls resolve() on every
request before anything else reads it, so the rate limit, the click links and every
other reader see the same `scope["client"]` (Starlette's `request.client`).

A proxy named in forwarded_allow_ips adds the address it received the request from to
X-Forwarded-For (or Forwarded, RFC 7239). The list is read from the right: each entry
added by a trusted proxy names the next hop, and the first address that is not a
trusted proxy is the client. What the client wrote itself sits further left and is
never reached, so a forged header counts for nothing. The header a proxy does not
write is ignored: it would come from the client.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Iterable, Sequence

from starlette.types import Scope

from .cache import BoundedCache

HEADERS = {"x-forwarded-for": b"x-forwarded-for", "forwarded": b"forwarded"}
FORWARDED_FOR = re.compile(r'(?:^|;)\s*for="?([^";,]*)"?', re.I)
FORWARDED_PROTO = re.compile(r'(?:^|;)\s*proto="?(https?)"?', re.I)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(allowed: Iterable[str]) -> tuple[Network, ...]:
    """Addresses and networks ("10.0.0.0/8"); "*" is left to Proxies. ValueError names
    the entry that is neither."""
    networks: list[Network] = []
    for entry in allowed:
        if entry.strip() == "*":
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an address or network like 10.0.0.0/8"
                             ) from None
    return tuple(networks)


def parse_address(text: str) -> str | None:
    """A forwarded hop as an address ("[2001:db8::1]:443" and "192.0.2.1:80" lose their
    port), or None for what is not one ("unknown", an obfuscated "_name")."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(address)


def client_key(address: str) -> str:
    """Whom an address stands for, wherever clients are counted (the rate limit, failed
    sign-ins, the crowd): the address itself, an IPv6 one by its /64 (one subscriber's
    whole range), an IPv4 client of a socket listening on "::" as IPv4. Anything that
    is not an address is cut short, so a key never grows with what a client sends."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class Proxies:
    """The proxies forwarded_allow_ips names. "*" makes every peer a proxy, whatever its
    address, and believes the last hop it names (the address it saw); hops further left
    are followed only through proxies named by address."""

    def __init__(self, allowed: Sequence[str], header: str = "x-forwarded-for") -> None:
        self.networks = parse_networks(allowed)
        self.any_peer = any(entry.strip() == "*" for entry in allowed)
        self.header = HEADERS[header]
        # Whether an address is a trusted proxy: peers are few, so this rarely fills.
        self.known: BoundedCache[str, bool] = BoundedCache(4096, 64)

    def __bool__(self) -> bool:
        return bool(self.networks) or self.any_peer

    def trusts(self, address: str) -> bool:
        trusted = self.known.get(address)
        if trusted is None:
            parsed = parse_address(address)
            ip = ipaddress.ip_address(parsed) if parsed else None
            trusted = self.known.remember(
                address, ip is not None and any(ip in network for network in self.networks))
        return trusted

    def resolve(self, scope: Scope) -> None:
        """Put the client a trusted proxy names, and the scheme it was reached by, into
        the scope; leave it as it is for any other peer."""
        peer = scope.get("client")
        if not peer or not (self.any_peer or self.trusts(peer[0])):
            return
        hops, scheme = self.read(scope["headers"])
        client = peer[0]
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:  # a hop it cannot name: the last proxy is all we know
                break
            client = address
            if not self.trusts(address):
                break
        if client != peer[0]:
            scope["client"] = (client, 0)
        if scheme:
            scope["scheme"] = scheme

    def read(self, headers: Iterable[tuple[bytes, bytes]]) -> tuple[list[str], str]:
        """The hops the trusted header lists, nearest last, and the scheme the nearest
        proxy was reached by."""
        hops: list[str] = []
        scheme = ""
        for name, value in headers:
            if name == self.header:
                text = value.decode("latin-1")
                if self.header == b"forwarded":
                    for element in text.split(","):
                        found = FORWARDED_FOR.search(element)
                        hops.append(found.group(1) if found else "")
                        proto = FORWARDED_PROTO.search(element)
                        scheme = proto.group(1).lower() if proto else scheme
                else:
                    hops += text.split(",")
            elif name == b"x-forwarded-proto" and self.header == b"x-forwarded-for":
                last = value.decode("latin-1").rsplit(",", 1)[-1].strip().lower()
                scheme = last if last in ("http", "https") else scheme
        return hops, scheme
