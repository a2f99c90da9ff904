"""allauth adapters: how accounts and sign-in providers behave in CrowdSwap."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import filter_users_by_email, user_email
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.http import Http404, HttpRequest

from crowdswap.lib.clients import client_address


class AccountAdapter(DefaultAccountAdapter):
    """One client address for every throttle, and failed logins counted per client and account."""

    def get_client_ip(self, request: HttpRequest) -> str:
        # REMOTE_ADDR as rewritten from trusted proxies only (crowdswap.lib.clients): never a forged header.
        return client_address(request)

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth counts wrong passwords per account: five from anybody locked its owner out everywhere.
        # Keyed by client and account, the lock only stops the client that guesses.
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{client_address(request)}"


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Treat a provider that is not configured on this deployment as absent (404, not 500)."""

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: Any) -> bool:
        # ACCOUNT_PREVENT_ENUMERATION = "strict" would let a provider's account that reports a registered
        # email sign up silently as a second account: ask the person to finish signing up instead.
        email = user_email(sociallogin.user)
        if email and filter_users_by_email(email):
            return False
        return super().is_auto_signup_allowed(request, sociallogin)

    def get_app(self, request: HttpRequest, provider, client_id=None):  # type: ignore[no-untyped-def]
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist as exc:
            raise Http404(f"Sign-in with {provider} is not set up on this site.") from exc
