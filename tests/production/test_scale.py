"""Scale on loopback: 2 web and 3 worker processes on two "hosts" sharing one PostgreSQL, one Redis, one media store.

A web host (`./setup.sh run`, 2 web processes, 1 worker) first processes a small batch alone, which gives
the single-worker figure; then a worker-only host (`./setup.sh worker`, 2 workers) joins, and 30 friends'
photos, 5 crowd photos and 5 swaps go in through the web processes. Every job must run exactly once
(one claim, one attempt, no duplicate rows) and every stored file must exist, with no stray ones.
Figures: printed (pytest -s) and written to test-output/scale.txt.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from PIL import Image

from tests.postgres import ROOT
from tests.production.conftest import Deployment

pytestmark = [pytest.mark.processes, pytest.mark.postgres]

ROOMS = 5
PEOPLE_PER_ROOM = 2
PHOTOS_PER_PERSON = 3  # 5 rooms x 2 people x 3 photos = 30 photo jobs
CALIBRATION_PHOTOS = 12  # processed by one worker alone, for the single-worker figure
PHOTO_SIDE = 800  # detection, not the upload, must dominate a job for the figures to compare workers
CROWD_SIDE = 1000  # the stadium at full size: about 30 front faces can host a friend
# Every wait shares one budget, so the whole test stops within it even on a crawling machine.
BUDGET_SECONDS = 360
USERNAME, PASSWORD = "scale-host", "scale-pass-123"
OUTPUT = ROOT / "test-output" / "scale.txt"


def shrink_jpeg(path: Path, side: int) -> bytes:
    """Return a downscaled JPEG copy of a photo (distinct photos keep distinct content hashes)."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        image.thumbnail((side, side))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def photo_plan(data_dir: Path) -> tuple[list[list[tuple[str, bytes]]], list[tuple[str, bytes]]]:
    """Return the photos of each room (2 people with 3 photos each) and the calibration batch."""
    by_person: dict[str, list[Path]] = {}
    with open(data_dir / "identities" / "labels.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            by_person.setdefault(row["identity"], []).append(data_dir / row["path"])
    people = sorted(p for p, paths in by_person.items() if len(paths) >= PHOTOS_PER_PERSON)
    assert len(people) >= ROOMS * PEOPLE_PER_ROOM, f"need {ROOMS * PEOPLE_PER_ROOM} people with 3+ photos"
    rooms = []
    for index in range(ROOMS):
        chosen = people[index * PEOPLE_PER_ROOM : (index + 1) * PEOPLE_PER_ROOM]
        rooms.append(
            [(p.name, shrink_jpeg(p, PHOTO_SIDE)) for person in chosen for p in by_person[person][:PHOTOS_PER_PERSON]]
        )
    leftovers = [p for person in sorted(by_person) for p in by_person[person][PHOTOS_PER_PERSON:]]
    calibration = [(p.name, shrink_jpeg(p, PHOTO_SIDE)) for p in leftovers[:CALIBRATION_PHOTOS]]
    assert len(calibration) == CALIBRATION_PHOTOS
    return rooms, calibration


class Api:
    """The host's REST client (token auth), spreading requests over the web processes like a load balancer."""

    def __init__(self, base_urls: list[str], token: str) -> None:
        self.base_urls = itertools.cycle(base_urls)
        self.token = token

    def call(self, method: str, path: str, *, expect: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        response = requests.request(
            method,
            f"{next(self.base_urls)}{path}",
            headers={"Authorization": f"Token {self.token}"},
            timeout=120,
            **kwargs,
        )
        assert response.status_code in expect, f"{method} {path}: {response.status_code} {response.text[:500]}"
        return response.json() if response.content else None

    def create_room(self, title: str) -> int:
        return self.call("POST", "/api/rooms/", json={"title": title}, expect=(201,))["id"]

    def upload(self, room_id: int, what: str, photos: list[tuple[str, bytes]]) -> list[dict]:
        """Upload files in one multipart request; return the outcomes, every one of which must be 'added'."""
        files = [("files", (name, content, "image/jpeg")) for name, content in photos]
        body = self.call("POST", f"/api/rooms/{room_id}/{what}/", files=files, expect=(201,))
        statuses = [r["status"] for r in body["results"]]
        assert statuses == ["added"] * len(photos), body
        return body["results"]


def groups(room_ids: list[int]) -> list[str]:
    """Return the progress groups of these rooms: the job rows name their room's group."""
    return [f"room-{room_id}" for room_id in room_ids]


class Database:
    """Read-only SQL on the shared PostgreSQL, to check what the processes did."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("postgres://", "postgresql://", 1)

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def wait_jobs_finished(
        self, room_ids: list[int], *, kinds: tuple[str, ...], deployment: Deployment, deadline: float
    ) -> None:
        while True:
            ((open_jobs,),) = self.rows(
                "SELECT count(*) FROM jobs_job WHERE group_name = ANY(%s) AND kind = ANY(%s) "
                "AND status IN ('queued', 'running')",
                (groups(room_ids), list(kinds)),
            )
            if open_jobs == 0:
                return
            for host in deployment.hosts:
                host.assert_alive()
            if time.monotonic() > deadline:
                pytest.fail(f"{open_jobs} {kinds} job(s) unfinished when the budget ran out\n{deployment.logs()}")
            time.sleep(0.5)

    def jobs_per_minute(self, room_ids: list[int], kind: str) -> tuple[int, float, float]:
        """Return (jobs, seconds from the first start to the last finish, jobs per minute, mean seconds per job)."""
        ((count, first, last, mean),) = self.rows(
            "SELECT count(*), min(started_at), max(finished_at), avg(finished_at - started_at) FROM jobs_job "
            "WHERE group_name = ANY(%s) AND kind = %s",
            (groups(room_ids), kind),
        )
        seconds = (last - first).total_seconds()
        return count, seconds, 60 * count / seconds, mean.total_seconds()


def stored_names(db: Database, room_ids: list[int]) -> list[str]:
    """Return every file name the database refers to in these rooms."""
    names = [
        name
        for (name,) in db.rows("SELECT image FROM rooms_photo WHERE room_id = ANY(%s)", (room_ids,))
        + db.rows(
            "SELECT f.thumbnail FROM rooms_face f JOIN rooms_photo p ON p.id = f.photo_id WHERE p.room_id = ANY(%s)",
            (room_ids,),
        )
        + db.rows("SELECT image FROM swaps_crowdphoto WHERE room_id = ANY(%s)", (room_ids,))
        + db.rows("SELECT image FROM swaps_swap WHERE room_id = ANY(%s)", (room_ids,))
        + db.rows("SELECT preview FROM swaps_swap WHERE room_id = ANY(%s)", (room_ids,))
    ]
    assert all(names), "a row refers to no file"
    return names


def test_two_web_and_three_worker_processes_run_every_job_exactly_once(deployment: Deployment, data_dir: Path):
    rooms_photos, calibration = photo_plan(data_dir)
    crowd = shrink_jpeg(data_dir / "crowds" / "stadium.jpg", CROWD_SIDE)
    db = Database(deployment.env["DATABASE_URL"])
    deadline = time.monotonic() + BUDGET_SECONDS
    token = deployment.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token; "
        f"user = get_user_model().objects.create_user({USERNAME!r}, 'scale@example.com', {PASSWORD!r}); "
        "print(Token.objects.create(user=user).key)",
    ).split()[-1]

    # Host 1: the web host with one worker. The single-worker figure comes from it alone.
    web_host = deployment.start_host("web-host", web=2, workers=1)
    deployment.wait_ready(web_host, timeout=deadline - time.monotonic())
    api = Api(web_host.base_urls, token)
    calibration_room = api.create_room("calibration")
    api.upload(calibration_room, "photos", calibration)
    db.wait_jobs_finished([calibration_room], kinds=("photo",), deployment=deployment, deadline=deadline)
    one_jobs, one_seconds, one_rate, one_mean = db.jobs_per_minute([calibration_room], "photo")

    # Host 2: a worker-only host joins; from now on 3 workers share the queue.
    worker_host = deployment.start_host("worker-host", web=0, workers=2)
    deployment.wait_ready(web_host, worker_host, timeout=deadline - time.monotonic())
    room_ids = [api.create_room(f"scale room {n + 1}") for n in range(ROOMS)]

    # Photos first and alone, so the 3-worker figure measures the same work as the single-worker one.
    with ThreadPoolExecutor(ROOMS) as pool:
        list(pool.map(lambda n: api.upload(room_ids[n], "photos", rooms_photos[n]), range(ROOMS)))
    db.wait_jobs_finished(room_ids, kinds=("photo",), deployment=deployment, deadline=deadline)
    many_jobs, many_seconds, many_rate, many_mean = db.jobs_per_minute(room_ids, "photo")
    with ThreadPoolExecutor(ROOMS) as pool:
        list(pool.map(lambda n: api.upload(room_ids[n], "crowds", [(f"crowd-{n}.jpg", crowd)]), range(ROOMS)))
    db.wait_jobs_finished(room_ids, kinds=("crowd",), deployment=deployment, deadline=deadline)

    # One swap per room, started and published by the host through the REST API (both web processes).
    for room_id in room_ids:
        identities = [i["id"] for i in api.call("GET", f"/api/rooms/{room_id}/identities/") if not i["hidden"]]
        assert len(identities) >= PEOPLE_PER_ROOM, f"room {room_id}: {identities}"
        ((crowd_id,),) = db.rows("SELECT id FROM swaps_crowdphoto WHERE room_id = %s", (room_id,))
        # A refusal fails here with the API's sentence (e.g. too few faces that can host a friend).
        api.call(
            "POST",
            f"/api/rooms/{room_id}/swaps/",
            json={"crowd_photo": crowd_id, "identities": identities[:PEOPLE_PER_ROOM]},
            expect=(201,),
        )
    swap_rows = db.rows("SELECT id, room_id FROM swaps_swap WHERE room_id = ANY(%s)", (room_ids,))
    assert sorted(room for _, room in swap_rows) == sorted(room_ids), "every room must have started one swap"
    db.wait_jobs_finished(room_ids, kinds=("swap",), deployment=deployment, deadline=deadline)
    for swap_id, room_id in swap_rows:
        assert api.call("POST", f"/api/rooms/{room_id}/swaps/{swap_id}/publish/")["published"] is True

    # Exactly once: one job row per object, one claim and one attempt each, all done.
    all_rooms = [calibration_room, *room_ids]
    jobs = db.rows(
        "SELECT id, kind, status, attempts, worker_id, payload, result, error, group_name FROM jobs_job "
        "WHERE group_name = ANY(%s)",
        (groups(all_rooms),),
    )
    kinds = Counter(kind for _, kind, *_ in jobs)
    assert kinds == {
        "photo": ROOMS * PEOPLE_PER_ROOM * PHOTOS_PER_PERSON + CALIBRATION_PHOTOS,
        "crowd": ROOMS,
        "swap": ROOMS,
    }
    problems = [(i, k, s, a, e) for i, k, s, a, _, _, _, e, _ in jobs if s != "done" or a != 1]
    assert not problems, f"jobs not done exactly once: {problems}"
    for api_job in (api.call("GET", f"/api/jobs/{job_id}/") for job_id, *_ in jobs):
        assert (api_job["status"], api_job["attempts"]) == ("done", 1)

    photo_jobs = [(payload["photo_id"], result) for _, kind, _, _, _, payload, result, *_ in jobs if kind == "photo"]
    photo_ids = [pk for (pk,) in db.rows("SELECT id FROM rooms_photo WHERE room_id = ANY(%s)", (all_rooms,))]
    assert sorted(pk for pk, _ in photo_jobs) == sorted(photo_ids), "one photo job per photo"
    assert db.rows("SELECT status, count(*) FROM rooms_photo WHERE room_id = ANY(%s) GROUP BY status", (room_ids,)) == [
        ("done", ROOMS * PEOPLE_PER_ROOM * PHOTOS_PER_PERSON)
    ]
    faces = dict(db.rows("SELECT photo_id, count(*) FROM rooms_face GROUP BY photo_id"))
    assert {pk: faces.get(pk, 0) for pk, _ in photo_jobs} == {pk: result["faces"] for pk, result in photo_jobs}
    duplicates = db.rows(
        'SELECT photo_id, "left", top, width, height FROM rooms_face '
        'GROUP BY photo_id, "left", top, width, height HAVING count(*) > 1'
    )
    assert duplicates == [], "a photo's face was stored twice"
    crowd_duplicates = db.rows(
        'SELECT crowd_photo_id, "left", top FROM swaps_crowdface GROUP BY crowd_photo_id, "left", top, width, height '
        "HAVING count(*) > 1"
    )
    assert crowd_duplicates == [], "a crowd face was stored twice"
    swaps = db.rows(
        "SELECT status, published, jsonb_array_length(answer_key), jsonb_array_length(identity_ids), share_token "
        "FROM swaps_swap WHERE room_id = ANY(%s)",
        (room_ids,),
    )
    assert [(s, p, k) for s, p, k, _, _ in swaps] == [("done", True, PEOPLE_PER_ROOM)] * ROOMS
    for *_, share_token in swaps:
        state = api.call("GET", f"/api/play/{share_token}/")
        assert len(state["friends"]) == PEOPLE_PER_ROOM

    # No file lost, none stored twice: every name in the database is on disk, and nothing else is.
    names = stored_names(db, all_rooms)
    assert len(names) == len(set(names)), "two rows share one file"
    media = deployment.media_root
    missing = [name for name in names if not (media / name).is_file()]
    assert missing == [], f"files lost: {missing[:10]}"
    on_disk = {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()}
    assert on_disk == set(names), f"stray files: {sorted(on_disk - set(names))[:10]}"

    # The work really was shared: every worker process of both hosts ran jobs of the second phase.
    pid = re.compile(r":(\d+):")
    per_worker = Counter(pid.search(worker_id).group(1) for _, _, _, _, worker_id, *_ in jobs)
    second_phase = Counter(
        pid.search(worker_id).group(1) for _, _, _, _, worker_id, *_, group in jobs if group in groups(room_ids)
    )
    assert len(second_phase) >= 2, f"one worker did everything: {second_phase}"

    report = "\n".join(
        [
            "Scale test: 2 web + 3 worker processes (2 setup.sh hosts), one PostgreSQL, one Redis, shared media",
            f"  1 worker : {one_jobs} photo jobs in {one_seconds:.1f} s = {one_rate:.1f} jobs/min (mean {one_mean:.2f} s per job)",
            f"  3 workers: {many_jobs} photo jobs in {many_seconds:.1f} s = {many_rate:.1f} jobs/min "
            f"(mean {many_mean:.2f} s per job; {many_rate / one_rate:.2f}x the single-worker figure, on {os.cpu_count()} CPUs)",
            f"  plus {kinds['crowd']} crowd jobs and {kinds['swap']} swaps; every job done with 1 attempt; "
            f"{len(names)} stored files all present, none stray",
            f"  jobs per worker process (pid: jobs, both phases): {dict(sorted(per_worker.items()))}",
        ]
    )
    print("\n" + report)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(report + "\n")
