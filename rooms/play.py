"""Playing a published swap: players, judged guesses, scores and the leaderboard.

Services shared by the play API, the play page and the leaderboard socket. The answer key stays
here: `player_state` only reveals it to a player who has finished.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from rooms import game
from rooms.models import Guess, Identity, Player
from rooms.services import ServiceError, representative_face
from swaps.models import Swap

logger = logging.getLogger(__name__)

# At most this many guesses per player within the window: enough for a fast human, not for a script.
GUESS_RATE_LIMIT = 5
GUESS_RATE_WINDOW_SECONDS = 5
NICKNAME_MAX = 40
LEADERBOARD_SIZE = 20
CLOSED_MESSAGE = "This challenge is closed: the host stopped sharing it."


class ChallengeClosed(ServiceError):
    """The swap is not (or no longer) published."""


class RateLimited(ServiceError):
    """Too many guesses in a short time."""


@dataclass(frozen=True)
class GuessOutcome:
    guess: Guess
    player: Player
    attempts_left: int


def ensure_open(swap: Swap) -> None:
    """Refuse a swap that is not published and finished."""
    if not swap.is_playable:
        raise ChallengeClosed(CLOSED_MESSAGE)


def find_player(*, swap: Swap, user: Any = None, session_key: str | None = None) -> Player | None:
    """Return the player of this browser: by account when signed in, else by session."""
    if user is not None and user.is_authenticated:
        return Player.objects.filter(swap=swap, user=user).first()
    if session_key:
        return Player.objects.filter(swap=swap, user__isnull=True, session_key=session_key).first()
    return None


def join_game(*, swap: Swap, user: Any = None, session_key: str | None = None, nickname: str = "") -> Player:
    """Start playing, or return the game this account or session already started (reloading resumes)."""
    ensure_open(swap)
    existing = find_player(swap=swap, user=user, session_key=session_key)
    if existing is not None:
        return existing
    signed_in = user is not None and user.is_authenticated
    if signed_in:
        name = (user.get_full_name() if hasattr(user, "get_full_name") else "") or user.get_username()
    else:
        name = " ".join(nickname.split())
        if not name:
            raise ServiceError("Choose a nickname to play as a guest.")
        if not session_key:
            raise ServiceError("Your browser did not keep a session. Allow cookies for this site and reload.")
    try:
        with transaction.atomic():
            player = Player.objects.create(
                swap=swap,
                user=user if signed_in else None,
                session_key="" if signed_in else session_key,
                nickname=name[:NICKNAME_MAX],
            )
    except IntegrityError:
        # A double click joined twice at once: the first one wins.
        player = find_player(swap=swap, user=user, session_key=session_key)
        if player is None:
            raise
        return player
    push_leaderboard_on_commit(swap)
    return player


def _attempts_by_identity(player: Player) -> dict[int, list[Guess]]:
    attempts: dict[int, list[Guess]] = {}
    for guess in player.guesses.all():
        attempts.setdefault(guess.identity_id, []).append(guess)
    return attempts


def _all_done(swap: Swap, attempts: dict[int, list[Guess]]) -> bool:
    for identity_id in swap.hidden_identity_ids():
        guesses = attempts.get(identity_id, [])
        if not any(g.hit for g in guesses) and len(guesses) < game.ATTEMPTS_PER_FRIEND:
            return False
    return True


def _check_rate(player: Player) -> None:
    key = f"play-guess-rate:{player.pk}"
    # add() starts the window only if it is not running; incr() then counts within it.
    cache.add(key, 0, timeout=GUESS_RATE_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # the window expired between add and incr
        cache.set(key, 1, timeout=GUESS_RATE_WINDOW_SECONDS)
        count = 1
    if count > GUESS_RATE_LIMIT:
        raise RateLimited(f"Slow down: at most {GUESS_RATE_LIMIT} guesses every {GUESS_RATE_WINDOW_SECONDS} seconds.")


def make_guess(*, player: Player, identity_id: int, x: float, y: float) -> GuessOutcome:
    """Judge one click (normalised x, y) for one hidden friend, record it and update the score."""
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        raise ServiceError("Click inside the picture.")
    _check_rate(player)
    with transaction.atomic():
        player = Player.objects.select_for_update().select_related("swap").get(pk=player.pk)
        swap = player.swap
        ensure_open(swap)
        if player.finished:
            raise ServiceError("You have finished this challenge: no more guesses.")
        box = swap.answer_for(identity_id)
        if box is None:
            raise ServiceError("That person is not hidden in this picture.")
        attempts = _attempts_by_identity(player)
        previous = attempts.get(int(identity_id), [])
        if any(g.hit for g in previous):
            raise ServiceError("You already found this friend.")
        if len(previous) >= game.ATTEMPTS_PER_FRIEND:
            raise ServiceError(f"You used all {game.ATTEMPTS_PER_FRIEND} tries for this friend.")
        now = timezone.now()
        judgement = game.judge((x, y), tuple(box), seconds_elapsed=player.seconds_played(now))
        guess = Guess.objects.create(
            player=player, identity_id=int(identity_id), x=x, y=y, hit=judgement.hit, points=judgement.points
        )
        player.score += judgement.points
        if judgement.hit:
            player.hits += 1
        else:
            player.misses += 1
        attempts.setdefault(int(identity_id), []).append(guess)
        if _all_done(swap, attempts):
            player.finished_at = now
        player.save(update_fields=["score", "hits", "misses", "finished_at"])
        push_leaderboard_on_commit(swap)
    left = 0 if judgement.hit else game.ATTEMPTS_PER_FRIEND - len(attempts[int(identity_id)])
    return GuessOutcome(guess=guess, player=player, attempts_left=left)


def give_up(*, player: Player) -> Player:
    """End this player's game now; the answers are revealed to them."""
    with transaction.atomic():
        player = Player.objects.select_for_update().select_related("swap").get(pk=player.pk)
        if not player.finished:
            player.finished_at = timezone.now()
            player.gave_up = True
            player.save(update_fields=["finished_at", "gave_up"])
            push_leaderboard_on_commit(player.swap)
    return player


def ranked_players(swap: Swap) -> list[Player]:
    """Return every player of the swap, best first: by score, then by time taken."""
    now = timezone.now()
    players = list(Player.objects.filter(swap=swap))
    players.sort(key=lambda p: (-p.score, p.seconds_played(now), p.pk))
    return players


def leaderboard(swap: Swap, *, limit: int = LEADERBOARD_SIZE) -> list[dict[str, Any]]:
    """Return the top players as plain rows: names and scores only, never positions or guesses."""
    return [
        {
            "rank": rank,
            "name": player.nickname,
            "score": player.score,
            "hits": player.hits,
            "finished": player.finished,
            "seconds": round(player.seconds_played()) if player.finished else None,
        }
        for rank, player in enumerate(ranked_players(swap)[:limit], start=1)
    ]


def rank_of(player: Player) -> int:
    """Return the player's place on the leaderboard (1 is best)."""
    for rank, other in enumerate(ranked_players(player.swap), start=1):
        if other.pk == player.pk:
            return rank
    return 0


def push_leaderboard(swap: Swap) -> None:
    """Send the current leaderboard to everyone watching this challenge."""
    try:
        async_to_sync(get_channel_layer().group_send)(
            swap.leaderboard_group, {"type": "leaderboard.update", "entries": leaderboard(swap)}
        )
    except Exception:
        # Live updates are a courtesy: pages load the leaderboard from the API too.
        logger.warning("could not push the leaderboard of swap %s", swap.pk, exc_info=True)


def push_leaderboard_on_commit(swap: Swap) -> None:
    transaction.on_commit(lambda: push_leaderboard(swap))


def hidden_friends(swap: Swap) -> list[dict[str, Any]]:
    """Return the hidden friends in answer-key order with a thumbnail face id; no positions."""
    identities = Identity.objects.in_bulk(swap.hidden_identity_ids())
    friends = []
    for identity_id in swap.hidden_identity_ids():
        identity = identities.get(identity_id)
        cover = representative_face(identity) if identity is not None else None
        friends.append(
            {
                "identity": identity_id,
                "name": identity.display_name if identity is not None else "A friend",
                "has_thumb": bool(cover and cover.thumbnail),
            }
        )
    return friends


def player_state(*, swap: Swap, player: Player | None) -> dict[str, Any]:
    """Return what this player may see: their own guesses, score, and the answers only once finished."""
    friends = hidden_friends(swap)
    state: dict[str, Any] = {
        "rules": game.RULES_TEXT,
        "attempts_per_friend": game.ATTEMPTS_PER_FRIEND,
        "player": None,
        "friends": friends,
        "guesses": [],
        "answers": None,
        "rank": None,
    }
    if player is None:
        for friend in friends:
            friend.update(found=False, attempts_left=game.ATTEMPTS_PER_FRIEND)
        return state
    attempts = _attempts_by_identity(player)
    for friend in friends:
        guesses = attempts.get(friend["identity"], [])
        found = any(g.hit for g in guesses)
        friend.update(found=found, attempts_left=0 if found else game.ATTEMPTS_PER_FRIEND - len(guesses))
    state["player"] = {
        "name": player.nickname,
        "score": player.score,
        "hits": player.hits,
        "misses": player.misses,
        "finished": player.finished,
        "gave_up": player.gave_up,
        "seconds": round(player.seconds_played()),
    }
    state["guesses"] = [
        {"identity": g.identity_id, "x": round(g.x, 5), "y": round(g.y, 5), "hit": g.hit, "points": g.points}
        for g in player.guesses.all()
    ]
    if player.finished:
        state["answers"] = [{"identity": e["identity"], "box": e["box"]} for e in swap.answer_key]
        state["rank"] = rank_of(player)
    return state
