"""Estimate whether a face reads as a child's from its 128-D embedding (a shipped logistic regression).

An adult friend on a child's face was caught by every blind viewer (the girl scouts and school children of two
test crowds), so the fit keeps adults off faces that read as children and children off adults' faces.

The coefficients live in ``youth.json`` beside this file and are rebuilt with
``python -m swaps.pipeline.youth train ROOT`` from the portraits listed in ``youth-labels.csv`` (paths under ROOT,
labelled by eye: 1 a child of about 12 or younger, 0 an adult; teenagers left out; see the README).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from . import training

COEFFICIENTS = Path(__file__).with_name("youth.json")
LABELS = Path(__file__).with_name("youth-labels.csv")


def childlikeness(embedding: np.ndarray) -> float | None:
    """Return how much the face with ``embedding`` reads as a child's (0..1; None for a box-only face).

    Trained balanced (23 children among 629 portraits), so 0.5 is not even odds: adults read 0.01-0.5 and, rarely, a
    young smiling woman up to 0.86; the children of two test crowds 0.25-0.9, most above 0.7 (see the README).
    """
    found = training.embedding_probability(embedding, COEFFICIENTS)
    return None if found is None else round(found, 4)


def train(root: Path, labels: Path = LABELS, out: Path = COEFFICIENTS, workers: int = 2) -> dict[str, float]:
    """Fit the regression on the labelled portraits under ``root``, write ``out``; return the figures."""
    with open(labels, newline="") as handle:
        rows = [(str(root / row["path"]), int(row["child"])) for row in csv.DictReader(handle)]
    return training.train_embedding_regression(
        [path for path, _ in rows],
        [label for _, label in rows],
        out,
        source=f"{labels.name}: portraits labelled by eye (1 child, 0 adult); README (child-likeness)",
        balanced=True,
        workers=workers,
    )


# Train the shipped model from the labelled portraits.
main = training.labelled_portraits_command(
    "swaps.pipeline.youth", __doc__, "the coefficients", LABELS, COEFFICIENTS, train
)


if __name__ == "__main__":
    raise SystemExit(main(None))
