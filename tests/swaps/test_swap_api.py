"""Swap REST API: start a version, follow it, publish, unpublish, new link, discard; only for the room's owner."""

import pytest
from django.urls import reverse

from crowdswap.jobs.models import Job
from rooms.models import Identity, Room
from swaps.models import CrowdPhoto, Swap
from tests.rooms.photos import run_queued_jobs, storage_files
from tests.swaps.conftest import upload


def json_post(client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def test_host_starts_a_swap_follows_its_job_and_sees_where_friends_hide(client, host, prepared_room):
    client.force_login(host)
    room = prepared_room
    crowd = CrowdPhoto.objects.get(room=room)
    people = {i.pk: i for i in Identity.objects.filter(room=room)}
    first = min(people)
    Identity.objects.filter(pk=first).update(name="Angie")

    response = json_post(client, reverse("api-swaps", args=[room.pk]), {"crowd_photo": crowd.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    swap = Swap.objects.get(room=room)
    assert body["detail"] == "Version 1 is being swapped: follow its job for progress."
    assert (body["swap"]["id"], body["swap"]["version"], body["swap"]["status"]) == (swap.pk, 1, "queued")
    assert body["swap"]["crowd_photo"] == crowd.pk
    assert (body["job"]["id"], body["job"]["kind"], body["job"]["status"]) == (swap.job_id, "swap", "queued")
    assert body["swap"]["job"] == swap.job_id
    # The default choice: every visible person with a usable face.
    assert sorted(f["id"] for f in body["swap"]["friends"]) == sorted(people)
    assert body["swap"]["answers"] is None and body["swap"]["image_url"] is None

    run_queued_jobs("swap")
    assert client.get(reverse("api-job-detail", args=[swap.job_id])).json()["status"] == "done"
    detail = client.get(reverse("api-swap", args=[room.pk, swap.pk])).json()
    assert detail["status"] == "done" and not detail["published"]
    assert (detail["width"], detail["height"]) > (0, 0)
    names = {f["id"]: f["name"] for f in detail["friends"]}
    assert names[first] == "Angie" and set(names) == set(people)
    swap.refresh_from_db()
    # The owner sees the answer key exactly as stored, with names for the reveal overlay.
    assert [(a["identity"], a["box"]) for a in detail["answers"]] == [
        (e["identity"], e["box"]) for e in swap.answer_key
    ]
    assert {a["name"] for a in detail["answers"]} == {names[a["identity"]] for a in detail["answers"]}
    image = client.get(detail["image_url"])
    assert image.status_code == 200 and b"".join(image.streaming_content)[:2] == b"\xff\xd8"

    listed = client.get(reverse("api-swaps", args=[room.pk])).json()
    assert [v["id"] for v in listed] == [swap.pk]


def test_host_chooses_who_to_hide_and_each_start_is_a_new_version(client, host, prepared_room):
    client.force_login(host)
    room = prepared_room
    crowd = CrowdPhoto.objects.get(room=room)
    one, two = Identity.objects.filter(room=room).order_by("id")
    url = reverse("api-swaps", args=[room.pk])

    first = json_post(client, url, {"crowd_photo": crowd.pk, "identities": [two.pk]})
    second = json_post(client, url, {"crowd_photo": crowd.pk, "identities": [one.pk, two.pk, one.pk]})
    assert (first.status_code, second.status_code) == (201, 201)
    assert [f["id"] for f in first.json()["swap"]["friends"]] == [two.pk]
    assert [f["id"] for f in second.json()["swap"]["friends"]] == [one.pk, two.pk]
    assert [v["version"] for v in client.get(url).json()] == [2, 1]
    assert Job.objects.filter(group_name=room.group_name, kind="swap", status="queued").count() == 2


def test_start_refusals_are_clear_400s_that_change_nothing(client, host, prepared_room, stranger):
    client.force_login(host)
    room = prepared_room
    crowd = CrowdPhoto.objects.get(room=room)
    one, two = Identity.objects.filter(room=room).order_by("id")
    elsewhere = Room.objects.create(owner=stranger, title="Not yours")
    outsider = Identity.objects.create(room=elsewhere, name="Outsider")
    url = reverse("api-swaps", args=[room.pk])

    def refused(data: dict) -> str:
        response = json_post(client, url, data)
        assert response.status_code == 400, response.content
        return response.json()["detail"]

    assert refused({}).startswith("crowd_photo: ")
    assert "crowd photo is not in this room" in refused({"crowd_photo": 999999})
    assert "not in this room" in refused({"crowd_photo": crowd.pk, "identities": [one.pk, outsider.pk]})
    assert "Choose at least one person" in refused({"crowd_photo": crowd.pk, "identities": []})
    Identity.objects.filter(pk=two.pk).update(hidden=True)
    assert "cannot be hidden" in refused({"crowd_photo": crowd.pk, "identities": [two.pk]})
    crowd.faces.update(can_host=False)
    assert "No face in this crowd photo" in refused({"crowd_photo": crowd.pk})
    CrowdPhoto.objects.filter(pk=crowd.pk).update(status="processing")
    assert "Wait until the faces" in refused({"crowd_photo": crowd.pk})
    assert not Swap.objects.exists() and not Job.objects.filter(kind="swap").exists()


def test_publish_unpublish_and_regenerate_return_the_share_link(client, host, challenge, settings):
    settings.SITE_URL = "https://crowdswap.example"
    client.force_login(host)
    room, swap = challenge.room, challenge
    swap.published = False
    swap.save(update_fields=["published"])
    old = swap.share_token

    published = json_post(client, reverse("api-swap-publish", args=[room.pk, swap.pk]))
    assert published.status_code == 200
    body = published.json()
    assert body["published"] is True
    assert body["share_url"] == f"https://crowdswap.example/play/{old}/"
    assert body["facebook_share_url"] == (
        f"https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fcrowdswap.example%2Fplay%2F{old}%2F"
    )
    assert client.get(reverse("api-play-state", args=[old])).status_code == 200

    renewed = json_post(client, reverse("api-swap-regenerate-token", args=[room.pk, swap.pk])).json()
    swap.refresh_from_db()
    assert swap.share_token != old and renewed["share_url"] == f"https://crowdswap.example/play/{swap.share_token}/"
    assert client.get(reverse("api-play-state", args=[old])).status_code == 404
    assert client.get(reverse("api-play-state", args=[swap.share_token])).status_code == 200

    closed = json_post(client, reverse("api-swap-unpublish", args=[room.pk, swap.pk]))
    assert closed.status_code == 200 and closed.json()["published"] is False
    assert client.get(reverse("api-play-state", args=[swap.share_token])).status_code == 410


def test_unfinished_swap_cannot_be_published(client, host, challenge):
    client.force_login(host)
    Swap.objects.filter(pk=challenge.pk).update(status=Swap.Status.RUNNING, published=False)
    response = json_post(client, reverse("api-swap-publish", args=[challenge.room_id, challenge.pk]))
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Only a finished swap can be shared.")
    assert not Swap.objects.get(pk=challenge.pk).published
    # Nor does anyone see where friends hide in a swap that has not finished.
    assert client.get(reverse("api-swap", args=[challenge.room_id, challenge.pk])).json()["answers"] is None


def test_discard_deletes_the_version_and_its_files(client, host, challenge, media, django_capture_on_commit_callbacks):
    client.force_login(host)
    room = challenge.room
    assert len(storage_files(f"rooms/{room.pk}/swaps")) == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(reverse("api-swap", args=[room.pk, challenge.pk]))
    assert response.status_code == 204
    assert not Swap.objects.exists() and storage_files(f"rooms/{room.pk}/swaps") == []
    assert client.get(reverse("api-swap", args=[room.pk, challenge.pk])).status_code == 404
    assert client.get(reverse("api-play-state", args=[challenge.share_token])).status_code == 404


def test_token_clients_act_without_a_csrf_token(host, challenge):
    """Scripts (and the scale test) use token auth: no session, so no CSRF dance."""
    from django.test import Client
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=host)
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {token.key}")
    response = json_post(client, reverse("api-swap-unpublish", args=[challenge.room_id, challenge.pk]))
    assert response.status_code == 200 and response.json()["published"] is False
    assert not Swap.objects.get(pk=challenge.pk).published


@pytest.mark.parametrize("who", ["stranger", "anonymous"])
def test_others_get_nothing_and_change_nothing(client, stranger, challenge, who):
    if who == "stranger":
        client.force_login(stranger)
    room, swap = challenge.room, challenge
    box = str(swap.answer_key[0]["box"][0])
    calls = [
        client.get(reverse("api-swaps", args=[room.pk])),
        json_post(client, reverse("api-swaps", args=[room.pk]), {"crowd_photo": 1}),
        client.get(reverse("api-swap", args=[room.pk, swap.pk])),
        json_post(client, reverse("api-swap-unpublish", args=[room.pk, swap.pk])),
        json_post(client, reverse("api-swap-regenerate-token", args=[room.pk, swap.pk])),
        client.delete(reverse("api-swap", args=[room.pk, swap.pk])),
    ]
    expected = {404} if who == "stranger" else {401, 403}
    assert {r.status_code for r in calls} <= expected
    assert not any(box in r.content.decode() for r in calls)
    after = Swap.objects.get(pk=swap.pk)
    assert (after.published, after.share_token) == (True, swap.share_token)


def test_the_whole_host_flow_works_over_rest_alone(client, host, room, small_photos, group_jpeg):
    """The whole host flow over REST alone: upload friends and a crowd, start, run, publish, play."""
    client.force_login(host)
    files = [upload(f"{p}-{i}.jpg", small_photos[p][i]) for p in ("angelina_jolie", "mark_zuckerberg") for i in (0, 1)]
    assert client.post(reverse("api-photos", args=[room.pk]), {"files": files}).status_code == 201
    crowd = client.post(reverse("api-crowds", args=[room.pk]), {"files": [upload("group.jpg", group_jpeg)]})
    assert crowd.status_code == 201
    run_queued_jobs()
    crowd_id = crowd.json()["results"][0]["photo"]["id"]
    started = json_post(client, reverse("api-swaps", args=[room.pk]), {"crowd_photo": crowd_id}).json()
    run_queued_jobs("swap")
    swap_id = started["swap"]["id"]
    shared = json_post(client, reverse("api-swap-publish", args=[room.pk, swap_id])).json()
    assert shared["published"] and len(shared["friends"]) == 2
    token = shared["share_url"].rstrip("/").rsplit("/", 1)[-1]
    client.logout()
    state = client.get(reverse("api-play-state", args=[token])).json()
    assert sorted(f["identity"] for f in state["friends"]) == sorted(f["id"] for f in shared["friends"])
    assert state["answers"] is None


def test_schema_describes_the_swap_api_without_warnings():
    from drf_spectacular.drainage import GENERATOR_STATS, reset_generator_stats
    from drf_spectacular.generators import SchemaGenerator

    reset_generator_stats()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    problems = [m for m in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache] if "swap" in m.lower()]
    assert problems == []
    paths = schema["paths"]
    assert "post" in paths["/api/rooms/{room_id}/swaps/"] and "delete" in paths["/api/rooms/{room_id}/swaps/{swap_id}/"]
    for action in ("publish", "unpublish", "regenerate-token"):
        assert "post" in paths[f"/api/rooms/{{room_id}}/swaps/{{swap_id}}/{action}/"]
