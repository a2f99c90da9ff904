"""The swap job on real photos: matching, swapping, result, preview, answer key, versions and sharing."""

# ruff: noqa: F811

import numpy as np
import pytest
from PIL import Image

from rooms.models import Identity
from rooms.services import ServiceError, delete_room
from swaps import services
from swaps.models import CrowdPhoto, Job, Swap
from tests.game.conftest import SWAP_PEOPLE
from tests.rooms.photos import run_queued_jobs, storage_files


def test_swap_hides_every_visible_friend_and_stores_result_preview_and_key(swapped, media):
    swap = swapped
    identities = list(Identity.objects.filter(room=swap.room))
    assert len(identities) == len(SWAP_PEOPLE)
    assert swap.status == Swap.Status.DONE and swap.version == 1 and not swap.published
    assert swap.job.status == Job.Status.DONE
    assert swap.job.result == {"swap_id": swap.pk, "hidden": 2, "version": 1}
    assert "box" not in str(swap.job.result)
    crowd = swap.crowd_photo
    with swap.image.open("rb") as handle, Image.open(handle) as img:
        assert img.size == (crowd.width, crowd.height) == (swap.width, swap.height)
        result = np.asarray(img.convert("RGB"), dtype=np.int16)
    with swap.preview.open("rb") as handle, Image.open(handle) as img:
        assert img.size == (1200, 630)
    assert swap.image.name.startswith(f"rooms/{swap.room_id}/swaps/")
    assert swap.preview.name.startswith(f"rooms/{swap.room_id}/swaps/")
    # One box per friend, each on a different usable crowd face, inside the picture.
    assert sorted(e["identity"] for e in swap.answer_key) == sorted(i.pk for i in identities)
    usable = {
        tuple(round(v, 3) for v in services.normalised_box(f, crowd.width, crowd.height))
        for f in crowd.faces.filter(usable=True)
    }
    for entry in swap.answer_key:
        x, y, w, h = entry["box"]
        assert 0 <= x < x + w <= 1 and 0 <= y < y + h <= 1
        assert tuple(round(v, 3) for v in entry["box"]) in usable
    # The pixels inside each answer box changed: a friend's face is really there now.
    with crowd.image.open("rb") as handle, Image.open(handle) as img:
        original = np.asarray(img.convert("RGB"), dtype=np.int16)
    for entry in swap.answer_key:
        x, y, w, h = entry["box"]
        x0, y0 = int(x * swap.width), int(y * swap.height)
        x1, y1 = int((x + w) * swap.width), int((y + h) * swap.height)
        assert np.abs(result[y0:y1, x0:x1] - original[y0:y1, x0:x1]).mean() > 8


def test_rerunning_the_job_overwrites_instead_of_duplicating(swapped, media, django_capture_on_commit_callbacks):
    swap = swapped
    before = storage_files(f"rooms/{swap.room_id}/swaps")
    assert len(before) == 2
    with django_capture_on_commit_callbacks(execute=True):
        services.run_swap_job(swap.job, lambda percent, stage: None)
    swap.refresh_from_db()
    after = storage_files(f"rooms/{swap.room_id}/swaps")
    assert len(after) == 2 and Swap.objects.count() == 1
    assert sorted(after) == sorted([swap.image.name, swap.preview.name])


def test_each_run_is_a_new_version_and_older_ones_stay(swapped, media, django_capture_on_commit_callbacks):
    room = swapped.room
    first = Identity.objects.filter(room=room).first()
    second = services.start_swap(room=room, crowd_photo=swapped.crowd_photo, identities=[first])
    run_queued_jobs("swap")
    second.refresh_from_db()
    assert second.version == 2 and second.status == Swap.Status.DONE
    assert [e["identity"] for e in second.answer_key] == [first.pk]
    assert Swap.objects.filter(room=room).count() == 2 and swapped.share_token != second.share_token
    names = [second.image.name, second.preview.name]
    with django_capture_on_commit_callbacks(execute=True):
        services.discard_swap(swap=second)
    assert list(Swap.objects.filter(room=room)) == [swapped]
    assert not set(names) & set(storage_files(f"rooms/{room.pk}/swaps"))


def test_start_swap_refuses_with_clear_messages(prepared_room, django_capture_on_commit_callbacks):
    room = prepared_room
    crowd = CrowdPhoto.objects.get(room=room)
    people = list(Identity.objects.filter(room=room))
    for person in people:
        person.hidden = True
        person.save()
    with pytest.raises(ServiceError, match="at least one person"):
        services.start_swap(room=room, crowd_photo=crowd)
    with pytest.raises(ServiceError, match="cannot be hidden"):
        services.start_swap(room=room, crowd_photo=crowd, identities=people[:1])
    Identity.objects.filter(room=room).update(hidden=False)
    hosts = crowd.faces.filter(usable=True)
    keep = hosts.first()
    hosts.exclude(pk=keep.pk).update(usable=False)
    with pytest.raises(ServiceError, match="1 face that can host a friend, but you chose 2"):
        services.start_swap(room=room, crowd_photo=crowd, identities=people)
    # The default takes as many friends as the crowd can host.
    swap = services.start_swap(room=room, crowd_photo=crowd)
    assert len(swap.identity_ids) == 1
    crowd.faces.update(usable=False)
    with pytest.raises(ServiceError, match="No face in this crowd"):
        services.start_swap(room=room, crowd_photo=crowd)
    assert Swap.objects.count() == 1


def test_publish_unpublish_regenerate_and_room_delete_removes_files(swapped, media, django_capture_on_commit_callbacks):
    swap = swapped
    token = swap.share_token
    assert len(token) >= 20
    services.publish_swap(swap=swap)
    assert Swap.objects.get().published
    services.regenerate_share_token(swap=swap)
    assert Swap.objects.get().share_token not in {token, ""}
    services.unpublish_swap(swap=swap)
    assert not Swap.objects.get().published
    with django_capture_on_commit_callbacks(execute=True):
        delete_room(room=swap.room)
    assert storage_files(f"rooms/{swap.room_id}") == []


def test_unfinished_swap_cannot_be_published(prepared_room):
    crowd = CrowdPhoto.objects.get(room=prepared_room)
    swap = services.start_swap(room=prepared_room, crowd_photo=crowd)
    with pytest.raises(ServiceError, match="Only a finished swap"):
        services.publish_swap(swap=swap)
