"""The long-lived browser id of a player: a signed cookie that outlives sessions (sign-out, a new session).

A guest is found by it before the session, so a browser that started a challenge gets the same game back,
and a browser that has seen a challenge's answers is known to have seen them.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.http import HttpResponse

COOKIE_NAME = "crowdswap_browser"
SALT = "crowdswap.swaps.browser"
MAX_AGE_SECONDS = 400 * 24 * 3600  # the longest lifetime browsers honour


def _django(request: Any) -> Any:
    return getattr(request, "_request", request)  # a DRF Request wraps Django's


def browser_id(request: Any) -> str:
    """Return this browser's id: from its signed cookie, or the one issued during this request, else ""."""
    request = _django(request)
    issued = getattr(request, "_crowdswap_new_browser_id", "")
    if issued:
        return issued
    # Only a value we signed counts: a made-up id cannot claim another browser's games.
    return str(request.get_signed_cookie(COOKIE_NAME, default="", salt=SALT))


def ensure_browser_id(request: Any) -> str:
    """Return this browser's id, issuing a new one (sent back by remember_browser) if it has none."""
    existing = browser_id(request)
    if existing:
        return existing
    issued = secrets.token_hex(16)
    _django(request)._crowdswap_new_browser_id = issued
    return issued


def remember_browser(request: Any, response: HttpResponse) -> HttpResponse:
    """Set the browser cookie on the response if this request issued a new id."""
    issued = getattr(_django(request), "_crowdswap_new_browser_id", "")
    if issued:
        response.set_signed_cookie(
            COOKIE_NAME,
            issued,
            salt=SALT,
            max_age=MAX_AGE_SECONDS,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response
