"""An existing deployment upgrades with its data: the job engine and the game moved apps, rows kept their links."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# The last migrations before the job engine became an app of its own and the game moved to swaps.
BEFORE = [("rooms", "0003_player_swap_links"), ("swaps", "0002_swap"), ("jobs", None)]

BIG_FRONTAL = {"size": 120.0, "frontalness": 0.9, "sharpness": 0.8, "inside": 1.0, "score": 0.8}
SMALL_FRONTAL = {"size": 40.0, "frontalness": 0.9, "sharpness": 0.8, "inside": 1.0, "score": 0.5}


def migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)


def latest() -> list[tuple[str, str | None]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.postgres_too
@pytest.mark.django_db(transaction=True)
def test_an_existing_deployment_upgrades_with_its_data():
    executor = migrate(BEFORE)
    try:
        old = executor.loader.project_state([node for node in BEFORE if node[1]]).apps
        user = old.get_model("auth", "User").objects.create(username="host")
        room = old.get_model("rooms", "Room").objects.create(owner=user, title="Cup final")
        photo = old.get_model("rooms", "Photo").objects.create(
            room=room, sha256="a" * 64, image="rooms/1/photos/a.jpg", width=10, height=10, status="done"
        )
        Face = old.get_model("rooms", "Face")
        box = {"left": 0, "top": 0, "width": 10, "height": 10, "embedding": b"\0" * 512}
        judged_usable = Face.objects.create(photo=photo, quality={**SMALL_FRONTAL, "usable": True}, **box)
        judged_not = Face.objects.create(photo=photo, quality={**BIG_FRONTAL, "usable": False}, **box)
        never_judged = Face.objects.create(photo=photo, quality=BIG_FRONTAL, **box)
        crowd = old.get_model("swaps", "CrowdPhoto").objects.create(
            room=room, sha256="b" * 64, image="rooms/1/crowds/b.jpg", width=10, height=10, status="done"
        )
        CrowdFace = old.get_model("swaps", "CrowdFace")
        small_host = CrowdFace.objects.create(crowd_photo=crowd, usable=True, quality=SMALL_FRONTAL, **box)
        big_no_host = CrowdFace.objects.create(crowd_photo=crowd, usable=False, quality=BIG_FRONTAL, **box)
        OldJob = old.get_model("swaps", "Job")
        first_try = OldJob.objects.create(kind="photo", room=room, payload={"photo_id": photo.pk}, status="failed")
        retried = OldJob.objects.create(kind="photo", room=room, payload={"photo_id": photo.pk}, status="done")
        crowd_job = OldJob.objects.create(kind="crowd", room=room, payload={"crowd_photo_id": crowd.pk})
        swap_job = OldJob.objects.create(kind="swap", room=room, payload={"swap_id": 1})
        ping = OldJob.objects.create(kind="ping", room=None, payload={})
        swap = old.get_model("swaps", "Swap").objects.create(
            room=room, crowd_photo=crowd, job=swap_job, version=1, status="done", published=True
        )
        player = old.get_model("rooms", "Player").objects.create(swap=swap, nickname="Sam", session_key="s", score=120)
        guess = old.get_model("rooms", "Guess").objects.create(
            player=player, identity_id=7, x=0.5, y=0.5, hit=True, points=120
        )
    finally:
        migrate(latest())

    from crowdswap.jobs.models import Job
    from rooms.models import Face, Photo
    from swaps.models import CrowdFace, CrowdPhoto, Guess, Player, Swap

    jobs = {job.pk: job for job in Job.objects.all()}
    assert set(jobs) == {first_try.pk, retried.pk, crowd_job.pk, swap_job.pk, ping.pk}
    for job_id in (first_try.pk, retried.pk, crowd_job.pk, swap_job.pk):
        assert (jobs[job_id].owner_id, jobs[job_id].group_name) == (user.pk, f"room-{room.pk}")
    assert (jobs[ping.pk].owner_id, jobs[ping.pk].group_name) == (None, "")
    assert jobs[retried.pk].payload == {"photo_id": photo.pk} and jobs[retried.pk].status == "done"

    # Rows point at their (latest) job instead of being found in payloads.
    assert Photo.objects.get(pk=photo.pk).job_id == retried.pk
    assert CrowdPhoto.objects.get(pk=crowd.pk).job_id == crowd_job.pk
    assert Swap.objects.get(pk=swap.pk).job_id == swap_job.pk

    # A face's verdict is a column now: kept where it was recorded, worked out where it was not.
    usable = dict(Face.objects.values_list("pk", "usable"))
    assert usable == {judged_usable.pk: True, judged_not.pk: False, never_judged.pk: True}
    hosts = {f.pk: (f.can_host, f.usable) for f in CrowdFace.objects.all()}
    assert hosts == {small_host.pk: (True, False), big_no_host.pk: (False, True)}

    # The game moved apps with its rows.
    moved = Player.objects.get(pk=player.pk)
    assert (moved.swap_id, moved.nickname, moved.score) == (swap.pk, "Sam", 120)
    assert Guess.objects.get(pk=guess.pk).player_id == player.pk
