"""HTML pages for the host: rooms, friends' photos, people and albums. Thin: access helpers find, services do."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crowdswap.lib.errors import ServiceError
from rooms.access import (
    get_edit_for_owner,
    get_face_for_owner,
    get_identity_for_owner,
    get_photo_for_owner,
    get_room_for_owner,
)
from rooms.models import Face, Room, cover_among
from rooms.services import albums, identities, photos, rooms
from rooms.services.uploads import UploadReport


def _back(room: Room, anchor: str = "") -> HttpResponse:
    return redirect(reverse("rooms:detail", args=[room.pk]) + (f"#{anchor}" if anchor else ""))


def report_messages(request: HttpRequest, report: UploadReport) -> None:
    """Tell the host, as page messages, what happened to each uploaded file."""
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
            room = rooms.create_room(
                owner=request.user,
                title=request.POST.get("title", ""),
                description=request.POST.get("description", ""),
            )
        except ServiceError as exc:
            error = exc.message
        else:
            return redirect("rooms:detail", room.pk)
    listed = [(room, rooms.room_cover_face(room)) for room in rooms.rooms_for_owner(request.user)]
    return render(request, "rooms/list.html", {"rooms": listed, "error": error}, status=400 if error else 200)


def _people_context(room: Room) -> dict:
    """Return what the people section shows: each person with their faces and cover, and ignored faces."""
    people = []
    for identity in identities.identities_for_room(room):
        faces = list(identity.faces.filter(ignored=False).select_related("photo"))
        people.append({"identity": identity, "faces": faces, "cover": cover_among(faces, identity.cover_id)})
    return {
        "room": room,
        "identities": people,
        "suggestions": [
            {"first": a, "second": b, "first_cover": a.cover_face(), "second_cover": b.cover_face()}
            for a, b, _ in identities.merge_suggestions(room)
        ],
        "ignored_faces": list(Face.objects.filter(photo__room=room, ignored=True)),
    }


@login_required
@require_GET
def room_detail(request: HttpRequest, room_id: int) -> HttpResponse:
    """Show a room: upload zone, photos and their state, the people found in them."""
    room = get_room_for_owner(request.user, room_id)
    context = {**_people_context(room), "photos": list(room.photos.select_related("job"))}
    return render(request, "rooms/detail.html", context)


@login_required
@require_GET
def room_people(request: HttpRequest, room_id: int) -> HttpResponse:
    """Return the people section alone, for the page to swap in after an edit (no reload, no scroll jump)."""
    room = get_room_for_owner(request.user, room_id)
    return render(request, "rooms/_people.html", _people_context(room))


@login_required
@require_POST
def room_update(request: HttpRequest, room_id: int) -> HttpResponse:
    """Rename a room or change its description."""
    room = get_room_for_owner(request.user, room_id)
    try:
        rooms.update_room(
            room=room, title=request.POST.get("title", room.title), description=request.POST.get("description")
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Room saved.")
    return _back(room)


@login_required
@require_http_methods(["GET", "POST"])
def room_delete(request: HttpRequest, room_id: int) -> HttpResponse:
    """Ask, then delete a room with every photo and file it owns."""
    room = get_room_for_owner(request.user, room_id)
    if request.method == "POST":
        title = room.title
        rooms.delete_room(room=room)
        messages.success(request, f"Deleted “{title}” and all its photos.")
        return redirect("rooms:list")
    return render(request, "rooms/confirm_delete.html", {"room": room, "photo_count": room.photos.count()})


# ---------------------------------------------------------------- photos


@login_required
@require_POST
def photo_upload(request: HttpRequest, room_id: int) -> HttpResponse:
    """Accept photos from the plain form (the page's script uploads through the API instead)."""
    room = get_room_for_owner(request.user, room_id)
    files = request.FILES.getlist("files")
    if not files:
        messages.error(request, "Choose at least one photo to upload.")
    else:
        report_messages(request, photos.add_photos(room=room, files=files))
    return _back(room, "photos")


@login_required
@require_POST
def photo_delete(request: HttpRequest, room_id: int, photo_id: int) -> HttpResponse:
    photo = get_photo_for_owner(request.user, room_id, photo_id)
    photos.delete_photo(photo=photo)
    messages.success(request, "Photo deleted.")
    return _back(photo.room, "photos")


# ---------------------------------------------------------------- identities


@login_required
@require_POST
def identity_rename(request: HttpRequest, room_id: int, identity_id: int) -> HttpResponse:
    identity = get_identity_for_owner(request.user, room_id, identity_id)
    try:
        identities.rename_identity(identity=identity, name=request.POST.get("name", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return _back(identity.room, f"identity-{identity.pk}")


@login_required
@require_POST
def identity_hide(request: HttpRequest, room_id: int, identity_id: int) -> HttpResponse:
    identity = get_identity_for_owner(request.user, room_id, identity_id)
    hidden = request.POST.get("hidden", "1") not in {"0", "false", ""}
    try:
        identities.set_identity_hidden(identity=identity, hidden=hidden)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return _back(identity.room, f"identity-{identity.pk}")


@login_required
@require_POST
def identity_merge(request: HttpRequest, room_id: int) -> HttpResponse:
    room = get_room_for_owner(request.user, room_id)
    ids = [int(i) for i in request.POST.getlist("identities") if i.isdigit()]
    try:
        edit = identities.merge_identities(room=room, identity_ids=ids, name=request.POST.get("name"))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _back(room, "people")
    messages.success(request, f"Merged into {edit.identity.display_name}.")
    return _back(room, f"identity-{edit.identity_id}")


@login_required
@require_POST
def identity_cover(request: HttpRequest, room_id: int, identity_id: int) -> HttpResponse:
    identity = get_identity_for_owner(request.user, room_id, identity_id)
    face = request.POST.get("face", "")
    try:
        identities.set_identity_cover(identity=identity, face_id=int(face) if face.isdigit() else None)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return _back(identity.room, f"identity-{identity.pk}")


@login_required
@require_POST
def edit_undo(request: HttpRequest, room_id: int, edit_id: int) -> HttpResponse:
    edit = get_edit_for_owner(request.user, room_id, edit_id)
    try:
        identities.undo_edit(edit=edit)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Undone.")
    return _back(edit.room, "people")


@login_required
@require_POST
def identity_keep_apart(request: HttpRequest, room_id: int) -> HttpResponse:
    """Answer a merge suggestion with "two people": the pair is not suggested again."""
    room = get_room_for_owner(request.user, room_id)
    ids = [int(i) for i in request.POST.getlist("identities") if i.isdigit()]
    try:
        identities.keep_apart(room=room, identity_ids=ids)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return _back(room, "people")


@login_required
@require_POST
def face_move(request: HttpRequest, room_id: int, face_id: int) -> HttpResponse:
    face = get_face_for_owner(request.user, room_id, face_id)
    target = request.POST.get("identity", "")
    # "new" (or nothing) moves the face out into a new person; anything else must name a person of the room.
    identity_id = None if target in {"", "new"} else int(target) if target.isdigit() else 0
    try:
        edit = identities.move_face(face=face, identity_id=identity_id)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _back(face.photo.room, "people")
    return _back(face.photo.room, f"identity-{edit.identity_id}")


@login_required
@require_POST
def face_ignore(request: HttpRequest, room_id: int, face_id: int) -> HttpResponse:
    face = get_face_for_owner(request.user, room_id, face_id)
    ignored = request.POST.get("ignored", "1") not in {"0", "false", ""}
    identities.ignore_face(face=face, ignored=ignored)
    return _back(face.photo.room, "people")


# ---------------------------------------------------------------- albums


@login_required
@require_GET
def album_list(request: HttpRequest, room_id: int) -> HttpResponse:
    """Show each visible person's photos with a ZIP download."""
    room = get_room_for_owner(request.user, room_id)
    listed = [
        {"identity": identity, "photos": list(albums.album_photos(identity))}
        for identity in albums.album_identities(room)
    ]
    return render(request, "rooms/albums.html", {"room": room, "albums": listed})
