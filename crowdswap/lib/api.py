"""The API's one exception handler: the same error gives the same status and body in every view."""

from typing import Any

from django.http import Http404
from rest_framework import serializers, status
from rest_framework.authentication import CSRFCheck
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crowdswap.lib.errors import ServiceError
from crowdswap.lib.limits import form_limit_message


class ErrorSerializer(serializers.Serializer):
    """Every error body: one sentence for people, field errors for forms when there are some."""

    detail = serializers.CharField()


def first_error(detail: Any, field: str = "") -> str:
    """Return the first message of a DRF error detail, prefixed with its field name."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            return first_error(value, "" if key == "non_field_errors" else str(key))
    if isinstance(detail, list) and detail:
        return first_error(detail[0], field)
    text = str(detail)
    return f"{field}: {text}" if field else text


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn service refusals, validation errors and 404s into {"detail": ...} with their one status."""
    if isinstance(exc, ServiceError):
        return Response({"detail": exc.message}, status=exc.status)
    limit_status, limit_message = form_limit_message(exc)
    if limit_status:
        return Response({"detail": limit_message}, status=limit_status)
    if isinstance(exc, ValidationError):
        return Response({"detail": first_error(exc.detail), "errors": exc.detail}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        return Response({"detail": str(exc) or "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return drf_exception_handler(exc, context)


def enforce_csrf(request: Any) -> None:
    """Run Django's CSRF check (Origin, Referer on HTTPS, token) on a request, whoever makes it; raise 403."""
    check = CSRFCheck(lambda request: None)  # type: ignore[arg-type, return-value]
    check.process_request(request)  # reads the CSRF cookie
    reason = check.process_view(request, None, (), {})  # DRF's CSRFCheck returns the reason, not a page
    if reason:
        raise PermissionDenied(
            f"Refused: this request did not come from this site's own page ({reason}). Reload the page and try again."
        )
