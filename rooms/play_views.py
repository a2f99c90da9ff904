"""Public pages and files of a shared challenge (/play/<token>/): only published swaps, only what players need."""

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from rooms import game, play
from rooms.api import file_response
from rooms.models import Identity
from rooms.play_api import session_key
from rooms.services import representative_face
from swaps.models import Swap


def get_published_swap(token: str) -> Swap:
    """Return the playable swap behind a share token; 404 for unknown, closed or unfinished ones."""
    swap = get_object_or_404(Swap.objects.select_related("room"), share_token=token)
    if not swap.is_playable:
        raise Http404("This challenge is closed.")
    return swap


def absolute(path: str) -> str:
    """Return an absolute URL on the public site (link previews need them)."""
    return f"{settings.SITE_URL}{path}"


@require_GET
def play_page(request: HttpRequest, token: str) -> HttpResponse:
    """Show the challenge: the picture, the hidden friends, the player's progress and the leaderboard."""
    swap = get_object_or_404(Swap.objects.select_related("room"), share_token=token)
    if not swap.is_playable:
        return render(request, "play/closed.html", {"message": play.CLOSED_MESSAGE}, status=410)
    player = play.find_player(swap=swap, user=request.user, session_key=session_key(request))
    state = play.player_state(swap=swap, player=player)
    hidden = len(state["friends"])
    context = {
        "swap": swap,
        "state": state,
        "rules": game.RULES_TEXT,
        "og": {
            "title": f"Can you find {hidden} friend{'s' if hidden != 1 else ''} in this crowd?",
            "description": f"{swap.room.title}: friends are hidden in the crowd. Find them, beat the leaderboard.",
            "url": absolute(reverse("play:page", args=[token])),
            "image": absolute(reverse("play:preview", args=[token])),
        },
        "urls": {
            "state": reverse("api-play-state", args=[token]),
            "join": reverse("api-play-join", args=[token]),
            "guess": reverse("api-play-guess", args=[token]),
            "give_up": reverse("api-play-give-up", args=[token]),
            "leaderboard": reverse("api-play-leaderboard", args=[token]),
            "image": reverse("play:image", args=[token]),
            "socket": f"/ws/play/{token}/",
            "thumb": reverse("play:friend-thumb", args=[token, 0]).replace("/0/", "/{id}/"),
        },
    }
    return render(request, "play/play.html", context)


@require_GET
def play_image(request: HttpRequest, token: str) -> FileResponse:
    """Serve the swapped picture of a published challenge."""
    return file_response(get_published_swap(token).image)


@require_GET
def play_preview(request: HttpRequest, token: str) -> FileResponse:
    """Serve the 1200x630 link preview of a published challenge (fetched by Facebook's crawler)."""
    response = file_response(get_published_swap(token).preview)
    response["Cache-Control"] = "public, max-age=600"
    return response


@require_GET
def play_friend_thumb(request: HttpRequest, token: str, identity_id: int) -> FileResponse:
    """Serve the face thumbnail of one friend hidden in a published challenge, and of nobody else."""
    swap = get_published_swap(token)
    if identity_id not in swap.hidden_identity_ids():
        raise Http404("Not hidden in this challenge.")
    identity = get_object_or_404(Identity, pk=identity_id, room=swap.room)
    face = representative_face(identity)
    if face is None:
        raise Http404("No picture of this friend.")
    return file_response(face.thumbnail)
