"""What the shipped models trained on labelled portraits share: a logistic regression on the 128-D embedding (read
and trained: the gender and child estimates) and the ``train ROOT [--labels CSV] [--out JSON]`` command line (glasses
and youth).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

# Portraits are shrunk to this long side before detection: training needs the big face, not the fine print.
TRAIN_LONG_SIDE = 640
TRAIN_MIN_FACE_PX = 60
CROWD_FACE_PX = 40


def labelled_portraits_command(
    module: str, description: str | None, what: str, labels: Path, out: Path, train: Callable[[Path, Path, Path], Any]
) -> Callable[[Sequence[str] | None], int]:
    """Return the ``main`` of ``python -m module``: parse ``train ROOT [--labels] [--out]``, run
    ``train(root, labels, out)`` and print its figures as JSON (exit 2 when ROOT or the labels file is missing)."""

    def main(argv: Sequence[str] | None = None) -> int:
        parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
        sub = parser.add_subparsers(dest="command", required=True)
        command = sub.add_parser("train", help=f"fit {what} on the portraits of --labels under ROOT")
        command.add_argument("root", type=Path, help="folder the paths in the labels file start from")
        command.add_argument("--labels", type=Path, default=labels)
        command.add_argument("--out", type=Path, default=out)
        args = parser.parse_args(argv)
        if not args.root.is_dir():
            print(f"error: {args.root} is not a folder", file=sys.stderr)
            return 2
        if not args.labels.is_file():
            print(f"error: no labels file {args.labels}", file=sys.stderr)
            return 2
        print(json.dumps(train(args.root, args.labels, args.out)))
        return 0

    return main


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
    write_model(
        out,
        {
            "source": source,
            **figures,
            "weights": [round(float(v), 6) for v in model.coef_[0]],
            "intercept": round(float(model.intercept_[0]), 6),
        },
    )
    _model.cache_clear()
    return figures


def write_model(out: Path, model: dict[str, Any]) -> None:
    """Write a trained model's source, figures and numbers to ``out`` as the JSON file that ships beside its code."""
    out.write_text(json.dumps(model, indent=1) + "\n")
