"""Fit in the app (issue 11): the swap form shows how each friend fits a crowd, the job places friends by fit, pins
and re-rolls reach the job, who was left out is said, and a swap nobody fits fails clearly.

Real photos and real face models throughout: friends from shared/data/identities, and a crowd of men composed at
test time from portraits of other men (tiled into one picture, uploaded as a crowd photo).
"""

import io
import time

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from PIL import Image, ImageOps

from crowdswap.jobs.engine import enqueue
from crowdswap.jobs.models import Job
from crowdswap.lib.errors import ServiceError
from rooms.models import Face, Identity
from rooms.services import photos
from swaps.models import CrowdFace, CrowdPhoto, Swap
from swaps.pipeline import matching, traits
from swaps.services import crowds, placement
from swaps.services import swaps as swaps_services
from tests.rooms.photos import run_queued_jobs, small_jpeg, upload

pytestmark = pytest.mark.usefixtures("media", "face_models")

# Six men, one portrait each: the crowd of men. Five are not among the friends; on them Mark fits only fairly (his
# photos read as a less certain man, fit.GOOD). The sixth is Mark himself, in a photo the room does not have (the
# friends' photos are img13 and img14): he fits there well, as a friend who is in the crowd photo does.
MEN = (
    ("george_clooney", "img38.jpg"),
    ("matt_damon", "img29.jpg"),
    ("jeff_bezos", "img20.jpg"),
    ("leonardo_dicaprio", "img34.jpg"),
    ("jack_dorsey", "img16.jpg"),
    ("mark_zuckerberg", "img15.jpg"),
)
TILE = 300
# The friends: two women and a man (tests/rooms/photos.py picks photos of each that cluster into one person).
FRIENDS = {"angelina_jolie": "Angie", "jennifer_aniston": "Jen", "mark_zuckerberg": "Mark"}


def tiled_crowd(data_dir, portraits, *, tile: int = TILE, columns: int = 3) -> bytes:
    """Return one JPEG of the portraits side by side, each cut to a square tile around the face."""
    rows = -(-len(portraits) // columns)
    canvas = Image.new("RGB", (tile * columns, tile * rows), (90, 90, 90))
    for index, (person, name) in enumerate(portraits):
        with Image.open(data_dir / "identities" / person / name) as portrait:
            cell = ImageOps.fit(portrait.convert("RGB"), (tile, tile), centering=(0.5, 0.4))
        canvas.paste(cell, ((index % columns) * tile, (index // columns) * tile))
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def men_jpeg(data_dir) -> bytes:
    return tiled_crowd(data_dir, MEN)


def add_friends(room, small_photos, people=FRIENDS, per_person: int = 2) -> dict[str, Identity]:
    """Upload friends' photos, run the photo jobs and name each person; return them by name."""
    files = [upload(f"{person}-{i}.jpg", small_photos[person][i]) for person in people for i in range(per_person)]
    photos.add_photos(room=room, files=files)
    run_queued_jobs("photo")
    named = {}
    for identity in Identity.objects.filter(room=room):
        person = identity.faces.first().photo.original_name.rsplit("-", 1)[0]
        identity.name = people[person]
        identity.save()
        named[identity.name] = identity
    assert sorted(named) == sorted(people.values())
    return named


@pytest.fixture
def men_room(room, small_photos, men_jpeg):
    """A room with Angie, Jen and Mark, and a processed crowd photo of six other men."""
    friends = add_friends(room, small_photos)
    crowds.add_crowd_photos(room=room, files=[upload("men.jpg", men_jpeg)])
    run_queued_jobs("crowd")
    crowd = CrowdPhoto.objects.get(room=room)
    assert crowd.faces.filter(can_host=True).count() == len(MEN)
    return room, crowd, friends


def placement_api(client, room, crowd, **params):
    return client.get(reverse("api-crowd-placement", args=[room.pk, crowd.pk]), params)


def test_the_form_shows_each_friends_fit_and_ticks_those_who_fit_well(host_client, men_room):
    room, crowd, friends = men_room
    html = host_client.get(reverse("swaps:swaps", args=[room.pk])).content.decode()
    rows = {name: _friend_row(html, identity.pk) for name, identity in friends.items()}
    # The women may go on no face of a crowd of men, and the form says why in words.
    for woman in ("Angie", "Jen"):
        assert 'class="badge fit-poor">Poor fit</span>' in rows[woman]
        assert "looks like a man, the friend does not" in rows[woman]
        assert "checked" not in rows[woman]
    # Mark fits: ticked for the host, placed on a face of the preview (a box with his name on the crowd picture).
    assert 'class="badge fit-good">Good fit</span>' in rows["Mark"] and "checked" in rows["Mark"]
    assert "Placed on a face that fits them best." in rows["Mark"]
    assert html.count('class="host-box') == len(MEN) + 1  # and their layer, class="host-boxes"
    assert '<span class="host-label">Mark</span>' in html

    # The API the form redraws from: the same verdicts, each face's fit, the preview's placement.
    body = placement_api(host_client, room, crowd).json()
    by_name = {friend["name"]: friend for friend in body["friends"]}
    assert by_name["Mark"]["verdict"] == "good" and by_name["Angie"]["verdict"] == "poor"
    assert all(len(friend["faces"]) == len(MEN) for friend in body["friends"])
    assert not any(face["allowed"] for face in by_name["Jen"]["faces"])
    assert body["preselected"] == body["chosen"] == [friends["Mark"].pk]
    ((placed,),) = [body["placement"]]
    assert placed["name"] == "Mark" and placed["verdict"] == "good"
    assert placed["crowd_face"] in [host["id"] for host in body["hosts"]]
    # Choosing everybody: the women are left out of the preview, with the reason.
    everybody = ",".join(str(identity.pk) for identity in friends.values())
    body = placement_api(host_client, room, crowd, identities=everybody).json()
    assert [p["name"] for p in body["placement"]] == ["Mark"]
    assert sorted(u["name"] for u in body["unplaced"]) == ["Angie", "Jen"]
    assert all(u["reason"].startswith("looks like a man, the friend does not") for u in body["unplaced"])


def test_the_preview_boxes_only_faces_large_enough_for_the_difficulty(host_client, men_room):
    # Two faces of the crowd read smaller: 40 px, large enough at Medium (36 px) but not at Easy (48 px), and 30 px,
    # large enough at neither. A face too small gets no box, no fit in the API and no place in the count of friends
    # to tick, as the form's "can host" hint says.
    room, crowd, friends = men_room
    forty, thirty = crowd.faces.filter(can_host=True).order_by("id")[:2]
    for face, size in ((forty, 40.0), (thirty, 30.0)):
        face.quality = {**face.quality, "size": size}
        face.save(update_fields=["quality"])
    for difficulty, boxed in (("medium", len(MEN) - 1), ("easy", len(MEN) - 2)):
        body = placement_api(host_client, room, crowd, difficulty=difficulty).json()
        ids = [host["id"] for host in body["hosts"]]
        assert len(ids) == boxed and thirty.pk not in ids and (forty.pk in ids) == (difficulty == "medium")
        assert all([face["crowd_face"] for face in friend["faces"]] == ids for friend in body["friends"])
        planner = placement.Planner.load(crowd=crowd, difficulty=difficulty, eligible=list(friends.values()))
        assert planner.host_count == boxed
    page = host_client.get(reverse("swaps:swaps", args=[room.pk])).content.decode()  # opens at Medium
    assert page.count('class="host-box') == len(MEN) - 1 + 1  # and their layer, class="host-boxes"
    assert f'data-face="{thirty.pk}"' not in page and f'data-face="{forty.pk}"' in page


def _friend_row(html: str, identity_id: int) -> str:
    start = html.index(f'<li class="friend-row" data-identity="{identity_id}"')
    return html[start : html.index("</li>", start)]


def test_a_crowd_of_men_gets_only_the_men_among_the_friends(host_client, men_room):
    room, crowd, friends = men_room
    url = reverse("swaps:swap-start", args=[room.pk])
    choice = {"crowd": crowd.pk, "identities": [i.pk for i in friends.values()], "difficulty": "medium"}
    # The host is warned first: two of the three will not be hidden.
    html = host_client.post(url, choice, follow=True).content.decode()
    assert not Swap.objects.exists()
    assert "Not started yet: Angie and Jen won&#x27;t be hidden: looks like a man, the friend does not." in html
    assert 'id="poor-warning" role="alert">' in html and "Start anyway" in html
    # Start anyway: the job hides Mark only and says why the others are not in the picture.
    host_client.post(url, {**choice, "anyway": "1"})
    swap = Swap.objects.get()
    (job,) = run_queued_jobs("swap")
    swap.refresh_from_db()
    assert job.status == Job.Status.DONE and swap.status == Swap.Status.DONE
    assert swap.hidden_identity_ids() == [friends["Mark"].pk]
    assert job.result == {"swap_id": swap.pk, "hidden": 1, "version": 1}
    reasons = {entry["identity"]: entry["reason"] for entry in swap.unplaced}
    assert sorted(reasons) == sorted([friends["Angie"].pk, friends["Jen"].pk])
    assert all(reason.startswith("looks like a man, the friend does not") for reason in reasons.values())
    # The version tells the host, and so does the API.
    html = host_client.get(reverse("swaps:swaps", args=[room.pk])).content.decode()
    assert "Angie wasn't hidden: looks like a man, the friend does not" in html
    assert "Jen wasn't hidden: looks like a man, the friend does not" in html
    body = host_client.get(reverse("api-swap", args=[room.pk, swap.pk])).json()
    assert sorted(u["name"] for u in body["unplaced"]) == ["Angie", "Jen"]
    assert [f["name"] for f in body["friends"]] == ["Mark"]


def test_faces_read_by_an_older_version_are_read_again_and_kept_by_the_swap(host_client, men_room):
    # A crowd and photos stored before the look's reading changed (pooled skin tones, traits.VERSION 2) carry no
    # version: the swap reads them again, and keeps the new reading for the form's fits.
    room, crowd, friends = men_room
    stored = [*crowd.faces.filter(can_host=True), *friends["Mark"].faces.all()]
    for face in stored:
        old = {key: value for key, value in face.quality.items() if key not in (traits.VERSION_KEY, "eye_white")}
        face.quality = {**old, "skin_tone": 0.3}  # as version 1 read it, and a tone that is not theirs
        face.save(update_fields=["quality"])
    choice = {"crowd": crowd.pk, "identities": [friends["Mark"].pk], "difficulty": "medium"}
    host_client.post(reverse("swaps:swap-start", args=[room.pk]), choice)
    (job,) = run_queued_jobs("swap")
    assert job.status == Job.Status.DONE
    for face in stored:
        face.refresh_from_db()
        assert traits.is_current(face.quality) and "eye_white" in face.quality, face.pk
        assert face.quality.get("skin_tone") != 0.3, face.pk


def test_read_traits_reads_the_stored_faces_of_an_older_version_again(men_room):
    # After a deploy that changes the reading, `manage.py read_traits` brings stored crowds and friends' photos up to
    # date before their next swap, so the form weighs what the job will. A photo whose file is gone is said and
    # skipped; a second run has nothing left to read.
    room, crowd, friends = men_room
    stored = [*crowd.faces.filter(can_host=True), *Face.objects.filter(photo__room=room)]
    stored = [face for face in stored if face.embedded]
    now = {(type(face), face.pk): dict(face.quality) for face in stored}
    for face in stored:
        old = {key: value for key, value in face.quality.items() if key not in (traits.VERSION_KEY, "eye_white")}
        face.quality = {**old, "skin_tone": 0.3}  # as version 1 read it, and a tone that is not theirs
        face.save(update_fields=["quality"])
    gone = friends["Jen"].faces.first().photo
    default_storage.delete(gone.image.name)
    out, err = io.StringIO(), io.StringIO()
    call_command("read_traits", stdout=out, stderr=err)
    friend_faces = [face for face in stored if isinstance(face, Face)]
    read_friends = [face for face in friend_faces if face.photo_id != gone.pk]
    assert f"friends' photos: {len(read_friends)} faces of {len(read_friends)} photos read again" in out.getvalue()
    assert f"crowd photos: {len(stored) - len(friend_faces)} faces of 1 photos read again" in out.getvalue()
    assert f"could not read Photo {gone.pk}" in err.getvalue()
    for face in stored:
        face.refresh_from_db()
        if isinstance(face, Face) and face.photo_id == gone.pk:
            assert not traits.is_current(face.quality)
            continue
        # As read at upload, up to the stored landmarks' rounding (0.1 px).
        before = now[(type(face), face.pk)]
        assert traits.is_current(face.quality) and set(face.quality) == set(before), face.pk
        assert face.quality.get("skin_tone", 0.0) == pytest.approx(before.get("skin_tone", 0.0), abs=0.02), face.pk
    out = io.StringIO()
    call_command("read_traits", stdout=out, stderr=io.StringIO())
    assert "friends' photos: 0 faces of 0 photos" in out.getvalue() and "crowd photos: 0 faces of 0" in out.getvalue()


def test_a_pin_is_honoured_and_a_pin_below_the_floor_is_refused(host_client, men_room):
    room, crowd, friends = men_room
    mark, angie = friends["Mark"], friends["Angie"]
    body = placement_api(host_client, room, crowd, identities=str(mark.pk)).json()
    chosen_by_fit = body["placement"][0]["crowd_face"]
    # Pin Mark to the face he fits least among those he may go on: the preview puts him there.
    (mark_fits,) = [f for f in body["friends"] if f["identity"] == mark.pk]
    allowed = [face for face in mark_fits["faces"] if face["allowed"] and face["crowd_face"] != chosen_by_fit]
    target = min(allowed, key=lambda face: face["score"])["crowd_face"]
    body = placement_api(host_client, room, crowd, identities=str(mark.pk), pins=f"{mark.pk}:{target}").json()
    ((placed,),) = [body["placement"]]
    assert (placed["crowd_face"], placed["pinned"], body["refused"]) == (target, True, [])
    assert body["pins"] == {str(mark.pk): target}

    # Angie on a man's face: refused with the reason, in the preview and when starting.
    both = f"{mark.pk},{angie.pk}"
    body = placement_api(host_client, room, crowd, identities=both, pins=f"{angie.pk}:{target}").json()
    ((refused,),) = [body["refused"]]
    assert refused["detail"].startswith("Angie can't go on that face: looks like a man, the friend does not")
    with pytest.raises(ServiceError, match="Angie can't go on that face: looks like a man, the friend does not"):
        swaps_services.start_swap(
            room=room, crowd_photo_id=crowd.pk, identity_ids=[mark.pk, angie.pk], pins={angie.pk: target}
        )
    response = host_client.post(
        reverse("api-swaps", args=[room.pk]),
        {"crowd_photo": crowd.pk, "identities": [angie.pk], "pins": {str(angie.pk): target}},
        content_type="application/json",
    )
    assert response.status_code == 400 and "looks like a man" in response.json()["detail"]
    # A face that cannot take a friend, or a friend not chosen, makes no pin at all.
    small = CrowdFace.objects.filter(crowd_photo=crowd, can_host=False).first()
    for pins, words in (
        ({mark.pk: small.pk if small else 10**9}, "cannot take a friend"),
        ({angie.pk: target}, "Pin only"),
    ):
        with pytest.raises(ServiceError, match=words):
            swaps_services.start_swap(room=room, crowd_photo_id=crowd.pk, identity_ids=[mark.pk], pins=pins)
    assert not Swap.objects.exists()

    # The job honours the pin: Mark is hidden on that face.
    swap = swaps_services.start_swap(room=room, crowd_photo_id=crowd.pk, identity_ids=[mark.pk], pins={mark.pk: target})
    assert swap.pinned_faces() == {mark.pk: target}
    run_queued_jobs("swap")
    swap.refresh_from_db()
    (answer,) = swap.answer_key
    face = CrowdFace.objects.get(pk=target)
    assert answer["identity"] == mark.pk
    assert answer["crowd_box"] == pytest.approx(crowds.normalised_box(face, crowd.width, crowd.height), abs=1e-4)


@pytest.fixture
def stadium_room(room, small_photos, data_dir):
    """A room with Angie, Jen and Mark, and stadium.jpg: two dozen faces of 26-40 px, many of them near-equal."""
    friends = add_friends(room, small_photos)
    stadium = (data_dir / "crowds" / "stadium.jpg").read_bytes()
    crowds.add_crowd_photos(room=room, files=[upload("stadium.jpg", stadium)])
    run_queued_jobs("crowd")
    return room, CrowdPhoto.objects.get(room=room), friends


def test_a_reroll_changes_the_placement_among_near_equal_faces_and_the_job_follows(host_client, stadium_room):
    room, crowd, friends = stadium_room
    jen = friends["Jen"]
    # Hard: the stadium's faces of 36 px and more, the smaller ones first; several women's faces fit Jen about as well.
    chosen = {"identities": str(jen.pk), "difficulty": "hard"}
    first = placement_api(host_client, room, crowd, **chosen).json()
    assert first["seed"] is None and first["placement"][0]["verdict"] == "good"
    again = placement_api(host_client, room, crowd, **chosen, reroll="true").json()
    assert again["rerolled"] is True and again["seed"] is not None
    assert again["placement"][0]["crowd_face"] != first["placement"][0]["crowd_face"]
    # Among near-equal faces: never one she may not go on, never one that fits her much worse.
    assert again["placement"][0]["allowed"]
    assert again["placement"][0]["score"] >= first["placement"][0]["score"] - matching.REROLL_JITTER
    same = placement_api(host_client, room, crowd, **chosen, seed=again["seed"]).json()
    assert same["placement"] == again["placement"]
    # At Easy no stadium face is large enough (48 px): a pin there is refused with the size in words.
    face = first["placement"][0]["crowd_face"]
    easy = placement_api(host_client, room, crowd, identities=str(jen.pk), difficulty="easy", pins=f"{jen.pk}:{face}")
    ((refused,),) = [easy.json()["refused"]]
    assert refused["reason"].startswith("face too small to recognise (") and "< 48 px)" in refused["reason"]
    assert easy.json()["placement"] == [] and all(f["verdict"] == "poor" for f in easy.json()["friends"])
    # The seed travels with the start (the form's hidden field) and the job places Jen where the preview did.
    url = reverse("swaps:swap-start", args=[room.pk])
    host_client.post(url, {"crowd": crowd.pk, "identities": [jen.pk], "seed": str(again["seed"]), "difficulty": "hard"})
    swap = Swap.objects.get()
    assert swap.seed == again["seed"] and swap.pins == {}
    run_queued_jobs("swap")
    swap.refresh_from_db()
    assert swap.status == Swap.Status.DONE, swap.error
    assert swap.answer_key[0]["crowd_box"] == pytest.approx(again["placement"][0]["box"], abs=1e-4)
    # A crowd with one face Jen may go on has nothing to re-roll to: the host is told so.
    only = CrowdFace.objects.get(pk=again["placement"][0]["crowd_face"])
    CrowdFace.objects.filter(crowd_photo=crowd).exclude(pk=only.pk).update(can_host=False)
    stuck = placement_api(host_client, room, crowd, **chosen, reroll="true").json()
    assert stuck["rerolled"] is False and stuck["detail"].startswith("No other placement fits about as well")
    assert stuck["placement"][0]["crowd_face"] == only.pk


def test_a_reroll_keeps_trying_seeds_until_the_placement_differs(host_client, stadium_room, monkeypatch):
    # A face that fits a little worse than the one shown comes up for few seeds; with only the faces of 36 px and
    # more there is often just that one, and 24 random tries missed it (the swap form's browser test). Here the
    # first 40 seeds drawn keep Jen where she is and the 41st moves her.
    room, crowd, friends = stadium_room
    jen = friends["Jen"].pk
    eligible = list(swaps_services.swappable_identities(room))
    planner = placement.Planner.load(crowd=crowd, difficulty=Swap.Difficulty.MEDIUM, eligible=eligible)
    shown = planner.place([jen], {}, None).placement_key()
    same = [s for s in range(1, 400) if planner.place([jen], {}, s).placement_key() == shown][:40]
    moved = next(s for s in range(1, 400) if planner.place([jen], {}, s).placement_key() != shown)
    drawn = iter([*same, moved])
    monkeypatch.setattr(placement.secrets, "randbelow", lambda _: next(drawn))
    again, found = planner.reroll([jen], {}, None)
    assert len(same) == 40 and found and again.seed == moved and again.placement_key() != shown


def test_a_swap_nobody_fits_is_refused_and_a_job_that_hides_nobody_fails_clearly(host_client, men_room):
    room, crowd, friends = men_room
    women = [friends["Angie"].pk, friends["Jen"].pk]
    with pytest.raises(ServiceError, match="Nobody you chose fits a face in this crowd .Angie: looks like a man"):
        swaps_services.start_swap(room=room, crowd_photo_id=crowd.pk, identity_ids=women)
    # A swap queued all the same (by a version before this check, or before the faces changed) fails in the
    # worker with the reasons instead of publishing an empty challenge.
    swap = Swap.objects.create(room=room, crowd_photo=crowd, version=1, identity_ids=women)
    swap.job = enqueue(
        kind=swaps_services.SWAP_JOB, payload={"swap_id": swap.pk}, owner_id=room.owner_id, group_name=room.group_name
    )
    swap.save(update_fields=["job"])
    (job,) = run_queued_jobs("swap")
    swap.refresh_from_db()
    assert job.status == Job.Status.FAILED and swap.status == Swap.Status.FAILED
    assert swap.error.startswith("Nobody could be hidden in this crowd (Angie: looks like a man, the friend does not")
    assert not swap.image and swap.answer_key == []
    assert sorted(entry["identity"] for entry in swap.unplaced) == sorted(women)
    html = host_client.get(reverse("swaps:swaps", args=[room.pk])).content.decode()
    assert "Nobody could be hidden in this crowd" in html and "Angie wasn't hidden" in html


def test_the_forms_fits_on_the_stadium_with_ten_friends(host_client, room, labelled_photos, data_dir):
    """The form weighs every friend on every face from stored faces, in the web request: how long it takes is
    printed (`-s`), never asserted. Women go on women's faces and men on men's."""
    people = sorted(labelled_photos)[:10]
    files = [upload(f"{p}-{i}.jpg", small_jpeg(path)) for p in people for i, path in enumerate(labelled_photos[p][:2])]
    photos.add_photos(room=room, files=files)
    crowds.add_crowd_photos(
        room=room, files=[upload("stadium.jpg", (data_dir / "crowds" / "stadium.jpg").read_bytes())]
    )
    run_queued_jobs()
    crowd = CrowdPhoto.objects.get(room=room)
    eligible = list(swaps_services.swappable_identities(room))
    assert len(eligible) >= 10
    ids = ",".join(str(identity.pk) for identity in eligible)
    timings = {}
    for name, call in (
        ("service", lambda: placement.preview(crowd=crowd, eligible=eligible, identity_ids=[i.pk for i in eligible])),
        ("api", lambda: placement_api(host_client, room, crowd, identities=ids)),
        ("page", lambda: host_client.get(reverse("swaps:swaps", args=[room.pk]))),
    ):
        call()  # warm: the first call imports and loads what later ones reuse
        began = time.perf_counter()
        for _ in range(3):
            answer = call()
        timings[name] = (time.perf_counter() - began) / 3
    shown = placement.preview(crowd=crowd, eligible=eligible, identity_ids=[i.pk for i in eligible])
    print(
        f"\nstadium: {len(eligible)} people x {len(shown.hosts)} faces: "
        + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in timings.items())
    )
    assert answer.status_code == 200
    assert all(row.best.verdict in ("good", "fair", "poor") and row.on for row in shown.friends)
    assert len(shown.placed) >= 5  # on the stadium's ten faces of 36 px and more
    for row in shown.placed:
        friend = placement.placement_inputs(crowd, [row.identity.pk]).friends[row.identity.pk]
        friend_masculine = sorted(face.quality["masculine"] for face in friend)[len(friend) // 2]
        assert (friend_masculine > 0.5) == (row.face.quality["masculine"] > 0.5), row.identity.display_name
