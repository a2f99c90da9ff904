from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    """Expose the site-wide settings that templates need."""
    # Read on every request (not at import) so override_settings and per-process env changes apply.
    return {
        "SITE_URL": settings.SITE_URL,
        "FACEBOOK_ENABLED": bool(getattr(settings, "FACEBOOK_ENABLED", False)),
    }
