"""HTML pages for the host: crowd photos with their faces boxed, and the swap versions with sharing and boards."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from crowdswap.lib.errors import ServiceError
from rooms.access import get_room_for_owner
from rooms.models import Identity, Room
from rooms.views import report_messages
from swaps.access import get_crowd_for_owner, get_swap_for_owner
from swaps.models import CrowdPhoto, Swap
from swaps.services import crowds, play, swaps


def _box_style(box: list[float]) -> str:
    """Return CSS that places a box given in image fractions over the displayed image."""
    left, top, width, height = (round(v * 100, 3) for v in box)
    return f"left:{left}%;top:{top}%;width:{width}%;height:{height}%"


def _crop_style(box: list[float]) -> str:
    """Return CSS that shows only the boxed part of the crowd image as an element's background."""
    left, top, width, height = box
    size_x, size_y = 100 / max(width, 1e-6), 100 / max(height, 1e-6)
    pos_x = 100 * left / (1 - width) if width < 1 else 0
    pos_y = 100 * top / (1 - height) if height < 1 else 0
    return f"background-size:{size_x:.2f}% {size_y:.2f}%;background-position:{pos_x:.2f}% {pos_y:.2f}%"


# ---------------------------------------------------------------- crowds


@login_required
@require_GET
def crowd_list(request: HttpRequest, room_id: int) -> HttpResponse:
    """Show the room's crowd photos with their faces boxed, and how many friends each can host."""
    room = get_room_for_owner(request.user, room_id)
    people = crowds.visible_people(room)
    listed = [
        {
            "crowd": crowd,
            "summary": crowds.crowd_summary(crowd_photo=crowd, people=people),
            "faces": [
                {"style": _box_style(crowds.normalised_box(f, crowd.width, crowd.height)), "usable": f.can_host}
                for f in crowd.faces.all()
            ],
        }
        for crowd in CrowdPhoto.objects.filter(room=room).select_related("job")
    ]
    latest = crowds.latest_crowd_photo(room)
    lookalikes = crowds.lookalikes(room=room)
    people_rows = [
        {
            "identity": i,
            "cover": i.cover_face(),
            "lookalikes": [
                {"style": _crop_style(crowds.normalised_box(f, latest.width, latest.height)), "distance": d}
                for f, d in lookalikes.get(i.pk, [])
            ]
            if latest
            else [],
        }
        for i in room.identities.filter(hidden=False)
    ]
    context = {"room": room, "crowds": listed, "people": people, "people_rows": people_rows, "latest": latest}
    return render(request, "swaps/crowds.html", context)


@login_required
@require_POST
def crowd_upload(request: HttpRequest, room_id: int) -> HttpResponse:
    room = get_room_for_owner(request.user, room_id)
    files = request.FILES.getlist("files")
    if not files:
        messages.error(request, "Choose a crowd photo to upload.")
    else:
        report_messages(request, crowds.add_crowd_photos(room=room, files=files))
    return redirect("swaps:crowds", room.pk)


@login_required
@require_POST
def crowd_delete(request: HttpRequest, room_id: int, crowd_id: int) -> HttpResponse:
    crowds.delete_crowd_photo(crowd_photo=get_crowd_for_owner(request.user, room_id, crowd_id))
    messages.success(request, "Crowd photo deleted.")
    return redirect("swaps:crowds", room_id)


# ---------------------------------------------------------------- swaps (host)


def _swaps_back(room: Room, swap: Swap | None = None) -> HttpResponse:
    return redirect(reverse("swaps:swaps", args=[room.pk]) + (f"#swap-{swap.pk}" if swap else ""))


def _form_key(room: Room) -> str:
    return f"swap-form-{room.pk}"


def _form_choices(request: HttpRequest, room: Room, crowds_: list[CrowdPhoto], eligible: list[Identity]) -> dict:
    """Return the swap form's crowd, friends and difficulty: the host's last choices while they still apply."""
    saved = request.session.get(_form_key(room)) or {}
    by_id = {crowd.pk: crowd for crowd in crowds_}
    crowd = by_id.get(saved.get("crowd")) or swaps.best_crowd(crowds_)
    eligible_ids = [i.pk for i in eligible]
    kept = [pk for pk in saved.get("identities", []) if pk in eligible_ids]
    hosts = crowd.hosts if crowd else 0
    chosen = kept if kept else eligible_ids[:hosts]
    difficulty = (
        saved.get("difficulty") if saved.get("difficulty") in Swap.Difficulty.values else Swap.Difficulty.MEDIUM
    )
    return {"crowd": crowd, "identities": set(chosen), "difficulty": difficulty}


@login_required
@require_GET
def swap_list(request: HttpRequest, room_id: int) -> HttpResponse:
    """Show the swap form (friends, crowd), every version with progress or result, sharing and leaderboards."""
    room = get_room_for_owner(request.user, room_id)
    done = swaps.hosting_crowds(room)
    eligible = list(swaps.swappable_identities(room))
    choices = _form_choices(request, room, done, eligible)
    friends = [{"identity": i, "cover": i.cover_face(), "checked": i.pk in choices["identities"]} for i in eligible]
    names = {i.pk: i.display_name for i in Identity.objects.filter(room=room)}
    versions = []
    for swap in Swap.objects.filter(room=room).select_related("job", "crowd_photo"):
        share_url = f"{settings.SITE_URL}{reverse('play:page', args=[swap.share_token])}"
        hidden = swap.hidden_identity_ids() if swap.answer_key else [int(i) for i in swap.identity_ids]
        versions.append(
            {
                "swap": swap,
                "crowd_name": (swap.crowd_photo.original_name or "Crowd photo") if swap.crowd_photo else None,
                "friend_names": [names.get(pk, "a friend who was removed") for pk in hidden],
                "unnamed": swaps.unnamed_friends(swap) if swap.status == Swap.Status.DONE else [],
                "share_url": share_url,
                "facebook_url": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": share_url}),
                "answers": [
                    {"name": names.get(e["identity"], "A friend"), "style": _box_style(e["box"])}
                    for e in swap.answer_key
                ],
                "leaderboard": play.leaderboard(swap) if swap.status == Swap.Status.DONE else [],
            }
        )
    context = {
        "room": room,
        "crowds": done,
        "latest": done[0] if done else None,
        "choices": choices,
        "difficulties": Swap.Difficulty.choices,
        "friends": friends,
        "versions": versions,
    }
    return render(request, "swaps/room_swaps.html", context)


@login_required
@require_POST
def swap_start(request: HttpRequest, room_id: int) -> HttpResponse:
    """Start a new swap version with the ticked friends and the chosen crowd photo."""
    room = get_room_for_owner(request.user, room_id)
    crowd = request.POST.get("crowd", "")
    ids = [int(i) for i in request.POST.getlist("identities") if i.isdigit()]
    difficulty = request.POST.get("difficulty", Swap.Difficulty.MEDIUM)
    # The form shows these choices again, whether the swap starts or not.
    request.session[_form_key(room)] = {
        "crowd": int(crowd) if crowd.isdigit() else None,
        "identities": ids,
        "difficulty": difficulty,
    }
    if not crowd.isdigit():
        messages.error(request, "Choose a crowd photo first.")
        return _swaps_back(room)
    try:
        swap = swaps.start_swap(room=room, crowd_photo_id=int(crowd), identity_ids=ids, difficulty=difficulty)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _swaps_back(room)
    messages.success(request, f"Version {swap.version} is being swapped: progress shows below.")
    return _swaps_back(room, swap)


@login_required
@require_POST
def swap_action(request: HttpRequest, room_id: int, swap_id: int, action: str) -> HttpResponse:
    """Publish, unpublish, give a new link to, or discard one swap version."""
    swap = get_swap_for_owner(request.user, room_id, swap_id)
    room = swap.room
    try:
        if action == "publish":
            unnamed = swaps.unnamed_friends(swap)
            if unnamed and request.POST.get("anyway") != "1":
                # Players would be asked to find "Person 9": say so, and share only when the host insists.
                messages.warning(
                    request,
                    f"Not shared yet: {', '.join(unnamed)} {'has' if len(unnamed) == 1 else 'have'} no name, so "
                    "players would look for a number. Name them on Photos & people, or press Share anyway.",
                )
                return _swaps_back(room, swap)
            swaps.publish_swap(swap=swap)
            messages.success(request, f"Version {swap.version} is shared: copy its link below.")
        elif action == "unpublish":
            swaps.unpublish_swap(swap=swap)
            messages.success(request, f"Version {swap.version} is closed: its link says so now.")
        elif action == "regenerate":
            swaps.regenerate_share_token(swap=swap)
            messages.success(request, "New link made: the old one no longer works.")
        elif action == "discard":
            swaps.discard_swap(swap=swap)
            messages.success(request, f"Version {swap.version} deleted.")
            return _swaps_back(room)
        else:
            raise Http404("Unknown action.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return _swaps_back(room, swap)
