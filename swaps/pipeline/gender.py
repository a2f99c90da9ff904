"""Estimate whether a face reads as a man's or a woman's from its 128-D embedding (a shipped logistic regression).

The coefficients live in ``gender.json`` beside this file and are rebuilt with
``python -m swaps.pipeline.gender train FOLDER`` where FOLDER holds ``man/`` and ``woman/`` sub-folders of
portraits (see the README for the photos and labels used).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

COEFFICIENTS = Path(__file__).with_name("gender.json")
# Portraits are shrunk to this long side before detection: training needs the big face, not the fine print.
TRAIN_LONG_SIDE = 640
TRAIN_MIN_FACE_PX = 60
CROWD_FACE_PX = 40
CLASSES = ("man", "woman")


@lru_cache(maxsize=4)
def _model(path: Path) -> tuple[np.ndarray, float]:
    """Return the weights and intercept shipped in ``path``, read once per process."""
    data = json.loads(path.read_text())
    return np.asarray(data["weights"], dtype=np.float64), float(data["intercept"])


def embedding_probability(embedding: np.ndarray, coefficients: Path) -> float | None:
    """Return the shipped logistic regression of ``coefficients`` on a 128-D embedding (None for a box-only face)."""
    if np.asarray(embedding).size != 128:
        return None  # kept as a box only (faces.detect_faces' embed=): nothing to read
    weights, intercept = _model(coefficients)
    score = float(np.asarray(embedding, dtype=np.float64).reshape(128) @ weights + intercept)
    return float(1.0 / (1.0 + np.exp(-score)))


def masculinity(embedding: np.ndarray) -> float:
    """Return the probability (0..1) that the face with ``embedding`` reads as a man's (0.5 for a box-only face)."""
    found = embedding_probability(embedding, COEFFICIENTS)
    return 0.5 if found is None else found


def portrait_embeddings(path: str) -> list[list[float]]:
    """Return the embeddings of the largest face in the photo at ``path``: as it is and shrunk to crowd size."""
    from . import faces

    portrait = faces.portrait_face(path, TRAIN_LONG_SIDE, TRAIN_MIN_FACE_PX)
    if portrait is None:
        return []
    rgb, largest = portrait
    result = [[float(v) for v in largest.embedding]]
    # Crowd faces are 30-50 px: the same face at that size embeds differently, and the estimate must hold there.
    shrink = CROWD_FACE_PX / largest.quality["size"]
    small = cv2.resize(rgb, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    again = faces.detect_faces(small, min_face_px=int(CROWD_FACE_PX * 0.8))
    if again:
        result.append([float(v) for v in max(again, key=lambda face: face.quality["size"]).embedding])
    return result


def train(folder: Path, out: Path = COEFFICIENTS, workers: int = 2) -> dict[str, float]:
    """Fit the regression on ``folder``/man and ``folder``/woman portraits, write ``out``; return the figures."""
    from . import images

    paths: list[str] = []
    labels: list[int] = []
    for label, name in enumerate(CLASSES):
        found = images.find_images([str(folder / name)])
        paths.extend(found)
        labels.extend([1 - label] * len(found))  # 1 = man
    return train_embedding_regression(
        paths, labels, out, source="man/ and woman/ portraits; see README (gender estimate)", workers=workers
    )


def train_embedding_regression(
    paths: Sequence[str], labels: Sequence[int], out: Path, *, source: str, balanced: bool = False, workers: int = 2
) -> dict[str, float]:
    """Fit a logistic regression on the embeddings of the portraits at ``paths`` (each as it is and shrunk to crowd
    size) against ``labels`` (1 or 0), write its coefficients to ``out``; return the figures."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold, cross_val_predict

    from . import faces

    with ProcessPoolExecutor(max_workers=workers, initializer=faces.load_models) as pool:
        embeddings = list(pool.map(portrait_embeddings, paths, chunksize=4))
    x = np.array([emb for per in embeddings for emb in per])
    y = np.array([label for per, label in zip(embeddings, labels, strict=True) for _ in per])
    # Both sizes of one photo stay in one fold, so the figures are those of photos never seen.
    groups = np.array([index for index, per in enumerate(embeddings) for _ in per])
    # A mild penalty: 128 features and about 1000 faces, and the weights must generalise to crowd faces. Balanced
    # when one class is rare, so it is not drowned.
    model = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced" if balanced else None)
    found = cross_val_predict(model, x, y, cv=GroupKFold(n_splits=5), groups=groups, method="predict_proba")[:, 1]
    model.fit(x, y)
    figures = {
        "photos": len(paths),
        "photos_with_a_face": int(sum(1 for per in embeddings if per)),
        "faces": len(x),
        "positives": int(y.sum()),
        "cv_accuracy": round(float(((found >= 0.5) == (y == 1)).mean()), 4),
        "cv_roc_auc": round(float(roc_auc_score(y, found)), 4),
    }
    out.write_text(
        json.dumps(
            {
                "source": source,
                **figures,
                "weights": [round(float(v), 6) for v in model.coef_[0]],
                "intercept": round(float(model.intercept_[0]), 6),
            },
            indent=1,
        )
        + "\n"
    )
    _model.cache_clear()
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """Train the shipped coefficients from a folder of labelled portraits."""
    parser = argparse.ArgumentParser(prog="python -m swaps.pipeline.gender", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    command = sub.add_parser("train", help="fit the coefficients on FOLDER/man and FOLDER/woman")
    command.add_argument("folder", type=Path)
    command.add_argument("--out", type=Path, default=COEFFICIENTS)
    args = parser.parse_args(argv)
    if not (args.folder / "man").is_dir() or not (args.folder / "woman").is_dir():
        print(f"error: {args.folder} needs man/ and woman/ sub-folders", file=sys.stderr)
        return 2
    print(json.dumps(train(args.folder, args.out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
