"""The command line: detect, cluster and swap, printing a stable JSON contract on stdout."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from . import batch, detection, faces, fit, hiding, identities, images, swap
from . import landmarks as marks


class CommandError(Exception):
    """A problem the user can fix; printed as one line on stderr."""


def _face_json(face: faces.Face) -> dict[str, Any]:
    return {
        "box": [int(v) for v in face.box],
        "quality": {k: float(v) for k, v in face.quality.items()},
        "embedded": face.embedded,
    }


def _paths(raw: Sequence[str]) -> list[str]:
    found = images.find_images(list(raw))
    for path in found:
        if not Path(path).is_file():
            raise CommandError(f"{path}: no such file")
    if not found:
        raise CommandError(f"no images found in {' '.join(raw)}")
    return found


def _detect(
    paths: list[str],
    *,
    workers: int | None = None,
    detector: str = detection.DEFAULT_DETECTOR,
    landmarks: str = marks.DEFAULT_METHOD,
) -> list[list[faces.Face]]:
    try:
        return batch.detect_files(paths, workers=workers, detector=detector, landmarks=landmarks)
    except images.ImageError as exc:
        # Name the file: in a batch the message alone would not say which one to fix.
        for path in paths:
            try:
                images.load_image(path)
            except images.ImageError as each:
                raise CommandError(f"{path}: {each}") from exc
        raise CommandError(str(exc)) from exc


def _cluster(found: list[list[faces.Face]], paths: list[str]) -> list[int]:
    """Return a label per face (in order), -1 for faces that are unclustered or carry no embedding."""
    flat = [(path, face) for path, per_photo in zip(paths, found, strict=True) for face in per_photo]
    embedded = [(path, face) for path, face in flat if face.embedded]
    if not embedded:
        return [-1] * len(flat)
    labels = iter(
        identities.cluster_faces(
            np.array([face.embedding for _, face in embedded]),
            photo_keys=[path for path, _ in embedded],
            seeds_ok=[face.usable for _, face in embedded],
        )
    )
    return [next(labels) if face.embedded else -1 for _, face in flat]


def cmd_detect(args: argparse.Namespace) -> dict[str, Any]:
    paths = _paths(args.paths)
    found = _detect(paths, workers=args.workers, detector=args.detector, landmarks=args.landmarks)
    return {path: {"faces": [_face_json(face) for face in per]} for path, per in zip(paths, found, strict=True)}


def cmd_cluster(args: argparse.Namespace) -> dict[str, Any]:
    paths = _paths(args.paths)
    found = _detect(paths, workers=args.workers, detector=args.detector, landmarks=args.landmarks)
    labels = iter(_cluster(found, paths))
    return {
        path: {"faces": [{**_face_json(face), "identity": int(next(labels))} for face in per]}
        for path, per in zip(paths, found, strict=True)
    }


def friends_from_photos(
    paths: list[str],
    *,
    workers: int | None = None,
    detector: str = detection.DEFAULT_DETECTOR,
    landmarks: str = marks.DEFAULT_METHOD,
) -> dict[int, list[tuple[str, faces.Face]]]:
    """Return the people found in ``paths`` (cluster label -> (photo, face) pairs), those with a usable face only."""
    found = _detect(paths, workers=workers, detector=detector, landmarks=landmarks)
    labels = _cluster(found, paths)
    members: dict[int, list[tuple[str, faces.Face]]] = {}
    flat = [(path, face) for path, per in zip(paths, found, strict=True) for face in per]
    for (path, face), label in zip(flat, labels, strict=True):
        if label >= 0:
            members.setdefault(label, []).append((path, face))
    return {label: items for label, items in sorted(members.items()) if any(face.usable for _, face in items)}


def cmd_swap(args: argparse.Namespace) -> dict[str, Any]:
    paths = _paths(args.friends)
    if not Path(args.crowd).is_file():
        raise CommandError(f"{args.crowd}: no such file")
    members = friends_from_photos(paths, workers=args.workers, detector=args.detector, landmarks=args.landmarks)
    # Which of the friends are hidden is the fit's choice (--count keeps the best-fitting of those who fit well).
    chosen = list(members)
    if not chosen:
        raise CommandError("no usable friend face found: use sharper, larger, front-facing photos")
    try:
        crowd_rgb = images.load_image(args.crowd)
    except images.ImageError as exc:
        raise CommandError(f"{args.crowd}: {exc}") from exc
    # Only faces with an embedding can be matched: every face that could host a friend gets one.
    crowd = [
        face
        for face in faces.detect_faces(
            crowd_rgb, detector=args.detector, landmarks=args.landmarks, embed=faces.worth_embedding
        )
        if face.embedded
    ]
    wanted = len(chosen) if args.count is None else min(args.count, len(chosen))
    if len(crowd) < wanted:
        raise CommandError(
            f"{args.crowd}: only {len(crowd)} faces found for {wanted} friends; use a bigger crowd or --count"
        )
    height, width = crowd_rgb.shape[:2]
    friends: dict[Hashable, list[faces.Face]] = {label: [face for _, face in members[label]] for label in chosen}
    result = hiding.hide_friends(
        crowd_rgb,
        crowd,
        friends,
        lambda label, index: images.load_image(members[cast(int, label)][index][0]),
        count=args.count,
        seed=args.seed,
        difficulty=args.difficulty,
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_bytes(images.encode_jpeg(result.image))
    hidden = [
        {
            "identity": cast(int, h.identity),  # keys are the cluster labels chosen above
            "source": members[cast(int, h.identity)][h.source][0],
            "mirrored": h.mirrored,
            "box": [int(v) for v in crowd[h.target].box],
            "box_norm": [round(v, 6) for v in swap.answer_box(crowd[h.target], (width, height))],
            "distance": round(h.fit.distance, 6),
            "fit": h.fit.as_json(),
        }
        for h in result.hidden
    ]
    unplaced = {str(key): why for key, why in result.unplaced.items()}
    return {"out": args.out, "hidden": hidden, "unplaced": unplaced}


def _add_model_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
    command.add_argument(
        "--detector",
        choices=detection.DETECTORS,
        default=os.environ.get("FACE_DETECTOR") or detection.DEFAULT_DETECTOR,
        help="face detector (default: $FACE_DETECTOR or %(default)s)",
    )
    command.add_argument(
        "--landmarks",
        choices=marks.METHODS,
        default=marks.DEFAULT_METHOD,
        help="landmark model: MediaPipe's mesh, or dlib's 68-point model as a fallback (default: %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m swaps.pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("detect", "find faces"), ("cluster", "find faces and group them into people")):
        command = sub.add_parser(name, help=helptext)
        command.add_argument("paths", nargs="+", help="image files or folders (searched recursively)")
        _add_model_options(command)
    command = sub.add_parser("swap", help="hide friends' faces in a crowd photo")
    command.add_argument("--friends", nargs="+", required=True, help="friends' photos or folders")
    command.add_argument("--crowd", required=True, help="the crowd photo")
    command.add_argument("--out", required=True, help="where to write the result JPEG")
    command.add_argument(
        "--count",
        type=int,
        default=None,
        help="how many friends to hide: the best-fitting of those who fit well (default: every friend who fits)",
    )
    command.add_argument(
        "--difficulty", choices=fit.DIFFICULTIES, default="normal", help="easy: larger faces; hard: smaller ones"
    )
    command.add_argument("--seed", type=int, default=None, help="re-roll the placement among near-equal ones")
    _add_model_options(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and print its JSON; return the exit status."""
    # Before any model loads: OpenMP runtimes would otherwise start a thread per core in every pool worker.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    args = build_parser().parse_args(argv)
    handlers = {"detect": cmd_detect, "cluster": cmd_cluster, "swap": cmd_swap}
    try:
        if getattr(args, "count", None) is not None and args.count < 1:
            raise CommandError("--count must be at least 1")
        result = handlers[args.command](args)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except images.ImageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
