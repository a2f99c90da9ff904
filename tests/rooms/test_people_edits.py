"""Undo for merges and moved faces, and the host's choice of cover photo: services and API."""

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from crowdswap.lib.errors import Conflict, ServiceError
from rooms.models import Face, Identity, PeopleEdit, Photo
from rooms.services import identities
from swaps.models import Swap
from swaps.services import play
from tests.swaps.conftest import tiny_jpeg

pytestmark = pytest.mark.usefixtures("media")


def person(room, name: str = "", faces: int = 2, **fields) -> Identity:
    """Make a person with faces in photos of their own (pixels do not matter to these edits)."""
    identity = Identity.objects.create(room=room, name=name, **fields)
    for i in range(faces):
        photo = Photo(room=room, sha256=f"{name or 'anon'}-{identity.pk}-{i}", original_name=f"{name}{i}.jpg")
        photo.image.save("p.jpg", ContentFile(tiny_jpeg()), save=False)
        photo.width, photo.height, photo.status = 400, 300, "done"
        photo.save()
        face = Face(photo=photo, identity=identity, left=10, top=10, width=60, height=60, embedding=b"")
        face.quality, face.usable = {"size": 60 + i, "frontalness": 0.9, "sharpness": 0.9}, True
        face.thumbnail.save("t.jpg", ContentFile(tiny_jpeg(size=(80, 80))), save=False)
        face.save()
    return identity


def faces_of(identity_id: int) -> set[int]:
    return set(Face.objects.filter(identity_id=identity_id, ignored=False).values_list("pk", flat=True))


@pytest.mark.postgres_too
def test_undoing_a_merge_brings_each_person_back_as_they_were(room):
    angie = person(room, "Angie")
    jen = person(room, "Jen", hidden=True)
    unnamed = person(room, faces=1)
    before = {i.pk: faces_of(i.pk) for i in (angie, jen, unnamed)}
    Face.objects.filter(pk__in=before[angie.pk]).update(pinned=True)
    # A version hides Jen by id: the undo must give it its friend back, not a look-alike.
    swap = Swap.objects.create(room=room, version=1, identity_ids=[jen.pk], answer_key=[])

    angie_cover = angie.cover_face()
    # Jen's faces are the better pictures: still, the merged card keeps the face the host knew it by.
    Face.objects.filter(identity=jen).update(quality={"size": 500, "frontalness": 1.0, "sharpness": 1.0})
    edit = identities.merge_identities(room=room, identity_ids=[angie.pk, jen.pk, unnamed.pk], name="Angela")
    assert edit.kind == PeopleEdit.Kind.MERGE and edit.identity.pk == angie.pk
    assert Identity.objects.get(pk=angie.pk).cover_face() == angie_cover
    assert faces_of(angie.pk) == set().union(*before.values())
    assert list(Identity.objects.filter(room=room)) == [angie]

    identities.undo_edit(edit=edit)
    people = {i.pk: i for i in Identity.objects.filter(room=room)}
    assert set(people) == {angie.pk, jen.pk, unnamed.pk}
    assert (people[angie.pk].name, people[jen.pk].name, people[unnamed.pk].name) == ("Angie", "Jen", "")
    assert people[jen.pk].hidden and not people[angie.pk].hidden
    assert people[jen.pk].created_at == jen.created_at
    assert people[angie.pk].cover_id is None  # back to "the best face", as before the merge
    for identity_id, faces in before.items():
        assert faces_of(identity_id) == faces
    # Pinned flags are back too: only the faces the host had pinned stay pinned.
    assert set(Face.objects.filter(pinned=True).values_list("pk", flat=True)) == before[angie.pk]
    assert swap.identity_ids == [jen.pk] and Identity.objects.filter(pk=jen.pk).exists()
    with pytest.raises(Conflict, match="undone already"):
        identities.undo_edit(edit=edit)


def test_faces_changed_after_a_merge_stay_where_the_host_put_them(room):
    angie, jen = person(room, "Angie"), person(room, "Jen", faces=3)
    jen_faces = sorted(faces_of(jen.pk))
    edit = identities.merge_identities(room=room, identity_ids=[angie.pk, jen.pk])
    identities.ignore_face(face=Face.objects.get(pk=jen_faces[0]), ignored=True)
    elsewhere = identities.move_face(face=Face.objects.get(pk=jen_faces[1]), identity_id=None).identity

    identities.undo_edit(edit=edit)
    assert faces_of(jen.pk) == {jen_faces[2]}
    assert Face.objects.get(pk=jen_faces[0]).ignored
    assert faces_of(elsewhere.pk) == {jen_faces[1]}


@pytest.mark.postgres_too
def test_undoing_a_move_puts_the_face_back_and_drops_the_person_it_made(room):
    mark = person(room, "Mark", faces=3)
    face = Face.objects.filter(identity=mark).first()
    edit = identities.move_face(face=face, identity_id=None)
    loner = edit.identity
    assert loner.pk != mark.pk and faces_of(loner.pk) == {face.pk}

    identities.undo_edit(edit=edit)
    face.refresh_from_db()
    assert face.identity_id == mark.pk and not face.pinned
    assert not Identity.objects.filter(pk=loner.pk).exists()


def test_undoing_a_move_brings_back_a_person_it_emptied(room):
    solo = person(room, "Solo", faces=1)
    mark = person(room, "Mark")
    solo.cover_id = Face.objects.get(identity=solo).pk
    solo.save()
    face = Face.objects.get(identity=solo)
    edit = identities.move_face(face=face, identity_id=mark.pk)
    assert not Identity.objects.filter(pk=solo.pk).exists()

    identities.undo_edit(edit=edit)
    back = Identity.objects.get(pk=solo.pk)
    assert back.name == "Solo" and faces_of(back.pk) == {face.pk} and back.cover_face() == face


def test_a_move_cannot_be_undone_once_the_face_moved_again(room):
    mark, jen = person(room, "Mark"), person(room, "Jen")
    face = Face.objects.filter(identity=mark).first()
    edit = identities.move_face(face=face, identity_id=jen.pk)
    identities.move_face(face=face, identity_id=None)
    with pytest.raises(Conflict, match="changed again"):
        identities.undo_edit(edit=edit)
    assert PeopleEdit.objects.get(pk=edit.pk).undone_at is None


def test_the_hosts_cover_photo_wins_over_the_best_face_while_it_is_theirs(client, room, challenge):
    angie = Identity.objects.get(pk=challenge.answer_key[0]["identity"])
    person_faces = []
    for i in range(2):
        photo = Photo(room=room, sha256=f"cover-{i}", original_name="c.jpg")
        photo.image.save("c.jpg", ContentFile(tiny_jpeg()), save=False)
        photo.width, photo.height = 400, 300
        photo.save()
        face = Face(photo=photo, identity=angie, left=1, top=1, width=50, height=50, embedding=b"")
        face.quality, face.usable = {"size": 200 if i == 0 else 60, "frontalness": 0.9, "sharpness": 0.9}, True
        face.thumbnail.save("t.jpg", ContentFile(tiny_jpeg((200, 10 + 100 * i, 10), (80, 80))), save=False)
        face.save()
        person_faces.append(face)
    best, other = person_faces
    assert angie.cover_face() == best

    identities.set_identity_cover(identity=angie, face_id=other.pk)
    angie.refresh_from_db()
    assert angie.cover_face() == other
    # The play page's friend strip shows the host's choice.
    assert play.hidden_friends(challenge)[0]["has_thumb"]
    served = client.get(reverse("play:friend-thumb", args=[challenge.share_token, angie.pk]))
    with other.thumbnail.open("rb") as handle:
        assert b"".join(served.streaming_content) == handle.read()
    stranger_face = Face.objects.get(identity=person(room, "Bob", faces=1))
    with pytest.raises(ServiceError, match="not one of this person"):
        identities.set_identity_cover(identity=angie, face_id=stranger_face.pk)
    # Moved away, the chosen face no longer stands for this person: the best one does again.
    identities.move_face(face=other, identity_id=None)
    angie.refresh_from_db()
    assert angie.cover_face() == best
    identities.set_identity_cover(identity=angie, face_id=None)
    angie.refresh_from_db()
    assert angie.cover_id is None and angie.cover_face() == best


def test_the_api_returns_an_undo_link_and_undoes_through_it(host_client, room, stranger):
    angie, jen = person(room, "Angie"), person(room, "Jen")
    merged = host_client.post(
        reverse("api-identities-merge", args=[room.pk]),
        {"identities": [angie.pk, jen.pk]},
        content_type="application/json",
    )
    assert merged.status_code == 200
    body = merged.json()
    assert body["id"] == angie.pk and body["face_count"] == 4 and body["edit"]["kind"] == "merge"
    undo_url = body["edit"]["undo_url"]
    assert undo_url.endswith(reverse("api-edit-undo", args=[room.pk, body["edit"]["id"]]))
    stranger_client = Client()
    stranger_client.force_login(stranger)
    assert stranger_client.post(undo_url).status_code == 404

    undone = host_client.post(undo_url)
    assert undone.status_code == 200 and undone.json() == {"detail": "Merge undone.", "identities": [angie.pk, jen.pk]}
    assert host_client.post(undo_url).status_code == 409

    face = Face.objects.filter(identity=jen).first()
    moved = host_client.post(
        reverse("api-face-move", args=[room.pk, face.pk]), {"identity": angie.pk}, content_type="application/json"
    ).json()
    assert moved["id"] == angie.pk and moved["edit"]["kind"] == "move"
    assert host_client.post(moved["edit"]["undo_url"]).json()["identities"] == [jen.pk]
    assert Face.objects.get(pk=face.pk).identity_id == jen.pk and len(faces_of(jen.pk)) == 2

    cover = Face.objects.filter(identity=angie).order_by("-pk").first()
    patched = host_client.patch(
        reverse("api-identity", args=[room.pk, angie.pk]), {"cover": cover.pk}, content_type="application/json"
    ).json()
    assert patched["cover"] == cover.pk
    assert patched["thumbnail_url"].endswith(reverse("rooms:face-thumb", args=[room.pk, cover.pk]))


def test_a_room_keeps_only_its_newest_undo_records(room, monkeypatch):
    monkeypatch.setattr(identities, "KEPT_EDITS", 3, raising=False)
    angie, jen, kim = person(room, "Angie", faces=3), person(room, "Jen"), person(room, "Kim")
    moved = [
        identities.move_face(face=Face.objects.get(pk=pk), identity_id=jen.pk) for pk in sorted(faces_of(angie.pk))[:2]
    ]
    merged = identities.merge_identities(room=room, identity_ids=[jen.pk, kim.pk])
    newest = identities.move_face(face=Face.objects.get(pk=sorted(faces_of(jen.pk))[0]), identity_id=angie.pk)
    kept = list(PeopleEdit.objects.filter(room=room).order_by("-created_at", "-id"))
    assert [edit.pk for edit in kept] == [newest.pk, merged.pk, moved[1].pk]  # the oldest move went
    # What is kept can still be undone, newest first.
    identities.undo_edit(edit=kept[0])
    identities.undo_edit(edit=kept[1])
    assert Identity.objects.filter(pk=kim.pk).exists()
