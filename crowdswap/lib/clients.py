"""Who is asking: the one client address of a request, trusting forwarded headers only from our own proxies.

Daphne's --proxy-headers believed the leftmost X-Forwarded-For of anybody, so one forged header made a
new client per request. Here the ASGI scope is rewritten once, in front of the app: a peer listed in
TRUSTED_PROXIES may say who it forwards for (X-Forwarded-For, read from the right, skipping our own
proxies) and over which scheme (X-Forwarded-Proto); anybody else is taken at its socket's word. Django
then sees that address as REMOTE_ADDR, so the login throttle, joins and guesses all count the same client.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# IPv6 hands a whole /64 to one subscriber: counting single addresses would give each person 2^64 clients.
IPV6_CLIENT_PREFIX = 64


def parse_networks(values: Iterable[str]) -> list[Network]:
    """Return the networks named by addresses or CIDR blocks ("10.0.0.0/8", "127.0.0.1"); refuse bad ones."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as error:
            raise ValueError(f"TRUSTED_PROXIES: {value!r} is not an IP address or network") from error
    return networks


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return the IP address in one X-Forwarded-For item ("1.2.3.4", "1.2.3.4:80", "[::1]:80"), else None."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: Any, networks: list[Network]) -> bool:
    return address is not None and any(address.version == n.version and address in n for n in networks)


def forwarded_client(peer: str, forwarded_for: list[str], networks: list[Network]) -> str:
    """Return the client address: the peer, or, if the peer is a trusted proxy, the nearest untrusted hop."""
    current = _address(peer)
    if not _trusted(current, networks):
        return peer
    hops = [item for header in forwarded_for for item in header.split(",") if item.strip()]
    for item in reversed(hops):
        hop = _address(item)
        if hop is None:
            break  # garbage from the far side of our proxies: stop believing at the last good hop
        current = hop
        if not _trusted(hop, networks):
            break
    return str(current)


class TrustedProxiesMiddleware:
    """ASGI middleware: set scope["client"] (and the scheme) from forwarded headers of trusted proxies only."""

    def __init__(self, app: Any, trusted_proxies: Iterable[str]) -> None:
        self.app = app
        self.networks = parse_networks(trusted_proxies)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            scope = self.rewrite(scope)
        return await self.app(scope, receive, send)

    def rewrite(self, scope: dict[str, Any]) -> dict[str, Any]:
        peer = str(scope["client"][0])
        if not self.networks or not _trusted(_address(peer), self.networks):
            return scope
        forwarded_for: list[str] = []
        proto = ""
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-for":
                forwarded_for.append(value.decode("latin-1"))
            elif name == b"x-forwarded-proto":
                # The nearest proxy's word is the last item.
                proto = value.decode("latin-1").split(",")[-1].strip().lower()
        scope = dict(scope, client=(forwarded_client(peer, forwarded_for, self.networks), 0))
        if proto in ("http", "https"):
            secure = proto == "https"
            scope["scheme"] = ("wss" if secure else "ws") if scope["type"] == "websocket" else proto
        return scope


def client_address(request: Any) -> str:
    """Return the request's client address (REMOTE_ADDR, as set from the scope by TrustedProxiesMiddleware)."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def client_key(address: str, secret: str) -> str:
    """Return a stable pseudonym for a client address (IPv6 by its /64), so rows never store the address."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        network = address
    else:
        if isinstance(parsed, ipaddress.IPv6Address):
            network = str(ipaddress.ip_network(f"{parsed}/{IPV6_CLIENT_PREFIX}", strict=False))
        else:
            network = str(parsed)
    return hmac.new(secret.encode(), f"client:{network}".encode(), hashlib.sha256).hexdigest()[:32]
