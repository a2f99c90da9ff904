"""One client address per request: forwarded headers are believed from TRUSTED_PROXIES only."""

import pytest

from crowdswap.lib.clients import TrustedProxiesMiddleware, client_key


def scope_seen(trusted: list[str], peer: str, headers: list[tuple[bytes, bytes]], kind: str = "http") -> dict:
    seen: dict = {}

    async def app(scope, receive, send):
        seen.update(scope)

    import asyncio

    middleware = TrustedProxiesMiddleware(app, trusted)
    scope = {"type": kind, "client": (peer, 5555), "scheme": "http" if kind == "http" else "ws", "headers": headers}
    asyncio.run(middleware(scope, None, None))
    return seen


FORGED = [(b"x-forwarded-for", b"1.2.3.4"), (b"x-forwarded-proto", b"https")]


def test_nobody_is_trusted_by_default_so_a_forged_header_changes_nothing():
    seen = scope_seen([], "203.0.113.5", FORGED)
    assert seen["client"][0] == "203.0.113.5" and seen["scheme"] == "http"


def test_a_peer_that_is_not_our_proxy_cannot_forge_its_address():
    seen = scope_seen(["10.0.0.0/8"], "203.0.113.5", FORGED)
    assert seen["client"][0] == "203.0.113.5" and seen["scheme"] == "http"


def test_our_proxy_names_the_client_and_forged_hops_before_it_are_ignored():
    # The client forged "1.2.3.4"; the balancer appended the address it really saw.
    headers = [(b"x-forwarded-for", b"1.2.3.4, 198.51.100.7"), (b"x-forwarded-proto", b"https")]
    seen = scope_seen(["10.0.0.0/8"], "10.1.2.3", headers)
    assert seen["client"][0] == "198.51.100.7" and seen["scheme"] == "https"


def test_chains_of_our_own_proxies_are_skipped_from_the_right():
    headers = [(b"x-forwarded-for", b"9.9.9.9, 198.51.100.7"), (b"x-forwarded-for", b"10.0.0.2")]
    assert scope_seen(["10.0.0.0/8"], "10.0.0.1", headers)["client"][0] == "198.51.100.7"
    # Garbage where an address should be: stop believing at the last good hop.
    assert scope_seen(["10.0.0.0/8"], "10.0.0.1", [(b"x-forwarded-for", b"junk")])["client"][0] == "10.0.0.1"
    assert scope_seen(["10.0.0.0/8"], "10.0.0.1", [(b"x-forwarded-for", b"[2001:db8::1]:443")])["client"][0] == (
        "2001:db8::1"
    )


def test_websockets_get_the_same_client_and_a_secure_scheme():
    seen = scope_seen(["127.0.0.1"], "127.0.0.1", [(b"x-forwarded-for", b"198.51.100.7")] + FORGED[1:], "websocket")
    assert seen["client"][0] == "198.51.100.7" and seen["scheme"] == "wss"


def test_a_bad_trusted_proxies_setting_is_refused():
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        TrustedProxiesMiddleware(None, ["not-an-address"])


def test_client_keys_group_an_ipv6_subscriber_and_hide_the_address():
    assert client_key("2001:db8:1:2::1", "s") == client_key("2001:db8:1:2:ffff::9", "s")
    assert client_key("2001:db8:1:2::1", "s") != client_key("2001:db8:1:3::1", "s")
    assert client_key("198.51.100.7", "s") != client_key("198.51.100.8", "s")
    assert "198" not in client_key("198.51.100.7", "s")
