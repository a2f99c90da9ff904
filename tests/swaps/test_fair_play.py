"""Fair play: no replay after seeing the answers, joins capped per network, honest nicknames, CSRF on play."""

import pytest
from django.test import Client

from swaps.models import Player
from swaps.services import play
from tests.swaps.playing import join, url

pytestmark = pytest.mark.usefixtures("fresh_cache")


def board(swap) -> list[str]:
    return [row["name"] for row in Client().get(url("api-play-leaderboard", swap)).json()]


def test_giving_up_then_a_fresh_session_in_the_same_browser_resumes_the_finished_game(client, challenge):
    client.get(url("play:page", challenge))  # the page hands out the long-lived browser cookie
    join(client, challenge, "Sam")
    client.post(url("api-play-give-up", challenge))
    client.cookies.pop("sessionid", None)  # a new session: signed out, cleared, expired

    again = join(client, challenge, "Sam2")
    assert again.status_code == 200
    assert again.json()["player"]["name"] == "Sam" and again.json()["player"]["finished"] is True
    assert Player.objects.count() == 1


def test_after_seeing_the_answers_a_new_guest_from_that_network_plays_off_the_board(challenge):
    cheat = Client(REMOTE_ADDR="203.0.113.7")
    join(cheat, challenge, "Sam")
    answers = cheat.post(url("api-play-give-up", challenge)).json()["answers"]
    fresh = Client(REMOTE_ADDR="203.0.113.7")  # no cookie at all
    state = join(fresh, challenge, "Max").json()
    assert state["player"]["ranked"] is False and state["player"]["off_board_reason"] == play.OFF_BOARD_MESSAGE
    for answer in answers:
        box = answer["box"]
        fresh.post(
            url("api-play-guess", challenge),
            {"identity": answer["identity"], "x": box[0] + box[2] / 2, "y": box[1] + box[3] / 2},
            content_type="application/json",
        )
    assert Player.objects.get(nickname="Max").hits == 2
    assert board(challenge) == ["Sam"] and "Max" not in board(challenge)
    # Somebody else, elsewhere, is on the board as usual.
    join(Client(REMOTE_ADDR="198.51.100.1"), challenge, "Kim")
    assert set(board(challenge)) == {"Sam", "Kim"}


def test_an_account_that_saw_the_answers_cannot_come_back_as_a_guest_in_that_browser(client, friend, challenge):
    client.force_login(friend)
    client.get(url("play:page", challenge))
    join(client, challenge)
    client.post(url("api-play-give-up", challenge))
    client.logout()
    state = join(client, challenge, "Anon").json()
    assert state["player"]["name"] == "Anon" and state["player"]["ranked"] is False


def test_joins_are_capped_per_client_network_and_challenge(challenge, settings):
    settings.PLAY_JOINS_PER_CLIENT = 3
    codes = [join(Client(REMOTE_ADDR="203.0.113.8"), challenge, f"Fake {i}").status_code for i in range(5)]
    assert codes == [201, 201, 201, 429, 429]
    refused = join(Client(REMOTE_ADDR="203.0.113.8"), challenge, "Fake 9").json()["detail"]
    assert refused.startswith("3 players have already joined this challenge from your network")
    assert join(Client(REMOTE_ADDR="198.51.100.2"), challenge, "Neighbour").status_code == 201


def test_the_board_says_who_is_a_guest_and_who_signed_in_with_facebook(challenge, friend, stranger):
    from allauth.socialaccount.models import SocialAccount

    SocialAccount.objects.create(user=friend, provider="facebook", uid="1015")
    for user in (friend, stranger):
        signed_in = Client(REMOTE_ADDR=f"198.51.100.{user.pk}")
        signed_in.force_login(user)
        join(signed_in, challenge)
    join(Client(REMOTE_ADDR="198.51.100.99"), challenge, "Guesty")
    rows = {row["name"]: row["kind"] for row in Client().get(url("api-play-leaderboard", challenge)).json()}
    assert rows == {"friend": "facebook", "stranger": "account", "Guesty": "guest"}


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("  Sam   the\tMan ", "Sam the Man"),
        ("Sa\u200bm\u2060", "Sam"),  # zero-width characters
        ("\u202eevil\u202c", "evil"),  # a right-to-left override
        ("ＡＬＩＣＥ", "ALICE"),  # full-width letters (NFKC)
        ("Zalgo\u0301\u0302\u0303\u0304\u0305", "Zalg\u00f3\u0302\u0303"),  # stacked accents: two kept
    ],
)
def test_nicknames_are_normalised(client, challenge, typed, shown):
    assert join(client, challenge, typed).json()["player"]["name"] == shown


@pytest.mark.parametrize(
    "typed",
    [
        "alice (host)",
        "Admin",
        "CrowdSwap team",
        "the moderator",
        "\u200b\u202e",
        "x" * 41,
        "\u0430dmin",  # a Cyrillic "а"
        "h\u03bfst",  # a Greek "ο"
    ],
)
def test_impersonating_reserved_or_empty_nicknames_are_refused(client, challenge, typed):
    response = join(client, challenge, typed)
    assert response.status_code == 400
    assert not Player.objects.exists()


def test_the_hosts_own_name_is_refused_to_guests(client, challenge, host):
    host.first_name, host.last_name = "Maria", "Lopez"
    host.save()
    assert join(client, challenge, "maria  LOPEZ").status_code == 400
    assert join(client, challenge, "M\u0430ri\u0430 L\u043ePEZ").status_code == 400  # Cyrillic look-alikes


def test_a_nickname_is_unique_per_challenge_whatever_its_case_or_width(challenge):
    assert join(Client(REMOTE_ADDR="198.51.100.3"), challenge, "Sam").status_code == 201
    for taken in ("sam", "ＳＡＭ", " SAM ", "S\u0410M"):  # the last with a Cyrillic "А"
        response = join(Client(REMOTE_ADDR="198.51.100.4"), challenge, taken)
        assert response.status_code == 409 and "already playing" in response.json()["detail"]


def test_a_signed_in_player_whose_name_a_guest_took_gets_a_number(challenge, friend):
    join(Client(REMOTE_ADDR="198.51.100.5"), challenge, "friend")
    signed_in = Client(REMOTE_ADDR="198.51.100.6")
    signed_in.force_login(friend)
    assert join(signed_in, challenge).json()["player"]["name"] == "friend 2"


@pytest.mark.parametrize("action", ["api-play-join", "api-play-guess", "api-play-give-up"])
def test_play_requests_need_the_pages_csrf_token_and_a_same_origin(challenge, action):
    browser = Client(enforce_csrf_checks=True)
    browser.get(url("play:page", challenge))
    token = browser.cookies["csrftoken"].value
    body = {"nickname": "Sam", "identity": challenge.answer_key[0]["identity"], "x": 0.5, "y": 0.5}
    if action != "api-play-join":
        # A game to act on, joined from the page as its script does.
        assert (
            browser.post(
                url("api-play-join", challenge),
                {"nickname": "Sam"},
                content_type="application/json",
                HTTP_X_CSRFTOKEN=token,
            ).status_code
            == 201
        )

    no_token = browser.post(url(action, challenge), body, content_type="application/json")
    foreign = browser.post(
        url(action, challenge),
        body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
        HTTP_ORIGIN="https://evil.example",
    )
    assert no_token.status_code == foreign.status_code == 403
    assert "did not come from this site's own page" in foreign.json()["detail"]

    same_site = browser.post(
        url(action, challenge),
        body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
        HTTP_ORIGIN="http://testserver",
    )
    assert same_site.status_code in (200, 201)
