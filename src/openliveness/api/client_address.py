"""The client's address, for per-address limits: the TCP peer, or behind trusted proxies the address they report.

Only proxies listed in `Settings.trusted_proxies` are believed: anyone else could write any X-Forwarded-For.
The header is read right to left, skipping trusted hops; the first untrusted address is the client."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

__all__ = ["client_address"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in trusted)


def _trusted(address: str, networks: Sequence[_Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[str]) -> str | None:
    if peer is None:
        return None
    networks = _networks(tuple(trusted_proxies))
    if not networks or not forwarded_for or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for[:2048].split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from beyond the proxies: fall back to the last hop we can vouch for
    return hops[0] if hops else peer
