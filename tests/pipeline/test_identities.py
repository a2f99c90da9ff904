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
