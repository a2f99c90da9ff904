"""Hints: a player pays points to see the area of the picture that holds one hidden friend.

Judged and charged on the server, like a guess: the region comes from the answer key, which never
leaves the server, and is only ever a region several faces wide around the face, never the box.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from crowdswap.lib.errors import Conflict, ServiceError
from swaps import game
from swaps.models import Hint, Player
from swaps.services.play import ensure_open, push_leaderboard_on_commit


@dataclass(frozen=True)
class HintOutcome:
    hint: Hint
    player: Player
    charged: bool  # False when the player had already paid for this hint (a double tap)


def take_hint(*, player: Player, identity_id: int) -> HintOutcome:
    """Show the player the region that holds one hidden friend, and charge the hint's cost once."""
    identity_id = int(identity_id)
    with transaction.atomic():
        # The same row lock as a guess: a hint and a click of one player never interleave.
        player = Player.objects.select_for_update().select_related("swap").get(pk=player.pk)
        swap = player.swap
        ensure_open(swap)
        box = swap.answer_for(identity_id)
        if box is None:
            raise ServiceError("That person is not hidden in this picture.")
        existing = Hint.objects.filter(player=player, identity_id=identity_id).first()
        if existing is not None:
            return HintOutcome(hint=existing, player=player, charged=False)
        if player.finished:
            raise Conflict("You have finished this challenge: the answers are shown already.")
        tries = list(player.guesses.filter(identity_id=identity_id).values_list("hit", flat=True))
        if any(tries):
            raise Conflict("You already found this friend.")
        if len(tries) >= game.ATTEMPTS_PER_FRIEND:
            raise Conflict(f"You used all {game.ATTEMPTS_PER_FRIEND} tries for this friend.")
        hint = Hint.objects.create(
            player=player, identity_id=identity_id, region=list(game.hint_region(game.as_box(box))), cost=game.HINT_COST
        )
        Player.objects.filter(pk=player.pk).update(score=F("score") - hint.cost)
        player.score -= hint.cost
        push_leaderboard_on_commit(swap)
    return HintOutcome(hint=hint, player=player, charged=True)
