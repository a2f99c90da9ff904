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
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from crowdswap.lib.errors import Conflict, Gone, RateLimited, ServiceError
from rooms.models import Face, Identity, cover_among
from swaps import game, nicknames
from swaps.models import Guess, Hint, Player, Swap
from swaps.services import reveal

logger = logging.getLogger(__name__)

# At most this many guesses per player within the window: enough for a fast human, not for a script.
GUESS_RATE_LIMIT = 5
GUESS_RATE_WINDOW_SECONDS = 5
# And per client network and challenge, for the few players one network may have.
GUESS_RATE_LIMIT_PER_CLIENT = 15
NICKNAME_MAX = nicknames.NICKNAME_MAX
OFF_BOARD_MESSAGE = (
    "This browser, account or network has already seen the answers to this challenge, "
    "so this game is played off the leaderboard."
)
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


def find_player(*, swap: Swap, user: Any = None, session_key: str | None = None, browser_id: str = "") -> Player | None:
    """Return the player of this browser: by account when signed in, else by browser cookie, then session."""
    if user is not None and user.is_authenticated:
        return Player.objects.filter(swap=swap, user=user).first()
    guests = Player.objects.filter(swap=swap, user__isnull=True)
    if browser_id:
        found = guests.filter(browser_id=browser_id).first()
        if found is not None:
            return found
    if session_key:
        return guests.filter(session_key=session_key).first()
    return None


def _signed_in_kind(user: Any) -> str:
    socialaccounts = getattr(user, "socialaccount_set", None)
    if socialaccounts is not None and socialaccounts.filter(provider="facebook").exists():
        return Player.Kind.FACEBOOK
    return Player.Kind.ACCOUNT


def _has_seen_answers(*, swap: Swap, user: Any, browser_id: str, client_key: str) -> bool:
    """Return whether this account, browser or network has a finished game here (finishing shows the answers)."""
    seen = Q(pk__in=[])
    if user is not None and user.is_authenticated:
        seen |= Q(user=user)
    if browser_id:
        seen |= Q(browser_id=browser_id)
    if client_key:
        seen |= Q(client_key=client_key)
    return Player.objects.filter(swap=swap, finished_at__isnull=False).filter(seen).exists()


def _free_account_name(swap: Swap, name: str) -> str:
    """Return the account's name, numbered if a guest already plays under it here ("Sam 2")."""
    taken = set(Player.objects.filter(swap=swap).values_list("nickname_key", flat=True))
    candidate, number = name, 1
    while nicknames.key(candidate) in taken:
        number += 1
        candidate = f"{name[: NICKNAME_MAX - 4]} {number}"
    return candidate


def join_game(**kwargs: Any) -> Player:
    """Start playing or resume (see join_or_resume); return the player."""
    return join_or_resume(**kwargs)[0]


def join_or_resume(
    *,
    swap: Swap,
    user: Any = None,
    session_key: str | None = None,
    nickname: str = "",
    browser_id: str = "",
    client_key: str = "",
) -> tuple[Player, bool]:
    """Start playing, or return the game this account, browser or session already started (reloading resumes).

    Return the player and whether this call created it.

    Joining is idempotent (a double click or concurrent joins make one player), limited per client network
    (settings.PLAY_JOINS_PER_CLIENT), and a browser, account or network that has seen the answers plays off
    the leaderboard.
    """
    ensure_open(swap)
    existing = find_player(swap=swap, user=user, session_key=session_key, browser_id=browser_id)
    if existing is not None:
        return existing, False
    signed_in = user is not None and user.is_authenticated
    if signed_in:
        name = nicknames.account_nickname(
            (user.get_full_name() if hasattr(user, "get_full_name") else "") or user.get_username()
        )
    else:
        owner = swap.room.owner
        name = nicknames.guest_nickname(
            nickname, host_names=[owner.get_username(), getattr(owner, "get_full_name", lambda: "")()]
        )
        if not session_key and not browser_id:
            raise ServiceError("Your browser did not keep a session. Allow cookies for this site and reload.")
    try:
        with transaction.atomic():
            # One join at a time per challenge: the checks below then hold for the row written after them.
            Swap.objects.select_for_update().filter(pk=swap.pk).exists()
            existing = find_player(swap=swap, user=user, session_key=session_key, browser_id=browser_id)
            if existing is not None:
                return existing, False
            limit = settings.PLAY_JOINS_PER_CLIENT
            if client_key and Player.objects.filter(swap=swap, client_key=client_key).count() >= limit:
                raise RateLimited(
                    f"{limit} players have already joined this challenge from your network, the most allowed. "
                    "Play on from a browser that has joined, or sign in on it."
                )
            if signed_in:
                name = _free_account_name(swap, name)
            elif Player.objects.filter(swap=swap, nickname_key=nicknames.key(name)).exists():
                raise Conflict(f"“{name}” is already playing this challenge. Choose another nickname.")
            player = Player.objects.create(
                swap=swap,
                user=user if signed_in else None,
                kind=_signed_in_kind(user) if signed_in else Player.Kind.GUEST,
                session_key="" if signed_in else (session_key or ""),
                browser_id=browser_id,
                client_key=client_key,
                nickname=name,
                nickname_key=nicknames.key(name),
                ranked=not _has_seen_answers(swap=swap, user=user, browser_id=browser_id, client_key=client_key),
            )
    except IntegrityError:
        # Joined twice at once past the lock (or a nickname taken in the same instant): the first one wins.
        player = find_player(swap=swap, user=user, session_key=session_key, browser_id=browser_id)
        if player is None:
            raise Conflict("That nickname was taken a moment ago. Choose another nickname.") from None
        return player, False
    push_leaderboard_on_commit(swap)
    return player, True


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


def _count_in_window(key: str) -> int:
    """Count one event in a fixed window; return how many the window holds now."""
    # add() starts the window only if it is not running; incr() then counts within it.
    if cache.add(key, 1, timeout=GUESS_RATE_WINDOW_SECONDS):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # the window expired between add and incr
        cache.set(key, 1, timeout=GUESS_RATE_WINDOW_SECONDS)
        return 1


def _check_rate(player: Player, client_key: str = "") -> None:
    if _count_in_window(f"play-guess-rate:{player.pk}") > GUESS_RATE_LIMIT:
        raise RateLimited(f"Slow down: at most {GUESS_RATE_LIMIT} guesses every {GUESS_RATE_WINDOW_SECONDS} seconds.")
    client = client_key or player.client_key
    if client and _count_in_window(f"play-guess-rate:{player.swap_id}:{client}") > GUESS_RATE_LIMIT_PER_CLIENT:
        raise RateLimited(
            f"Slow down: at most {GUESS_RATE_LIMIT_PER_CLIENT} guesses every {GUESS_RATE_WINDOW_SECONDS} seconds "
            "from one network."
        )


def make_guess(*, player: Player, identity_id: int, x: float, y: float, client_key: str = "") -> GuessOutcome:
    """Judge one click (normalised x, y) for one hidden friend, record it and update the score."""
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        raise ServiceError("Click inside the picture.")
    # Before any database work: a flood of clicks is refused for the price of a cache round trip.
    _check_rate(player, client_key)
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
    players = _with_time_played(Player.objects.filter(swap_id=swap.pk, ranked=True), timezone.now()).order_by(
        "-score", "played", "pk"
    )
    return list(players if limit is None else players[:limit])


def leaderboard(swap: Swap, *, limit: int = LEADERBOARD_SIZE) -> list[dict[str, Any]]:
    """Return the top players as plain rows: names and scores only, never positions or guesses."""
    return [
        {
            "rank": rank,
            "name": player.nickname,
            "kind": player.kind,  # "guest", "account" or "facebook": how the player is known
            # Misses and hints can take a score below zero; the public board never shows that.
            "score": max(0, player.score),
            "hits": player.hits,
            "finished": player.finished,
            "seconds": round(player.seconds_played()) if player.finished else None,
        }
        for rank, player in enumerate(ranked_players(swap, limit=limit), start=1)
    ]


def rank_of(player: Player) -> int | None:
    """Return the player's place on the leaderboard (1 is best), or None for a game played off the board."""
    if not player.ranked:
        return None
    now = timezone.now()
    played = (player.finished_at or now) - player.started_at
    ahead = (
        Q(score__gt=player.score)
        | Q(score=player.score, played__lt=played)
        | Q(score=player.score, played=played, pk__lt=player.pk)
    )
    return 1 + _with_time_played(Player.objects.filter(swap_id=player.swap_id, ranked=True), now).filter(ahead).count()


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
        "kind": player.kind,
        "ranked": player.ranked,
        "off_board_reason": "" if player.ranked else OFF_BOARD_MESSAGE,
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
