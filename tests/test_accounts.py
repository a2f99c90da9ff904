"""Accounts through allauth's real views: sign up, sign in, sign out, password reset, Facebook."""

import json
import re
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

FACEBOOK_APP = {"client_id": "1234567890", "secret": "facebook-app-secret", "key": ""}
FACEBOOK_PROVIDERS = {
    "facebook": {
        "METHOD": "oauth2",
        "SCOPE": ["email", "public_profile"],
        "FIELDS": ["id", "email", "name", "first_name", "last_name"],
        "VERIFIED_EMAIL": False,
        "VERSION": "v19.0",
        "APPS": [FACEBOOK_APP],
    }
}
facebook_configured = override_settings(SOCIALACCOUNT_PROVIDERS=FACEBOOK_PROVIDERS, FACEBOOK_ENABLED=True)


def session_user_id(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


# ---------- sign up, sign in, sign out ----------


def test_sign_up_creates_the_user_and_signs_them_in(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "newhost@example.com",
            "username": "newhost",
            "password1": "a-long-enough-pass-42",
            "password2": "a-long-enough-pass-42",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/rooms/"
    user = get_user_model().objects.get(username="newhost")
    assert user.email == "newhost@example.com"
    assert session_user_id(client) == user.pk


def test_sign_up_with_mismatched_passwords_shows_the_error_on_the_styled_form(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "newhost@example.com",
            "username": "newhost",
            "password1": "a-long-enough-pass-42",
            "password2": "another-pass-42",
        },
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "form-row has-error" in html
    assert "You must type the same password each time." in html
    assert not get_user_model().objects.filter(username="newhost").exists()


@pytest.mark.parametrize("login", ["host", "host@example.com"])
def test_sign_in_with_username_or_email(client, host, login):
    response = client.post(reverse("account_login"), {"login": login, "password": "host-pass-123"})

    assert response.status_code == 302
    assert response["Location"] == "/rooms/"
    assert session_user_id(client) == host.pk


def test_sign_in_with_a_wrong_password_says_so(client, host):
    response = client.post(reverse("account_login"), {"login": "host", "password": "wrong-password"})

    assert response.status_code == 200
    assert "form-errors" in response.content.decode()
    assert session_user_id(client) is None


def test_sign_out_needs_a_post(host_client, host):
    confirm = host_client.get(reverse("account_logout"))

    assert confirm.status_code == 200
    assert "Sign out?" in confirm.content.decode()
    assert session_user_id(host_client) == host.pk

    response = host_client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert session_user_id(host_client) is None


# ---------- password reset ----------


def test_password_reset_email_link_sets_a_new_password(client, host):
    response = client.post(reverse("account_reset_password"), {"email": "host@example.com"})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["host@example.com"]
    assert "Reset your CrowdSwap password" in message.subject
    assert message.subject.startswith("[CrowdSwap] ")
    assert "your username is host" in message.body
    link = re.search(r"https?://[^\s]+/accounts/password/reset/key/[^\s]+/", message.body)
    assert link, message.body

    # allauth moves the key from the URL into the session, then shows the form.
    key_page = client.get(urlsplit(link.group(0)).path, follow=True)
    assert key_page.status_code == 200
    assert "Choose a new password" in key_page.content.decode()
    form_url = key_page.redirect_chain[-1][0]

    done = client.post(form_url, {"password1": "brand-new-pass-77", "password2": "brand-new-pass-77"})

    assert done.status_code == 302
    assert done["Location"] == reverse("account_reset_password_from_key_done")
    host.refresh_from_db()
    assert host.check_password("brand-new-pass-77")
    # The link works once.
    reused = client.get(urlsplit(link.group(0)).path, follow=True)
    assert "This link no longer works" in reused.content.decode()


def test_password_reset_for_an_unknown_address_reveals_nothing(client):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")
    # allauth mails unknown addresses a notice instead of a link, so the page cannot leak who has an account.
    assert all("/password/reset/key/" not in m.body for m in mail.outbox)


# ---------- auth pages render in the site's layout ----------


@pytest.mark.parametrize(
    "url_name",
    ["account_login", "account_signup", "account_reset_password", "account_reset_password_done"],
)
def test_entrance_pages_use_the_site_layout(client, url_name):
    html = client.get(reverse(url_name)).content.decode()

    assert "/static/css/site.css" in html
    assert 'class="container narrow auth-card"' in html
    assert 'class="brand"' in html


def test_account_email_page_uses_the_site_layout(host_client):
    response = host_client.get(reverse("account_email"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="subnav"' in html
    assert "host@example.com" in html
    assert 'class="button' in html


# ---------- Facebook ----------


def test_facebook_button_hidden_when_not_configured(client):
    for url_name in ("account_login", "account_signup"):
        html = client.get(reverse(url_name)).content.decode()
        assert "Continue with Facebook" not in html


@facebook_configured
def test_facebook_button_shown_when_configured(client):
    for url_name in ("account_login", "account_signup"):
        html = client.get(reverse(url_name)).content.decode()
        assert "Continue with Facebook" in html
        assert 'action="/accounts/facebook/login/?process=login"' in html


@facebook_configured
def test_facebook_get_shows_a_confirm_page_instead_of_leaving_the_site(client):
    response = client.get("/accounts/facebook/login/?process=login")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="container narrow auth-card"' in html
    assert '<form method="post"' in html


class FakeFacebook:
    """Stand in for graph.facebook.com at the HTTP transport, below allauth's requests session."""

    def __init__(self, profile: dict[str, str]) -> None:
        self.profile = profile
        self.calls: list[requests.PreparedRequest] = []

    def send(
        self, adapter: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, **kwargs
    ) -> requests.Response:
        self.calls.append(request)
        url = urlsplit(request.url)
        if url.hostname != "graph.facebook.com":
            raise requests.ConnectionError(f"unexpected network call in a test: {request.url}")
        if url.path.endswith("/oauth/access_token"):
            return self._json(request, {"access_token": "fb-user-token", "token_type": "bearer", "expires_in": 5183944})
        if url.path.endswith("/me"):
            return self._json(request, self.profile)
        return self._json(request, {"error": {"message": "unknown path"}}, status=404)

    @staticmethod
    def _json(request: requests.PreparedRequest, body: dict, status: int = 200) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json; charset=UTF-8"
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response


@pytest.fixture
def fake_facebook(monkeypatch) -> Iterator[FakeFacebook]:
    fake = FakeFacebook(
        {
            "id": "10150000000000001",
            "email": "fiona.book@example.com",
            "name": "Fiona Book",
            "first_name": "Fiona",
            "last_name": "Book",
        }
    )

    def send(adapter, request, **kwargs):
        return fake.send(adapter, request, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    yield fake


def facebook_round_trip(client) -> Callable[[], None]:
    """Start the login on our site, then come back to the callback as Facebook would."""
    start = client.post("/accounts/facebook/login/?process=login")
    assert start.status_code == 302
    authorize = urlsplit(start["Location"])
    assert authorize.hostname == "www.facebook.com"
    query = parse_qs(authorize.query)
    assert query["client_id"] == [FACEBOOK_APP["client_id"]]
    callback = urlsplit(query["redirect_uri"][0])
    assert callback.path == "/accounts/facebook/login/callback/"

    return client.get(callback.path, {"code": "code-from-facebook", "state": query["state"][0]})


@facebook_configured
def test_facebook_login_creates_a_user_and_a_second_login_reuses_it(client, fake_facebook):
    from allauth.socialaccount.models import SocialAccount

    users_before = get_user_model().objects.count()

    first = facebook_round_trip(client)

    assert first.status_code == 302
    assert first["Location"] == "/rooms/"
    account = SocialAccount.objects.get(provider="facebook", uid="10150000000000001")
    assert account.user.email == "fiona.book@example.com"
    assert account.user.first_name == "Fiona"
    assert session_user_id(client) == account.user.pk
    assert get_user_model().objects.count() == users_before + 1

    token_call, me_call = fake_facebook.calls
    token_query = parse_qs(urlsplit(token_call.url).query)
    assert token_query["code"] == ["code-from-facebook"]
    assert token_query["client_id"] == [FACEBOOK_APP["client_id"]]
    assert token_query["client_secret"] == [FACEBOOK_APP["secret"]]
    me_query = parse_qs(urlsplit(me_call.url).query)
    assert me_query["access_token"] == ["fb-user-token"]
    assert "appsecret_proof" in me_query

    client.post(reverse("account_logout"))
    assert session_user_id(client) is None

    second = facebook_round_trip(client)

    assert second.status_code == 302
    assert session_user_id(client) == account.user.pk
    assert get_user_model().objects.count() == users_before + 1
    assert SocialAccount.objects.filter(provider="facebook").count() == 1


@facebook_configured
def test_facebook_login_with_the_email_of_an_existing_account_asks_to_finish_sign_up(client, fake_facebook, host):
    fake_facebook.profile["email"] = "host@example.com"

    response = facebook_round_trip(client)

    # Signing in to someone else's account just because Facebook reports the same email would be a takeover.
    assert response.status_code == 302
    assert response["Location"] == reverse("socialaccount_signup")
    assert session_user_id(client) is None
    page = client.get(response["Location"]).content.decode()
    assert "Almost there" in page
    assert "example.com" not in page.replace("host@example.com", "")


@facebook_configured
def test_facebook_callback_with_a_forged_state_signs_nobody_in(client, fake_facebook):
    client.post("/accounts/facebook/login/?process=login")

    response = client.get("/accounts/facebook/login/callback/", {"code": "code-from-facebook", "state": "forged"})

    assert session_user_id(client) is None
    assert get_user_model().objects.count() == 0
    assert fake_facebook.calls == []
    assert response.status_code == 401
    assert "/static/css/site.css" in response.content.decode()


def test_facebook_login_refused_when_not_configured(client):
    response = client.post("/accounts/facebook/login/?process=login")

    assert response.status_code == 404


# ---------- enumeration, throttles, lockout ----------


SIGN_UP = {"username": "someone", "password1": "a-long-enough-pass-42", "password2": "a-long-enough-pass-42"}


def test_sign_up_with_a_registered_email_looks_like_any_sign_up(client, host):
    from django.test import Client

    fresh = Client().post(reverse("account_signup"), {**SIGN_UP, "email": "nobody-yet@example.com"})
    taken = client.post(reverse("account_signup"), {**SIGN_UP, "username": "someone2", "email": "host@example.com"})

    assert taken.status_code == fresh.status_code == 302
    assert taken["Location"] == fresh["Location"]
    assert "already" not in taken.content.decode()
    # The real owner's account is untouched and still signs in.
    assert Client().post(reverse("account_login"), {"login": "host", "password": "host-pass-123"}).status_code == 302


@pytest.fixture
def fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_wrong_passwords_lock_out_the_guessing_client_not_the_account_owner(fresh_cache, host):
    from django.test import Client

    attacker = Client(REMOTE_ADDR="203.0.113.9")
    pages = [
        attacker.post(reverse("account_login"), {"login": "host", "password": f"wrong-{i}"}).content.decode()
        for i in range(6)
    ]
    assert "Too many failed login attempts" in pages[-1]
    # Even the right password is refused to the guessing client for now...
    blocked = attacker.post(reverse("account_login"), {"login": "host", "password": "host-pass-123"})
    assert blocked.status_code == 200 and session_user_id(attacker) is None

    # ...while the owner, elsewhere, signs in at once.
    owner = Client(REMOTE_ADDR="198.51.100.20")
    response = owner.post(reverse("account_login"), {"login": "host", "password": "host-pass-123"})
    assert response.status_code == 302 and session_user_id(owner) == host.pk


def test_admin_login_is_allauths_throttled_login(fresh_cache, django_user_model):
    from django.test import Client

    django_user_model.objects.create_superuser(username="boss", email="boss@example.com", password="boss-pass-123")
    attacker = Client(REMOTE_ADDR="203.0.113.10")

    page = attacker.get("/admin/login/?next=/admin/")
    assert page.status_code == 302 and page["Location"].startswith(reverse("account_login"))
    # The admin's own form processes nothing: a right password posted to it signs nobody in.
    attacker.post("/admin/login/?next=/admin/", {"username": "boss", "password": "boss-pass-123"})
    assert session_user_id(attacker) is None
    # Where it sends people, wrong passwords are throttled.
    for i in range(6):
        last = attacker.post(reverse("account_login"), {"login": "boss", "password": f"nope-{i}"})
    assert "Too many failed login attempts" in last.content.decode()

    boss = Client(REMOTE_ADDR="198.51.100.21")
    boss.post(reverse("account_login"), {"login": "boss", "password": "boss-pass-123"})
    assert boss.get("/admin/").status_code == 200


def test_production_refuses_a_weak_secret_key(tmp_path):
    import os
    import subprocess
    import sys

    from tests.postgres import ROOT

    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}}
    env.update(DEBUG="false", CROWDSWAP_VAR_DIR=str(tmp_path))
    for key in ("abc", "x" * 60, "django-insecure-" + "k3y" * 20):
        result = subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=ROOT,
            env={**env, "SECRET_KEY": key},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode != 0, key
        assert "SECRET_KEY is too weak" in result.stderr, result.stderr
    # Development stays easy: DEBUG on runs with the built-in key.
    env.update(DEBUG="true")
    assert subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, timeout=120).returncode == 0
