"""Clustering friends' faces into people and keeping identities stable."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from swaps.pipeline import identities


def _flatten(identity_data):
    rows = [
        (path, label, face)
        for path, label, found in zip(identity_data.paths, identity_data.labels, identity_data.faces, strict=True)
        for face in found
    ]
    return rows


def test_clusters_identities_with_ari_at_least_095(identity_data) -> None:
    rows = _flatten(identity_data)
    labels = identities.cluster_faces(
        np.array([face.embedding for _, _, face in rows]),
        photo_keys=[path for path, _, _ in rows],
        seeds_ok=[face.usable for _, _, face in rows],
    )
    # Score each photo's main face; an unclustered face counts as a person of its own.
    main: dict[str, tuple[float, int, str]] = {}
    for index, (path, truth, face) in enumerate(rows):
        if path not in main or face.quality["size"] > main[path][0]:
            main[path] = (face.quality["size"], index, truth)
    predicted = [labels[index] if labels[index] >= 0 else -1000 - index for _, index, _ in main.values()]
    truth = [person for _, _, person in main.values()]
    assert len(main) == 61
    assert adjusted_rand_score(truth, predicted) >= 0.95


def test_same_photo_faces_never_share_a_label() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=128)
    vectors = np.array([base, base + 0.01, base + 0.02])
    labels = identities.cluster_faces(vectors, photo_keys=["a", "a", "b"], seeds_ok=[True, True, True])
    assert labels[0] != labels[1] or labels[0] == -1
    assert labels[2] in (labels[0], labels[1]) and labels[2] >= 0


def test_unusable_faces_join_but_never_seed(person_embeddings) -> None:
    vectors = person_embeddings["marissa_mayer"]  # two photos of one person
    assert identities.cluster_faces(vectors, photo_keys=[0, 1], seeds_ok=[False, False]) == [-1, -1]
    assert identities.cluster_faces(vectors, photo_keys=[0, 1], seeds_ok=[True, True]) == [0, 0]
    three = np.vstack([vectors, vectors[:1]])
    assert identities.cluster_faces(three, photo_keys=[0, 1, 2], seeds_ok=[True, True, False]) == [0, 0, 0]


def test_carry_over_keeps_names_one_to_one() -> None:
    labels = [0, 0, 0, 1, 1, 2, -1]
    previous = [17, 17, 99, 42, None, None, 5]
    assert identities.carry_over(labels, previous) == {0: 17, 1: 42, 2: None}
    # A split: the bigger half keeps the old identity, the other becomes a new person.
    assert identities.carry_over([0, 0, 1], [7, 7, 7]) == {0: 7, 1: None}


def test_recluster_after_upload_keeps_identity(person_embeddings) -> None:
    first_people = ["angelina_jolie", "george_clooney"]
    vectors = np.vstack([person_embeddings[name] for name in first_people])
    keys = list(range(len(vectors)))
    first = identities.cluster_faces(vectors, photo_keys=keys, seeds_ok=[True] * len(keys))
    names = {label: f"named-{label}" for label in set(first)}
    more = np.vstack([person_embeddings["katy_perry"], vectors])  # new photos arrive first in the list
    second = identities.cluster_faces(more, photo_keys=list(range(len(more))), seeds_ok=[True] * len(more))
    previous = [None] * len(person_embeddings["katy_perry"]) + [names[label] for label in first]
    mapping = identities.carry_over(second, previous)
    assert sorted(value for value in mapping.values() if value) == sorted(names.values())
    assert list(mapping.values()).count(None) == 1


def test_carry_over_prefers_the_hosts_identities() -> None:
    # A later photo joins two one-face people: "named" (the host gave it a name) and 7 (nobody touched it).
    labels = [0, 0, 0]
    previous = [7, 7, "named"]
    assert identities.carry_over(labels, previous) == {0: 7}  # most faces win when nothing was decided
    assert identities.carry_over(labels, previous, preferred={"named"}) == {0: "named"}
    # A preferred identity still follows its bigger half on a split, and the other half starts afresh.
    assert identities.carry_over([0, 1, 1], ["named", "named", "named"], preferred={"named"}) == {0: None, 1: "named"}


def test_suggest_merges_finds_one_person_split_in_two(person_embeddings) -> None:
    angelina, george = person_embeddings["angelina_jolie"], person_embeddings["george_clooney"]
    vectors = np.vstack([angelina, george])
    groups = ["a1"] * (len(angelina) // 2) + ["a2"] * (len(angelina) - len(angelina) // 2) + ["g"] * len(george)
    photos = list(range(len(vectors)))
    found = identities.suggest_merges(vectors, groups, photo_keys=photos)
    assert found and {found[0][0], found[0][1]} == {"a1", "a2"}  # the nearest pair is the same person
    assert found[0][2] < identities.DEFAULT_EPS
    assert all({a, b} != {"a1", "g"} or d > found[0][2] for a, b, d in found)
    # The host said "not the same person": never asked again.
    assert all(
        {a, b} != {"a1", "a2"}
        for a, b, _ in identities.suggest_merges(vectors, groups, photo_keys=photos, exclude={frozenset(("a1", "a2"))})
    )
    # Two people seen in one photo are two people: never suggested.
    same_photo = photos.copy()
    same_photo[len(angelina) // 2] = 0
    assert all({a, b} != {"a1", "a2"} for a, b, _ in identities.suggest_merges(vectors, groups, photo_keys=same_photo))
    # Far apart people are not suggested at all.
    assert identities.suggest_merges(vectors, groups, photo_keys=photos, limit=0.0) == []


def test_default_eps_separates_people_on_both_sides(identity_data) -> None:
    rows = [
        (person, face)
        for person, found in zip(identity_data.labels, identity_data.faces, strict=True)
        for face in found
        if face.usable
    ]
    vectors = np.array([face.embedding for _, face in rows])
    distances = np.linalg.norm(vectors[:, None] - vectors[None], axis=2)
    different = np.array([[a != b for b, _ in rows] for a, _ in rows])
    # eps stays below the closest two different people, with room to spare (measured 0.519).
    assert identities.DEFAULT_EPS < distances[different].min() - 0.01
