"""HTML pages for the host: rooms, friends' photos, people, albums and crowd photos. Thin: services do the work."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rooms import play, services
from rooms.api import album_zip_response
from rooms.models import Face, Identity, ProcessingStatus, Room
from swaps import services as crowd_services
from swaps.models import CrowdPhoto, Swap


def get_room_for_owner(request: HttpRequest, room_id: int) -> Room:
    """Return the room if the signed-in user owns it, else 404 (never say that it exists)."""
    return get_object_or_404(Room, pk=room_id, owner=request.user)


def get_identity_for_owner(request: HttpRequest, room_id: int, identity_id: int) -> Identity:
    return get_object_or_404(Identity, pk=identity_id, room=get_room_for_owner(request, room_id))


def get_face_for_owner(request: HttpRequest, room_id: int, face_id: int) -> Face:
    return get_object_or_404(Face, pk=face_id, photo__room=get_room_for_owner(request, room_id))


def _back(room: Room, anchor: str = "") -> HttpResponse:
    return redirect(reverse("rooms:detail", args=[room.pk]) + (f"#{anchor}" if anchor else ""))


def _report_messages(request: HttpRequest, report: services.UploadReport) -> None:
    if report.added:
        messages.success(request, f"{len(report.added)} uploaded; faces are being found now.")
    for outcome in report.duplicates:
        messages.info(request, f"{outcome.name}: already uploaded.")
    for outcome in report.rejected:
        messages.error(request, f"{outcome.name}: {outcome.error}")


# ---------------------------------------------------------------- rooms


@login_required
@require_http_methods(["GET", "POST"])
def room_list(request: HttpRequest) -> HttpResponse:
    """List the user's rooms and create a new one."""
    error = ""
    if request.method == "POST":
        try:
            room = services.create_room(
                owner=request.user,
                title=request.POST.get("title", ""),
                description=request.POST.get("description", ""),
            )
        except services.ServiceError as exc:
            error = exc.message
        else:
            return redirect("rooms:detail", room.pk)
    rooms = [(room, services.room_cover_face(room)) for room in services.rooms_for_owner(request.user)]
    return render(request, "rooms/list.html", {"rooms": rooms, "error": error}, status=400 if error else 200)


@login_required
@require_GET
def room_detail(request: HttpRequest, room_id: int) -> HttpResponse:
    """Show a room: upload zone, photos and their state, the people found in them."""
    room = get_room_for_owner(request, room_id)
    identities = []
    for identity in services.identities_for_room(room):
        faces = list(identity.faces.filter(ignored=False).select_related("photo"))
        identities.append({"identity": identity, "faces": faces, "cover": services.representative_face(identity)})
    context = {
        "room": room,
        "photos": list(room.photos.all()),
        "identities": identities,
        "ignored_faces": list(Face.objects.filter(photo__room=room, ignored=True)),
        "crowd": services.latest_crowd_photo(room),
    }
    return render(request, "rooms/detail.html", context)


@login_required
@require_POST
def room_update(request: HttpRequest, room_id: int) -> HttpResponse:
    """Rename a room or change its description."""
    room = get_room_for_owner(request, room_id)
    try:
        services.update_room(
            room=room, title=request.POST.get("title", room.title), description=request.POST.get("description")
        )
    except services.ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Room saved.")
    return _back(room)


@login_required
@require_http_methods(["GET", "POST"])
def room_delete(request: HttpRequest, room_id: int) -> HttpResponse:
    """Ask, then delete a room with every photo and file it owns."""
    room = get_room_for_owner(request, room_id)
    if request.method == "POST":
        title = room.title
        services.delete_room(room=room)
        messages.success(request, f"Deleted “{title}” and all its photos.")
        return redirect("rooms:list")
    return render(request, "rooms/confirm_delete.html", {"room": room, "photo_count": room.photos.count()})


# ---------------------------------------------------------------- photos


@login_required
@require_POST
def photo_upload(request: HttpRequest, room_id: int) -> HttpResponse:
    """Accept photos from the plain form (the page's script uploads through the API instead)."""
    room = get_room_for_owner(request, room_id)
    files = request.FILES.getlist("files")
    if not files:
        messages.error(request, "Choose at least one photo to upload.")
    else:
        _report_messages(request, services.add_photos(room=room, files=files))
    return _back(room, "photos")


@login_required
@require_POST
def photo_delete(request: HttpRequest, room_id: int, photo_id: int) -> HttpResponse:
    room = get_room_for_owner(request, room_id)
    photo = get_object_or_404(room.photos, pk=photo_id)
    services.delete_photo(photo=photo)
    messages.success(request, "Photo deleted.")
    return _back(room, "photos")


# ---------------------------------------------------------------- identities


@login_required
@require_POST
def identity_rename(request: HttpRequest, room_id: int, identity_id: int) -> HttpResponse:
    identity = get_identity_for_owner(request, room_id, identity_id)
    services.rename_identity(identity=identity, name=request.POST.get("name", ""))
    return _back(identity.room, f"identity-{identity.pk}")


@login_required
@require_POST
def identity_hide(request: HttpRequest, room_id: int, identity_id: int) -> HttpResponse:
    identity = get_identity_for_owner(request, room_id, identity_id)
    hidden = request.POST.get("hidden", "1") not in {"0", "false", ""}
    services.set_identity_hidden(identity=identity, hidden=hidden)
    return _back(identity.room, f"identity-{identity.pk}")


@login_required
@require_POST
def identity_merge(request: HttpRequest, room_id: int) -> HttpResponse:
    room = get_room_for_owner(request, room_id)
    try:
        ids = [int(i) for i in request.POST.getlist("identities")]
        identity = services.merge_identities(room=room, identity_ids=ids, name=request.POST.get("name"))
    except ValueError:
        messages.error(request, "Choose the people to merge.")
        return _back(room, "people")
    except services.ServiceError as exc:
        messages.error(request, exc.message)
        return _back(room, "people")
    messages.success(request, f"Merged into {identity.display_name}.")
    return _back(room, f"identity-{identity.pk}")


@login_required
@require_POST
def face_move(request: HttpRequest, room_id: int, face_id: int) -> HttpResponse:
    face = get_face_for_owner(request, room_id, face_id)
    room = face.photo.room
    target_id = request.POST.get("identity", "")
    target = None
    if target_id not in {"", "new"}:
        target = Identity.objects.filter(pk=target_id, room=room).first() if target_id.isdigit() else None
        if target is None:
            messages.error(request, "That person is not in this room any more. Reload the page and try again.")
            return _back(room, "people")
    try:
        identity = services.move_face(face=face, identity=target)
    except services.ServiceError as exc:
        messages.error(request, exc.message)
        return _back(room, "people")
    return _back(room, f"identity-{identity.pk}")


@login_required
@require_POST
def face_ignore(request: HttpRequest, room_id: int, face_id: int) -> HttpResponse:
    face = get_face_for_owner(request, room_id, face_id)
    ignored = request.POST.get("ignored", "1") not in {"0", "false", ""}
    services.ignore_face(face=face, ignored=ignored)
    return _back(face.photo.room, "people")


# ---------------------------------------------------------------- albums


@login_required
@require_GET
def album_list(request: HttpRequest, room_id: int) -> HttpResponse:
    """Show each visible person's photos with a ZIP download."""
    room = get_room_for_owner(request, room_id)
    albums = [
        {"identity": identity, "photos": list(services.album_photos(identity))}
        for identity in services.album_identities(room)
    ]
    return render(request, "rooms/albums.html", {"room": room, "albums": albums})


@login_required
@require_GET
def album_zip(request: HttpRequest, room_id: int, identity_id: int) -> StreamingHttpResponse:
    identity = get_object_or_404(Identity, pk=identity_id, room=get_room_for_owner(request, room_id), hidden=False)
    return album_zip_response(identity)


# ---------------------------------------------------------------- crowds


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


@login_required
@require_GET
def crowd_list(request: HttpRequest, room_id: int) -> HttpResponse:
    """Show the room's crowd photos with their faces boxed, and how many friends each can host."""
    room = get_room_for_owner(request, room_id)
    people = crowd_services.visible_people(room)
    crowds = [
        {
            "crowd": crowd,
            "summary": crowd_services.crowd_summary(crowd_photo=crowd, people=people),
            "faces": [
                {"style": _box_style(crowd_services.normalised_box(f, crowd.width, crowd.height)), "usable": f.usable}
                for f in crowd.faces.all()
            ],
        }
        for crowd in CrowdPhoto.objects.filter(room=room)
    ]
    latest = services.latest_crowd_photo(room)
    lookalikes = services.lookalikes(room=room)
    people_rows = [
        {
            "identity": i,
            "cover": services.representative_face(i),
            "lookalikes": [
                {"style": _crop_style(crowd_services.normalised_box(f, latest.width, latest.height)), "distance": d}
                for f, d in lookalikes.get(i.pk, [])
            ],
        }
        for i in room.identities.filter(hidden=False)
    ]
    context = {"room": room, "crowds": crowds, "people": people, "people_rows": people_rows, "latest": latest}
    return render(request, "rooms/crowds.html", context)


@login_required
@require_POST
def crowd_upload(request: HttpRequest, room_id: int) -> HttpResponse:
    room = get_room_for_owner(request, room_id)
    files = request.FILES.getlist("files")
    if not files:
        messages.error(request, "Choose a crowd photo to upload.")
    else:
        _report_messages(request, crowd_services.add_crowd_photos(room=room, files=files))
    return redirect("rooms:crowds", room.pk)


@login_required
@require_POST
def crowd_delete(request: HttpRequest, room_id: int, crowd_id: int) -> HttpResponse:
    room = get_room_for_owner(request, room_id)
    crowd_services.delete_crowd_photo(crowd_photo=get_object_or_404(CrowdPhoto, pk=crowd_id, room=room))
    messages.success(request, "Crowd photo deleted.")
    return redirect("rooms:crowds", room.pk)


# ---------------------------------------------------------------- swaps (host)


def get_swap_for_owner(request: HttpRequest, room_id: int, swap_id: int) -> Swap:
    """Return one swap version of the user's room, else 404."""
    return get_object_or_404(Swap, pk=swap_id, room=get_room_for_owner(request, room_id))


def _swaps_back(room: Room, swap: Swap | None = None) -> HttpResponse:
    return redirect(reverse("rooms:swaps", args=[room.pk]) + (f"#swap-{swap.pk}" if swap else ""))


@login_required
@require_GET
def swap_list(request: HttpRequest, room_id: int) -> HttpResponse:
    """Show the swap form (friends, crowd), every version with progress or result, sharing and leaderboards."""
    room = get_room_for_owner(request, room_id)
    crowds = list(CrowdPhoto.objects.filter(room=room, status=ProcessingStatus.DONE))
    latest = crowds[0] if crowds else None
    hosts = latest.faces.filter(usable=True).count() if latest else 0
    eligible = list(crowd_services.swappable_identities(room))
    friends = [
        {"identity": i, "cover": services.representative_face(i), "checked": index < hosts}
        for index, i in enumerate(eligible)
    ]
    names = {i.pk: i.display_name for i in Identity.objects.filter(room=room)}
    versions = []
    for swap in Swap.objects.filter(room=room).select_related("job"):
        play_path = reverse("play:page", args=[swap.share_token])
        share_url = f"{settings.SITE_URL}{play_path}"
        versions.append(
            {
                "swap": swap,
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
        "crowds": crowds,
        "latest": latest,
        "hosts": hosts,
        "friends": friends,
        "versions": versions,
    }
    return render(request, "swaps/room_swaps.html", context)


@login_required
@require_POST
def swap_start(request: HttpRequest, room_id: int) -> HttpResponse:
    """Start a new swap version with the ticked friends and the chosen crowd photo."""
    room = get_room_for_owner(request, room_id)
    crowd = CrowdPhoto.objects.filter(room=room, pk=request.POST.get("crowd") or 0).first()
    if crowd is None:
        messages.error(request, "Choose a crowd photo first.")
        return _swaps_back(room)
    ids = [int(i) for i in request.POST.getlist("identities") if i.isdigit()]
    identities = list(Identity.objects.filter(room=room, pk__in=ids))
    try:
        swap = crowd_services.start_swap(room=room, crowd_photo=crowd, identities=identities)
    except services.ServiceError as exc:
        messages.error(request, exc.message)
        return _swaps_back(room)
    messages.success(request, f"Version {swap.version} is being swapped: progress shows below.")
    return _swaps_back(room, swap)


@login_required
@require_POST
def swap_action(request: HttpRequest, room_id: int, swap_id: int, action: str) -> HttpResponse:
    """Publish, unpublish, give a new link to, or discard one swap version."""
    swap = get_swap_for_owner(request, room_id, swap_id)
    room = swap.room
    try:
        if action == "publish":
            crowd_services.publish_swap(swap=swap)
            messages.success(request, f"Version {swap.version} is shared: copy its link below.")
        elif action == "unpublish":
            crowd_services.unpublish_swap(swap=swap)
            messages.success(request, f"Version {swap.version} is closed: its link says so now.")
        elif action == "regenerate":
            crowd_services.regenerate_share_token(swap=swap)
            messages.success(request, "New link made: the old one no longer works.")
        elif action == "discard":
            crowd_services.discard_swap(swap=swap)
            messages.success(request, f"Version {swap.version} deleted.")
            return _swaps_back(room)
        else:
            raise Http404("Unknown action.")
    except services.ServiceError as exc:
        messages.error(request, exc.message)
    return _swaps_back(room, swap)
