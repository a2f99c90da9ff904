"""Bounds on what one request may carry: its bytes, checked by the web server before anything is read.

Daphne (through Twisted) reads a whole request body, to memory or a temporary file, before the ASGI app
sees the request, so a limit inside Django comes too late: a 300 MB POST to any URL was written to disk
first. The server's request class is therefore given the limit: a declared Content-Length over it is
refused as soon as the headers are in, a chunked body as soon as it grows past it, with a 413 and the
connection closed, so nothing beyond the limit is ever read.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any


def describe_sizes(size: int, limit: int) -> tuple[str, str]:
    """Return a size and a limit as text precise enough to tell them apart ("26.21 MB", "26.2 MB" or bytes)."""
    for decimals in (1, 2, 3):
        shown = (f"{size / 1e6:.{decimals}f} MB", f"{limit / 1e6:.{decimals}f} MB")
        if shown[0] != shown[1]:
            return shown
    return f"{size:,} bytes", f"{limit:,} bytes"


def too_large_message(size: int | None, limit: int) -> str:
    """Return the sentence a person gets for a request body over the limit."""
    if size is None:
        return f"This request is over the {describe_sizes(limit + 1, limit)[1]} a request may carry. Send less at once."
    size_text, limit_text = describe_sizes(size, limit)
    return f"This request is {size_text}, over the {limit_text} a request may carry. Send less at once."


def limited_request_class(base: type, max_bytes: int) -> type:
    """Return a subclass of Twisted's/Daphne's request class that refuses bodies over max_bytes unread."""

    class LimitedRequest(base):  # type: ignore[misc, valid-type]
        body_limit = max_bytes
        _refused = False
        _received = 0

        def gotLength(self, length: int | None) -> None:
            if length is not None and length > self.body_limit:
                self._refuse(length)
                return
            super().gotLength(length)

        def handleContentChunk(self, data: bytes) -> None:
            if self._refused:
                return
            self._received += len(data)
            if self._received > self.body_limit:
                self._refuse(None)
                return
            super().handleContentChunk(data)

        def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
            if not self._refused:
                super().requestReceived(command, path, version)

        def _refuse(self, length: int | None) -> None:
            self._refused = True
            self.request_start = time.time()
            self.content = io.BytesIO()  # keep nothing of what may still arrive
            # No "100 Continue" after the refusal: the client must not start sending the body.
            self.requestHeaders.removeHeader(b"expect")
            body = json.dumps({"detail": too_large_message(length, self.body_limit)}).encode()
            head = (
                b"HTTP/1.1 413 Content Too Large\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
            )
            transport = self.channel.transport
            transport.write(head + body)
            # Stops reading from the socket, sends what is buffered, then closes.
            transport.loseConnection()

    LimitedRequest.__name__ = f"Limited{base.__name__}"
    return LimitedRequest


def limit_daphne_request_bodies(max_bytes: int) -> None:
    """Make every HTTP request Daphne accepts in this process refuse a body over max_bytes before reading it."""
    try:
        from daphne import http_protocol
    except ImportError:  # another ASGI server: nothing to do here
        return
    current: Any = http_protocol.WebRequest
    if getattr(current, "body_limit", None) == max_bytes:
        return
    base = current.__mro__[1] if hasattr(current, "body_limit") else current
    # Daphne's HTTPFactory builds its requests from this module attribute.
    http_protocol.WebRequest = limited_request_class(base, max_bytes)


# ---------------------------------------------------------------- form limits, in the site's own words


def form_limit_message(error: Exception) -> tuple[int, str]:
    """Return (status, sentence) for one of Django's form limits, or (0, "") for anything else."""
    from django.conf import settings
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent

    if isinstance(error, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return 400, f"Too many files in one request: send at most {limit} at a time."
    if isinstance(error, TooManyFieldsSent):
        return 400, f"Too many form fields in one request (at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS})."
    if isinstance(error, RequestDataTooBig):
        limit = describe_sizes(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)[1]
        return 413, f"The form fields are over the {limit} a request may carry (files aside). Send less at once."
    return 0, ""


def wants_json(request: Any) -> bool:
    """Return whether the requester reads JSON (the API, or a page's script) rather than a page."""
    accept = request.headers.get("Accept", "")
    return (
        request.path.startswith("/api/")
        or "application/json" in accept
        or request.headers.get("X-Requested-With") == ("XMLHttpRequest")
    )


class FormLimitsMiddleware:
    """Parse a posted form up front, so too many files or fields get a clear answer instead of a bare 400.

    Django raises TooManyFilesSent and friends lazily, wherever request.POST is first read (often in the
    CSRF check), and answers with its raw error page, even on the API. Placed after the session and message
    middleware, this reads the form before any view or CSRF check: the API gets {"detail": ...}, a page the
    same sentence as a message on the page the form came from.
    """

    FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        if request.method == "POST" and request.content_type in self.FORM_TYPES:
            try:
                request.POST  # noqa: B018  (parses the files too)
            except Exception as error:
                status, message = form_limit_message(error)
                if not status:
                    raise
                return self.refuse(request, status, message)
        return self.get_response(request)

    def refuse(self, request: Any, status: int, message: str) -> Any:
        from django.contrib import messages
        from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
        from django.utils.html import escape
        from django.utils.http import url_has_allowed_host_and_scheme

        if wants_json(request):
            return JsonResponse({"detail": message}, status=status)
        back = request.headers.get("Referer", "")
        if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
            messages.error(request, message)
            return HttpResponseRedirect(back)
        return HttpResponse(f"<!doctype html><title>Not sent</title><p>{escape(message)}</p>", status=status)
