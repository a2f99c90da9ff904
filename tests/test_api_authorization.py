"""Walk every rooms, swaps and jobs API endpoint (and owner-checked file route) as owner, other user and anonymous."""

# ruff: noqa: F811

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import get_resolver, reverse

from crowdswap.jobs import urls as job_urls
from crowdswap.jobs.models import Job
from rooms import api_urls
from rooms.models import Face, Identity, Photo
from rooms.services import identities as people
from rooms.services import photos
from swaps import api_urls as swaps_api_urls
from swaps.models import CrowdPhoto, Swap
from swaps.services import crowds
from tests.rooms.photos import (  # noqa: F401  (fixtures)
    face_models,
    labelled_photos,
    media,
    room,
    run_queued_jobs,
    small_photos,
    upload,
)

pytestmark = pytest.mark.usefixtures("media", "face_models")


@pytest.fixture
def world(room, small_photos):
    """A room with two processed photos of two people and a processed crowd photo."""
    photos.add_photos(
        room=room,
        files=[
            upload("jolie.jpg", small_photos["angelina_jolie"][0]),
            upload("zuck.jpg", small_photos["mark_zuckerberg"][0]),
        ],
    )
    crowds.add_crowd_photos(room=room, files=[upload("crowd.jpg", small_photos["jennifer_aniston"][0])])
    run_queued_jobs()
    identities = list(Identity.objects.filter(room=room).order_by("id"))
    assert len(identities) == 2
    # A finished swap made directly (its pixels do not matter here; tests/swaps runs the real one).
    swap = Swap(room=room, version=1, identity_ids=[identities[0].pk], status=Swap.Status.DONE)
    swap.image.save("result.jpg", ContentFile(small_photos["jennifer_aniston"][0]), save=False)
    swap.width, swap.height = 300, 400
    swap.answer_key = [{"identity": identities[0].pk, "box": [0.2, 0.3, 0.1, 0.1]}]
    swap.save()
    # An undoable edit (a face "moved" to the person it belongs to: undoing it changes nothing visible).
    own_face = Face.objects.filter(identity=identities[0]).first()
    edit = people.move_face(face=own_face, identity_id=identities[0].pk)
    return {
        "edit": edit,
        "swap": swap,
        "job": Job.objects.filter(group_name=room.group_name).first(),
        "room": room,
        "photo": Photo.objects.filter(room=room).first(),
        "identities": identities,
        "face": Face.objects.filter(identity=identities[1]).first(),
        "crowd": CrowdPhoto.objects.get(room=room),
    }


def endpoints(w, small_photos):
    """Return (url name, method, url, data, format, owner status) in an order where deletes come last."""
    r = w["room"].pk
    i1, i2 = (i.pk for i in w["identities"])
    photo, face, crowd = w["photo"].pk, w["face"].pk, w["crowd"].pk
    swap, job = w["swap"].pk, w["job"].pk
    new_photo = small_photos["jennifer_aniston"][1]
    return [
        ("api-rooms", "get", reverse("api-rooms"), None, None, 200),
        ("api-room", "get", reverse("api-room", args=[r]), None, None, 200),
        ("api-room", "patch", reverse("api-room", args=[r]), {"title": "Renamed"}, "json", 200),
        ("api-photos", "get", reverse("api-photos", args=[r]), None, None, 200),
        (
            "api-photos",
            "post",
            reverse("api-photos", args=[r]),
            lambda: {"files": upload("n.jpg", new_photo)},
            "multipart",
            201,
        ),
        ("api-photo", "get", reverse("api-photo", args=[r, photo]), None, None, 200),
        ("api-identities", "get", reverse("api-identities", args=[r]), None, None, 200),
        ("api-identity", "get", reverse("api-identity", args=[r, i1]), None, None, 200),
        (
            "api-identity",
            "patch",
            reverse("api-identity", args=[r, i1]),
            {"name": "Angie", "hidden": False},
            "json",
            200,
        ),
        (
            "api-identity",
            "patch",
            reverse("api-identity", args=[r, i1]),
            {"cover": w["edit"].changes["face"]},
            "json",
            200,
        ),
        ("api-edit-undo", "post", reverse("api-edit-undo", args=[r, w["edit"].pk]), None, None, 200),
        ("api-lookalikes", "get", reverse("api-lookalikes", args=[r]), None, None, 200),
        ("api-albums", "get", reverse("api-albums", args=[r]), None, None, 200),
        ("api-album-zip", "get", reverse("api-album-zip", args=[r, i1]), None, None, 200),
        ("api-crowds", "get", reverse("api-crowds", args=[r]), None, None, 200),
        ("api-crowd", "get", reverse("api-crowd", args=[r, crowd]), None, None, 200),
        ("api-crowd-placement", "get", reverse("api-crowd-placement", args=[r, crowd]), None, None, 200),
        ("rooms:photo-image", "get", reverse("rooms:photo-image", args=[r, photo]), None, None, 200),
        ("rooms:face-thumb", "get", reverse("rooms:face-thumb", args=[r, face]), None, None, 200),
        ("swaps:crowd-image", "get", reverse("swaps:crowd-image", args=[r, crowd]), None, None, 200),
        ("swaps:swap-image", "get", reverse("swaps:swap-image", args=[r, swap]), None, None, 200),
        ("api-job-detail", "get", reverse("api-job-detail", args=[job]), None, None, 200),
        # Only a failed job can be retried: the owner is told so, others learn nothing.
        ("api-job-retry", "post", reverse("api-job-retry", args=[job]), None, None, 409),
        ("api-swaps", "get", reverse("api-swaps", args=[r]), None, None, 200),
        ("api-swaps", "post", reverse("api-swaps", args=[r]), {"crowd_photo": crowd}, "json", 201),
        ("api-swap", "get", reverse("api-swap", args=[r, swap]), None, None, 200),
        ("api-swap-publish", "post", reverse("api-swap-publish", args=[r, swap]), None, None, 200),
        ("api-swap-regenerate-token", "post", reverse("api-swap-regenerate-token", args=[r, swap]), None, None, 200),
        ("api-swap-unpublish", "post", reverse("api-swap-unpublish", args=[r, swap]), None, None, 200),
        ("api-merge-suggestions", "get", reverse("api-merge-suggestions", args=[r]), None, None, 200),
        (
            "api-identities-keep-apart",
            "post",
            reverse("api-identities-keep-apart", args=[r]),
            {"identities": [i1, i2]},
            "json",
            204,
        ),
        (
            "api-identities-merge",
            "post",
            reverse("api-identities-merge", args=[r]),
            {"identities": [i1, i2]},
            "json",
            200,
        ),
        ("api-face-ignore", "post", reverse("api-face-ignore", args=[r, face]), {"ignored": False}, "json", 200),
        ("api-face-move", "post", reverse("api-face-move", args=[r, face]), {"identity": None}, "json", 200),
        (
            "api-crowds",
            "post",
            reverse("api-crowds", args=[r]),
            lambda: {"files": upload("c.jpg", new_photo)},
            "multipart",
            201,
        ),
        ("api-swap", "delete", reverse("api-swap", args=[r, swap]), None, None, 204),
        ("api-crowd", "delete", reverse("api-crowd", args=[r, crowd]), None, None, 204),
        ("api-photo", "delete", reverse("api-photo", args=[r, photo]), None, None, 204),
        ("api-room", "delete", reverse("api-room", args=[r]), None, None, 204),
    ]


def call(client: Client, method: str, url: str, data, fmt):
    if callable(data):
        data = data()
    if fmt == "json":
        return getattr(client, method)(url, data, content_type="application/json")
    if fmt == "multipart":
        return client.post(url, data)
    return getattr(client, method)(url)


def test_every_endpoint_is_walked():
    """Fail when an API route is added without adding it to the walk below."""
    import re
    from pathlib import Path

    source = Path(__file__).read_text()
    # The play endpoints are public by design (anyone with a share link): tests/swaps walks them.
    routes = [*api_urls.urlpatterns, *swaps_api_urls.urlpatterns, *job_urls.api_urlpatterns]
    owned = {p.name for p in routes if not p.name.startswith("api-play-")}
    names = owned | {"rooms:photo-image", "rooms:face-thumb", "swaps:crowd-image", "swaps:swap-image"}
    missing = sorted(name for name in names if not re.search(rf'\(\s*"{re.escape(name)}",', source))
    assert not missing, f"add these endpoints to the authorization walk: {missing}"


def test_owner_other_user_and_anonymous(world, small_photos, host, stranger, django_capture_on_commit_callbacks):
    anonymous, other, owner = Client(), Client(), Client()
    other.force_login(stranger)
    owner.force_login(host)
    plan = endpoints(world, small_photos)

    for name, method, url, data, fmt, _ in plan:
        response = call(anonymous, method, url, data, fmt)
        assert response.status_code in (401, 403), f"anonymous {method} {name}: {response.status_code}"
        response = call(other, method, url, data, fmt)
        if name == "api-rooms":
            # Listing is allowed but shows only the other user's own rooms (none), and creating makes theirs.
            assert response.status_code == 200 and response.json() == []
            continue
        assert response.status_code == 404, f"other user {method} {name}: {response.status_code}"

    with django_capture_on_commit_callbacks(execute=True):
        for name, method, url, data, fmt, expected in plan:
            response = call(owner, method, url, data, fmt)
            assert response.status_code == expected, (
                f"owner {method} {name}: {response.status_code} {response.content[:300]}"
            )
    assert not Photo.objects.exists() and not Swap.objects.exists()


def test_api_urls_resolve_under_api():
    assert get_resolver().resolve("/api/rooms/").url_name == "api-rooms"
