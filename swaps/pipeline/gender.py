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
from pathlib import Path

import numpy as np

from . import training

COEFFICIENTS = Path(__file__).with_name("gender.json")
CLASSES = ("man", "woman")


def masculinity(embedding: np.ndarray) -> float:
    """Return the probability (0..1) that the face with ``embedding`` reads as a man's (0.5 for a box-only face)."""
    found = training.embedding_probability(embedding, COEFFICIENTS)
    return 0.5 if found is None else found


def train(folder: Path, out: Path = COEFFICIENTS, workers: int = 2) -> dict[str, float]:
    """Fit the regression on ``folder``/man and ``folder``/woman portraits, write ``out``; return the figures."""
    from . import images

    paths: list[str] = []
    labels: list[int] = []
    for label, name in enumerate(CLASSES):
        found = images.find_images([str(folder / name)])
        paths.extend(found)
        labels.extend([1 - label] * len(found))  # 1 = man
    return training.train_embedding_regression(
        paths, labels, out, source="man/ and woman/ portraits; see README (gender estimate)", workers=workers
    )


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
