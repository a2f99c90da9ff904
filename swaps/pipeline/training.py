"""The command line the shipped models trained on labelled portraits share: ``train ROOT [--labels CSV] [--out JSON]``.

Used by ``python -m swaps.pipeline.glasses`` and ``python -m swaps.pipeline.youth``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


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
