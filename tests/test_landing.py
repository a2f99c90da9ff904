"""The landing page and the base layout every page extends."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_landing_explains_the_game_in_three_steps(client):
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    for step in ("Upload your friends", "Pick a crowd", "Share and play"):
        assert step in html
    assert 'property="og:title"' in html
    assert f'href="{reverse("account_signup")}"' in html


def test_anonymous_navigation_offers_sign_in_and_sign_up(client):
    html = client.get("/").content.decode()

    assert f'href="{reverse("account_login")}"' in html
    assert f'href="{reverse("account_signup")}"' in html
    assert "My rooms" not in html
    assert "Sign out" not in html


def test_signed_in_navigation_shows_my_rooms_and_a_post_sign_out(host_client):
    html = host_client.get("/").content.decode()

    assert 'href="/rooms/"' in html
    assert "My rooms" in html
    # Sign-out must be a POST form: a GET link would let any page log the user out.
    assert f'<form method="post" action="{reverse("account_logout")}">' in html
    assert "Go to my rooms" in html
    assert f'href="{reverse("account_login")}"' not in html


def test_messages_are_shown(client, host):
    client.post(reverse("account_login"), {"login": "host", "password": "host-pass-123"})

    html = client.get("/").content.decode()

    assert 'class="messages"' in html
    assert "Successfully signed in as host." in html


def test_pages_load_the_design_system(client):
    html = client.get("/").content.decode()

    assert "/static/css/site.css" in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


def test_base_template_blocks_that_other_pages_fill(rf, host):
    from django.template import engines

    page = engines["django"].from_string(
        '{% extends "base.html" %}'
        "{% block title %}Room title{% endblock %}"
        '{% block meta %}<meta property="og:image" content="x.png">{% endblock %}'
        "{% block content %}<p>room body</p>{% endblock %}"
        "{% block scripts %}<script>window.ok = 1</script>{% endblock %}"
    )
    request = rf.get("/rooms/1/")
    request.user = host

    html = page.render({"user": host}, request)

    assert "<title>Room title</title>" in html
    assert '<meta property="og:image" content="x.png">' in html
    assert "<p>room body</p>" in html
    assert "<script>window.ok = 1</script>" in html
    assert 'aria-current="page">My rooms' in html


def test_static_assets_exist():
    from django.contrib.staticfiles import finders

    for asset in ("css/site.css", "img/logo.svg", "img/favicon.svg", "img/crowd.svg"):
        assert finders.find(asset), asset


def test_healthz(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
