"""REST API for playing a shared challenge: anyone with the link, signed in or as a guest with the session.

The player is always found from the request's account or session, never from the request body, so
nobody can guess for another player.
"""

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crowdswap.lib.api import ErrorSerializer, enforce_csrf
from crowdswap.lib.clients import client_address, client_key
from crowdswap.lib.errors import Conflict
from swaps import browsers
from swaps.access import get_published_swap
from swaps.models import Player, Swap
from swaps.services import hints, play


class JoinInputSerializer(serializers.Serializer):
    # Room for invisible characters that normalising removes; the normal form is held to NICKNAME_MAX.
    nickname = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", trim_whitespace=False
    )


class GuessInputSerializer(serializers.Serializer):
    identity = serializers.IntegerField()
    x = serializers.FloatField(min_value=0.0, max_value=1.0)
    y = serializers.FloatField(min_value=0.0, max_value=1.0)


class StateSerializer(serializers.Serializer):
    """What a player may see (the answers only once they finished)."""

    rules = serializers.CharField()
    attempts_per_friend = serializers.IntegerField()
    player = serializers.DictField(allow_null=True)
    friends = serializers.ListField(child=serializers.DictField())
    guesses = serializers.ListField(child=serializers.DictField())
    answers = serializers.ListField(child=serializers.DictField(), allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    hint_cost = serializers.IntegerField()
    hints = serializers.ListField(child=serializers.DictField(), help_text="Regions the player paid to see.")
    reveal = serializers.ListField(
        child=serializers.DictField(), allow_null=True, help_text="Per friend, once finished: the reveal crops."
    )


class GuessOutputSerializer(serializers.Serializer):
    hit = serializers.BooleanField()
    points = serializers.IntegerField()
    attempts_left = serializers.IntegerField()
    state = StateSerializer()


class LeaderboardEntrySerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Player.Kind.choices, help_text="How the player is known: guest or signed in")
    score = serializers.IntegerField()
    hits = serializers.IntegerField()
    finished = serializers.BooleanField()
    seconds = serializers.IntegerField(allow_null=True)


def session_key(request: Any, *, create: bool = False) -> str | None:
    """Return the browser's session key, creating the session when a guest needs one."""
    if create and not request.session.session_key:
        request.session.save()
    return request.session.session_key


def request_client_key(request: Any) -> str:
    """Return the pseudonym of the request's client network (the one address from trusted proxies)."""
    return client_key(client_address(request), settings.SECRET_KEY)


class PlayView(APIView):
    """Base for play endpoints: open to everybody; refusals take the API's one error shape.

    Every state-changing request is checked for CSRF (token and Origin), signed in or not: DRF checks only
    signed-in sessions, and a guest's game is held by cookies just the same. Token-authenticated API
    clients carry no cookies and need no check.
    """

    permission_classes = [AllowAny]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method not in ("GET", "HEAD", "OPTIONS") and not isinstance(
            request.successful_authenticator, TokenAuthentication
        ):
            enforce_csrf(request._request)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        return browsers.remember_browser(request, super().finalize_response(request, response, *args, **kwargs))

    def current_player(self, swap: Swap) -> Player | None:
        return play.find_player(
            swap=swap,
            user=self.request.user,
            session_key=session_key(self.request),
            browser_id=browsers.browser_id(self.request),
        )

    def require_player(self, swap: Swap) -> Player:
        player = self.current_player(swap)
        if player is None:
            raise Conflict("Join the game first: choose a nickname or sign in.")
        return player


class PlayStateApi(PlayView):
    @extend_schema(responses={200: StateSerializer, 404: ErrorSerializer, 410: ErrorSerializer})
    def get(self, request: Request, token: str) -> Response:
        """Return the hidden friends and this player's progress (the answers once they finished)."""
        swap = get_published_swap(token)
        return Response(play.player_state(swap=swap, player=self.current_player(swap)))


class PlayJoinApi(PlayView):
    @extend_schema(request=JoinInputSerializer, responses={200: StateSerializer, 201: StateSerializer})
    def post(self, request: Request, token: str) -> Response:
        """Start playing (or resume): signed-in players use their name, guests give a nickname."""
        swap = get_published_swap(token)
        data = JoinInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        player, created = play.join_or_resume(
            swap=swap,
            user=request.user,
            session_key=session_key(request, create=True),
            nickname=data.validated_data["nickname"],
            browser_id=browsers.ensure_browser_id(request),
            client_key=request_client_key(request),
        )
        return Response(
            play.player_state(swap=swap, player=player),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class PlayGuessApi(PlayView):
    @extend_schema(request=GuessInputSerializer, responses={200: GuessOutputSerializer, 409: ErrorSerializer})
    def post(self, request: Request, token: str) -> Response:
        """Judge a click for one hidden friend."""
        swap = get_published_swap(token)
        player = self.require_player(swap)
        data = GuessInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        outcome = play.make_guess(
            player=player,
            identity_id=values["identity"],
            x=values["x"],
            y=values["y"],
            client_key=request_client_key(request),
        )
        return Response(
            {
                "hit": outcome.guess.hit,
                "points": outcome.guess.points,
                "attempts_left": outcome.attempts_left,
                "state": play.player_state(swap=outcome.player.swap, player=outcome.player, guesses=outcome.guesses),
            }
        )


class HintInputSerializer(serializers.Serializer):
    identity = serializers.IntegerField()


class HintOutputSerializer(serializers.Serializer):
    region = serializers.ListField(child=serializers.FloatField(), help_text="x, y, w, h as image fractions")
    cost = serializers.IntegerField()
    charged = serializers.BooleanField(help_text="False when this hint had been paid for already.")
    state = StateSerializer()


class PlayHintApi(PlayView):
    @extend_schema(request=HintInputSerializer, responses={200: HintOutputSerializer, 409: ErrorSerializer})
    def post(self, request: Request, token: str) -> Response:
        """Pay for a hint: the area of the picture one hidden friend is in (once per friend)."""
        swap = get_published_swap(token)
        player = self.require_player(swap)
        data = HintInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = hints.take_hint(player=player, identity_id=data.validated_data["identity"])
        return Response(
            {
                "region": outcome.hint.region,
                "cost": outcome.hint.cost,
                "charged": outcome.charged,
                "state": play.player_state(swap=swap, player=outcome.player),
            }
        )


class PlayGiveUpApi(PlayView):
    @extend_schema(request=None, responses={200: StateSerializer})
    def post(self, request: Request, token: str) -> Response:
        """Stop playing and see the answers."""
        swap = get_published_swap(token)
        player = play.give_up(player=self.require_player(swap))
        return Response(play.player_state(swap=swap, player=player))


class PlayLeaderboardApi(PlayView):
    @extend_schema(responses={200: LeaderboardEntrySerializer(many=True)})
    def get(self, request: Request, token: str) -> Response:
        """Return the challenge's leaderboard: names and scores."""
        return Response(play.leaderboard(get_published_swap(token)))
