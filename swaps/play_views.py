"""Public pages and files of a shared challenge (/play/<token>/): only published swaps, only what players need."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from crowdswap.lib.errors import Gone, ServiceError
from crowdswap.lib.files import serve_file
from rooms.models import Identity
from swaps import game
from swaps.access import get_published_swap
from swaps.browsers import ensure_browser_id, remember_browser
from swaps.models import Swap
from swaps.play_api import session_key
from swaps.serializers import facebook_share_url
from swaps.services import play, reveal

# Link previews are fetched by crawlers again and again; the picture never changes under its name.
PREVIEW_MAX_AGE = 600


def absolute(path: str) -> str:
    """Return an absolute URL on the public site (link previews need them)."""
    return f"{settings.SITE_URL}{path}"


def _playable_or_404(token: str) -> Swap:
    """Return the published swap behind a token; files of a closed challenge are simply not there."""
    try:
        return get_published_swap(token)
    except Gone as exc:
        raise Http404(exc.message) from exc


UNKNOWN_LINK_MESSAGE = "This link does not lead to a challenge any more: the host deleted it or made a new link."


def closed_page(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """Show the one friendly page for every link that leads to no game (closed, deleted or never existed)."""
    return render(request, "play/closed.html", {"message": message}, status=status)


@require_GET
def play_page(request: HttpRequest, token: str) -> HttpResponse:
    """Show the challenge: the picture, the hidden friends, the player's progress and the leaderboard."""
    try:
        swap = get_published_swap(token)
    except Gone as exc:
        return closed_page(request, exc.message, 410)
    except Http404:
        return closed_page(request, UNKNOWN_LINK_MESSAGE, 404)
    # The browser cookie is issued with the page, so a double click on "Play" already carries it.
    player = play.find_player(
        swap=swap, user=request.user, session_key=session_key(request), browser_id=ensure_browser_id(request)
    )
    state = play.player_state(swap=swap, player=player)
    hidden = len(state["friends"])
    page_url = absolute(reverse("play:page", args=[token]))
    context = {
        "swap": swap,
        "state": state,
        "og": {
            "title": f"Can you find {hidden} friend{'s' if hidden != 1 else ''} in this crowd?",
            "description": f"{swap.room.title}: friends are hidden in the crowd. Find them, beat the leaderboard.",
            "url": page_url,
            "image": absolute(reverse("play:preview", args=[token])),
        },
        "share": {"url": page_url, "facebook": facebook_share_url(page_url)},
        "timing": {"bonus_max": game.TIME_BONUS_MAX, "bonus_window": game.TIME_BONUS_WINDOW_SECONDS},
        "urls": {
            "join": reverse("api-play-join", args=[token]),
            "guess": reverse("api-play-guess", args=[token]),
            "hint": reverse("api-play-hint", args=[token]),
            "give_up": reverse("api-play-give-up", args=[token]),
            "leaderboard": reverse("api-play-leaderboard", args=[token]),
            "image": reverse("play:image", args=[token]),
            # The reveal's crops, one per friend and side: the script fills in the friend and the side.
            "reveal": reverse("play:reveal", args=[token, 0, "after"]).replace("/0/after", "/{identity}/{which}"),
            "socket": f"/ws/play/{token}/",
            "make_your_own": reverse("rooms:list") if request.user.is_authenticated else reverse("account_signup"),
        },
    }
    return remember_browser(request, render(request, "play/play.html", context))


@require_GET
def play_image(request: HttpRequest, token: str) -> HttpResponse:
    """Serve the swapped picture of a published challenge."""
    return serve_file(_playable_or_404(token).image)


@require_GET
def play_preview(request: HttpRequest, token: str) -> HttpResponse:
    """Serve the 1200x630 link preview of a published challenge (fetched by Facebook's crawler)."""
    return serve_file(_playable_or_404(token).preview, public_max_age=PREVIEW_MAX_AGE)


@require_GET
def play_friend_thumb(request: HttpRequest, token: str, identity_id: int) -> HttpResponse:
    """Serve the face thumbnail of one friend hidden in a published challenge, and of nobody else."""
    swap = _playable_or_404(token)
    if identity_id not in swap.hidden_identity_ids():
        raise Http404("Not hidden in this challenge.")
    face = get_object_or_404(Identity, pk=identity_id, room=swap.room).cover_face()
    if face is None:
        raise Http404("No picture of this friend.")
    return serve_file(face.thumbnail)


@require_GET
def play_reveal_crop(request: HttpRequest, token: str, identity_id: int, which: str) -> HttpResponse:
    """Serve one friend's face, after or before the swap, to a player of this browser who has finished."""
    swap = _playable_or_404(token)
    player = play.find_player(swap=swap, user=request.user, session_key=session_key(request))
    if player is None or not player.finished:
        # The crop would show who the friend's crowd face is: nobody gets it before they finish.
        return HttpResponseForbidden("Finish the challenge to see the answers.", content_type="text/plain")
    try:
        jpeg = reveal.crop_jpeg(swap=swap, identity_id=identity_id, which=which)
    except ServiceError as exc:
        raise Http404(exc.message) from exc
    response = HttpResponse(jpeg, content_type="image/jpeg")
    patch_cache_control(response, private=True, max_age=3600)
    return response
