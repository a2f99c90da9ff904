"""Playing a published swap: players, judged guesses, scores and the leaderboard.

Services shared by the play API, the play page and the leaderboard socket. The answer key stays
here: `player_state` only reveals it to a player who has finished.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from crowdswap.lib.errors import Conflict, Gone, RateLimited, ServiceError
from rooms.models import Face, Identity, cover_among
from swaps import game
from swaps.models import Guess, Hint, Player, Swap
from swaps.services import reveal

logger = logging.getLogger(__name__)

# At most this many guesses per player within the window: enough for a fast human, not for a script.
GUESS_RATE_LIMIT = 5
GUESS_RATE_WINDOW_SECONDS = 5
NICKNAME_MAX = 40
LEADERBOARD_SIZE = 20
# Live leaderboards change at most this often per challenge: a popular challenge gets a guess every few
# milliseconds, and every watcher re-rendering (and every server re-reading) each one would be waste.
LEADERBOARD_PUSH_INTERVAL_SECONDS = 0.5
CLOSED_MESSAGE = "This challenge is closed: the host stopped sharing it."


@dataclass(frozen=True)
class GuessOutcome:
    guess: Guess
    player: Player
    attempts_left: int
    # Every guess of the player, this one included, so the answer can show the state without re-reading it.
    guesses: list[Guess] = field(default_factory=list)


def ensure_open(swap: Swap) -> None:
    """Refuse a swap that is not published and finished."""
    if not swap.is_playable:
        raise Gone(CLOSED_MESSAGE)


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


def _attempts_by_identity(guesses: list[Guess]) -> dict[int, list[Guess]]:
    attempts: dict[int, list[Guess]] = {}
    for guess in guesses:
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
    if cache.add(key, 1, timeout=GUESS_RATE_WINDOW_SECONDS):
        return
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
    # Before any database work: a flood of clicks is refused for the price of a cache round trip.
    _check_rate(player)
    identity_id = int(identity_id)
    with transaction.atomic():
        # The row lock serialises one player's concurrent clicks, so attempts are counted exactly.
        player = Player.objects.select_for_update().select_related("swap").get(pk=player.pk)
        swap = player.swap
        ensure_open(swap)
        if player.finished:
            raise Conflict("You have finished this challenge: no more guesses.")
        box = swap.answer_for(identity_id)
        if box is None:
            raise ServiceError("That person is not hidden in this picture.")
        guesses = list(player.guesses.all())
        attempts = _attempts_by_identity(guesses)
        previous = attempts.get(identity_id, [])
        if any(g.hit for g in previous):
            raise Conflict("You already found this friend.")
        if len(previous) >= game.ATTEMPTS_PER_FRIEND:
            raise Conflict(f"You used all {game.ATTEMPTS_PER_FRIEND} tries for this friend.")
        now = timezone.now()
        judgement = game.judge((x, y), tuple(box), seconds_elapsed=player.seconds_played(now))
        guess = Guess.objects.create(
            player=player, identity_id=identity_id, x=x, y=y, hit=judgement.hit, points=judgement.points
        )
        guesses.append(guess)
        attempts.setdefault(identity_id, []).append(guess)
        finished_at = now if _all_done(swap, attempts) else None
        # F() expressions: the stored totals only ever move by this guess, whatever the copy in memory says.
        Player.objects.filter(pk=player.pk).update(
            score=F("score") + judgement.points,
            hits=F("hits") + int(judgement.hit),
            misses=F("misses") + int(not judgement.hit),
            finished_at=finished_at,
        )
        player.score += judgement.points
        player.hits += int(judgement.hit)
        player.misses += int(not judgement.hit)
        player.finished_at = finished_at
        push_leaderboard_on_commit(swap)
    left = 0 if judgement.hit else game.ATTEMPTS_PER_FRIEND - len(attempts[identity_id])
    return GuessOutcome(guess=guess, player=player, attempts_left=left, guesses=guesses)


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


def _with_time_played(players: QuerySet[Player], now: datetime) -> QuerySet[Player]:
    """Annotate `played`: how long each player has been at it (until they finished, or until now)."""
    end = Coalesce(F("finished_at"), Value(now, output_field=DateTimeField()))
    return players.annotate(played=ExpressionWrapper(end - F("started_at"), output_field=DurationField()))


def ranked_players(swap: Swap, *, limit: int | None = None) -> list[Player]:
    """Return the swap's players, best first: by score, then by time taken (the top `limit` only, if given)."""
    players = _with_time_played(Player.objects.filter(swap_id=swap.pk), timezone.now()).order_by(
        "-score", "played", "pk"
    )
    return list(players if limit is None else players[:limit])


def leaderboard(swap: Swap, *, limit: int = LEADERBOARD_SIZE) -> list[dict[str, Any]]:
    """Return the top players as plain rows: names and scores only, never positions or guesses."""
    return [
        {
            "rank": rank,
            "name": player.nickname,
            # Misses and hints can take a score below zero; the public board never shows that.
            "score": max(0, player.score),
            "hits": player.hits,
            "finished": player.finished,
            "seconds": round(player.seconds_played()) if player.finished else None,
        }
        for rank, player in enumerate(ranked_players(swap, limit=limit), start=1)
    ]


def rank_of(player: Player) -> int:
    """Return the player's place on the leaderboard (1 is best): one plus the number of players ahead."""
    now = timezone.now()
    played = (player.finished_at or now) - player.started_at
    ahead = (
        Q(score__gt=player.score)
        | Q(score=player.score, played__lt=played)
        | Q(score=player.score, played=played, pk__lt=player.pk)
    )
    return 1 + _with_time_played(Player.objects.filter(swap_id=player.swap_id), now).filter(ahead).count()


def leaderboard_slot(moment: float) -> int:
    """Return the push interval a moment (Unix time) falls in."""
    return math.floor(moment / LEADERBOARD_PUSH_INTERVAL_SECONDS)


def push_leaderboard(swap: Swap) -> None:
    """Tell everyone watching this challenge that its leaderboard changed, at most once per interval.

    The first change in an interval sends one nudge naming the interval's end; watchers read the board
    then, so later changes in the same interval are shown too without a nudge of their own.
    """
    slot = leaderboard_slot(time.time())
    try:
        # The share token, not the id, names the challenge here: ids are reused by test databases.
        if not cache.add(f"play-board-push:{swap.share_token}:{slot}", 1, timeout=10):
            return  # a nudge for this interval is on its way already
        async_to_sync(get_channel_layer().group_send)(
            swap.leaderboard_group,
            {"type": "leaderboard.changed", "read_at": (slot + 1) * LEADERBOARD_PUSH_INTERVAL_SECONDS},
        )
    except Exception:
        # Live updates are a courtesy: pages load the leaderboard from the API too.
        logger.warning("could not push the leaderboard of swap %s", swap.pk, exc_info=True)


def push_leaderboard_on_commit(swap: Swap) -> None:
    transaction.on_commit(lambda: push_leaderboard(swap))


def hidden_friends(swap: Swap) -> list[dict[str, Any]]:
    """Return the hidden friends in answer-key order with a thumbnail face id; no positions."""
    hidden = swap.hidden_identity_ids()
    identities = Identity.objects.only("id", "name", "cover_id").in_bulk(hidden)
    faces: dict[int, list[Face]] = {}
    # Only what the choice needs: a face row also carries landmarks and an embedding.
    for face in Face.objects.filter(identity_id__in=hidden, ignored=False).only(
        "id", "identity_id", "quality", "usable", "thumbnail"
    ):
        faces.setdefault(face.identity_id, []).append(face)
    friends = []
    for identity_id in hidden:
        identity = identities.get(identity_id)
        candidates = faces.get(identity_id, []) if identity is not None else []
        # The same choice as Identity.cover_face, made for many identities in one query.
        cover = cover_among(candidates, identity.cover_id if identity is not None else None)
        friends.append(
            {
                "identity": identity_id,
                "name": identity.display_name if identity is not None else "A friend",
                "has_thumb": bool(cover and cover.thumbnail),
            }
        )
    return friends


def player_state(*, swap: Swap, player: Player | None, guesses: list[Guess] | None = None) -> dict[str, Any]:
    """Return what this player may see: their own guesses, score, and the answers only once finished.

    `guesses` are the player's guesses when the caller has them already (a judged click), else they are read.
    """
    friends = hidden_friends(swap)
    state: dict[str, Any] = {
        "rules": game.RULES_TEXT,
        "attempts_per_friend": game.ATTEMPTS_PER_FRIEND,
        "player": None,
        "friends": friends,
        "guesses": [],
        "answers": None,
        "rank": None,
        "hint_cost": game.HINT_COST,
        "hints": [],
        "reveal": None,
    }
    if player is None:
        for friend in friends:
            friend.update(found=False, attempts_left=game.ATTEMPTS_PER_FRIEND)
        return state
    if guesses is None:
        guesses = list(player.guesses.all())
    attempts = _attempts_by_identity(guesses)
    for friend in friends:
        tries = attempts.get(friend["identity"], [])
        found = any(g.hit for g in tries)
        friend.update(found=found, attempts_left=0 if found else game.ATTEMPTS_PER_FRIEND - len(tries))
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
        for g in guesses
    ]
    state["hints"] = [{"identity": h.identity_id, "region": h.region} for h in Hint.objects.filter(player=player)]
    if player.finished:
        state["answers"] = [{"identity": e["identity"], "box": e["box"]} for e in swap.answer_key]
        state["rank"] = rank_of(player)
        state["reveal"] = reveal.reveal_cards(swap)
    return state
