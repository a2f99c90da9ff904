"""allauth adapters: how sign-in providers behave in CrowdSwap."""

from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.http import Http404, HttpRequest


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Treat a provider that is not configured on this deployment as absent (404, not 500)."""

    def get_app(self, request: HttpRequest, provider, client_id=None):  # type: ignore[no-untyped-def]
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist as exc:
            raise Http404(f"Sign-in with {provider} is not set up on this site.") from exc
