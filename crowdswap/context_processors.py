from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    """Expose site-wide settings that templates need."""
    return {"SITE_URL": settings.SITE_URL, "FACEBOOK_ENABLED": settings.FACEBOOK_ENABLED}
