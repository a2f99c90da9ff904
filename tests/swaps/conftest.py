"""Fixtures for the swap and the game: a room swapped for real, and a quick published challenge."""

# ruff: noqa: F811

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.rooms.photos import (  # noqa: F401  (fixtures)
    face_models,
    labelled_photos,
    media,
    room,
    run_queued_jobs,
    small_jpeg,
    small_photos,
)

# Two people are enough to prove matching, swapping and the answer key; each photo costs detection time.
SWAP_PEOPLE = ("angelina_jolie", "mark_zuckerberg")


@pytest.fixture
def fresh_cache():
    """Empty the cache around a test: rate limits, join caps and board pushes live there."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


@pytest.fixture(scope="session")
def group_jpeg(data_dir) -> bytes:
    # A small group selfie whose three front faces can all host a friend, a man and two women: both friends of
    # SWAP_PEOPLE fit one of them (the fit keeps a friend off a face of another gender).
    return (data_dir / "crowds" / "selfie-many-people.jpg").read_bytes()


@pytest.fixture
def prepared_room(room, small_photos, group_jpeg, face_models, media):
    """A room with two identified friends and a processed crowd photo, all through the real pipeline."""
    from rooms.services import photos
    from swaps.services import crowds

    files = [upload(f"{p}-{i}.jpg", small_photos[p][i]) for p in SWAP_PEOPLE for i in range(2)]
    photos.add_photos(room=room, files=files)
    crowds.add_crowd_photos(room=room, files=[upload("group.jpg", group_jpeg)])
    run_queued_jobs()
    return room


@pytest.fixture
def swapped(prepared_room):
    """A finished swap of every visible friend into the crowd, run in-process."""
    from swaps.models import CrowdPhoto
    from swaps.services import swaps as swaps_services

    crowd = CrowdPhoto.objects.get(room=prepared_room)
    swap = swaps_services.start_swap(room=prepared_room, crowd_photo_id=crowd.pk)
    run_queued_jobs("swap")
    swap.refresh_from_db()
    return swap


def tiny_jpeg(color: tuple[int, int, int] = (120, 130, 140), size: tuple[int, int] = (400, 300)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def challenge(room, media):
    """A published swap with two hidden friends and known boxes, without running the face pipeline.

    Judging and access rules do not depend on the pixels; the real pipeline is covered by `swapped`.
    """
    from rooms.models import Identity
    from swaps.models import Swap

    alice = Identity.objects.create(room=room, name="Alice")
    bob = Identity.objects.create(room=room, name="Bob")
    swap = Swap(room=room, version=1, identity_ids=[alice.pk, bob.pk], status=Swap.Status.DONE, published=True)
    swap.image.save("result.jpg", ContentFile(tiny_jpeg()), save=False)
    swap.preview.save("preview.jpg", ContentFile(tiny_jpeg(size=(1200, 630))), save=False)
    swap.width, swap.height = 400, 300
    swap.answer_key = [
        {"identity": alice.pk, "box": [0.23456, 0.31234, 0.04321, 0.06789]},
        {"identity": bob.pk, "box": [0.71234, 0.52345, 0.05432, 0.07654]},
    ]
    swap.save()
    return swap
