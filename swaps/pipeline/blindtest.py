"""A blind test of swaps anyone can run: shuffled, numbered crops of swapped and untouched faces, and a separate key.

python -m swaps.pipeline.blindtest make OUT FRIENDS CROWD...   # OUT/grid-*.png and OUT/crops/ for the viewer,
                                                               # OUT/key/key.json kept from them
python -m swaps.pipeline.blindtest score OUT "3,7,12"          # the numbers the viewer thinks were swapped
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from . import cli, faces, fit, hiding, images

CROP_PX = 288
# The crop shows the face and its surroundings: hair, neck, a bit of the neighbours, as a viewer sees it in the photo.
CONTEXT = 2.4
GRID_COLUMNS = 4
PER_GRID = 12
LABEL_PX = 28
# The result is judged as players get it: a JPEG of the app's quality.
JPEG_QUALITY = 90
# ``score`` counts picks by the face's size (box px) too: swaps under 64 px were picked in 64 of 70 looks of the
# eleventh session's sets, from 64 px on in 12 of 46 (README).
SIZE_BANDS = (48, 64, 96)


def _crop(rgb: np.ndarray, face: faces.Face) -> np.ndarray:
    """Return a square crop around ``face`` with context, resized to ``CROP_PX`` (padded at the picture's edge)."""
    left, top, width, height = face.box
    side = int(max(width, height) * CONTEXT)
    cx, cy = left + width // 2, top + height // 2
    pad = side
    padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(128, 128, 128))
    x0, y0 = cx - side // 2 + pad, cy - side // 2 + pad
    crop = padded[y0 : y0 + side, x0 : x0 + side]
    interpolation = cv2.INTER_CUBIC if side < CROP_PX else cv2.INTER_AREA
    return cv2.resize(crop, (CROP_PX, CROP_PX), interpolation=interpolation)


def _untouched_partner(crowd: Sequence[faces.Face], used: set[int], size: float) -> int | None:
    """Return the untouched crowd face nearest in size to ``size`` (whole faces first), or None."""
    free = [i for i, face in enumerate(crowd) if i not in used and face.quality.get("inside", 1.0) >= 0.9]
    if not free:
        return None
    # A face of another size would be told apart by its size alone.
    return min(free, key=lambda i: (not faces.can_host(crowd[i].quality), abs(float(crowd[i].quality["size"]) - size)))


def _grid(tiles: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """Return the numbered tiles laid out in rows of ``GRID_COLUMNS``, each number on a strip above its crop."""
    rows = []
    for start in range(0, len(tiles), GRID_COLUMNS):
        row = []
        for number, tile in tiles[start : start + GRID_COLUMNS]:
            label = np.full((LABEL_PX, CROP_PX, 3), 255, dtype=np.uint8)
            cv2.putText(label, str(number), (8, LABEL_PX - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 2)
            cell = np.vstack([label, tile])
            row.append(cv2.copyMakeBorder(cell, 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=(255, 255, 255)))
        while len(row) < GRID_COLUMNS:
            row.append(np.full_like(row[0], 255))
        rows.append(np.hstack(row))
    return np.vstack(rows)


def make(
    out: Path,
    friend_paths: Sequence[str],
    crowd_paths: Sequence[str],
    *,
    count: int | None = None,
    seed: int = 0,
    difficulty: str = "normal",
    each_friend_once: bool = False,
    shuffle_crowds: bool = False,
) -> dict[str, Any]:
    """Swap friends into each crowd and write shuffled numbered crops (half swapped, half untouched) and the key.

    With ``each_friend_once`` a friend hidden in one crowd is not hidden in the next ones: in the game a friend is
    hidden once per crowd photo, while the same face in several crops of one grid tells a viewer it was pasted.
    With ``shuffle_crowds`` the crowds are taken in an order drawn from ``seed``. Each friend once, the first crowds
    get the best-fitting friends, and the seed only re-rolls near-equal placements: in the given order, seeds 88 and
    89 hid the same friends on the same faces, numbered apart.
    """
    if shuffle_crowds:
        crowd_paths = list(crowd_paths)
        random.Random(seed).shuffle(crowd_paths)
    paths = cli._paths(friend_paths)
    members = cli.friends_from_photos(paths)
    friends = {label: [face for _, face in items] for label, items in members.items()}
    # Each placement is checked against everyone of the room, whoever may still be hidden.
    room = {label: np.array([face.embedding for face in found]) for label, found in friends.items()}
    hidden: set[Any] = set()
    items: list[dict[str, Any]] = []
    for crowd_path in crowd_paths:
        crowd_rgb = images.load_image(crowd_path)
        # As the app finds crowd faces: down to the smallest that can host a friend.
        crowd = faces.detect_faces(crowd_rgb, min_face_px=faces.HOST_MIN_SIZE_PX)
        result = hiding.hide_friends(
            crowd_rgb,
            crowd,
            {label: found for label, found in friends.items() if label not in hidden},
            lambda label, index: images.load_image(members[int(str(label))][index][0]),
            count=count,
            seed=seed,
            difficulty=difficulty,
            room=room,
        )
        if each_friend_once:
            hidden.update(h.identity for h in result.hidden)
        shown = images.load_image(images.encode_jpeg(result.image, quality=JPEG_QUALITY))
        used = {h.target for h in result.hidden}
        for h in result.hidden:
            target = crowd[h.target]
            partner = _untouched_partner(crowd, used, float(target.quality["size"]))
            if partner is None:
                continue  # half swapped, half untouched: a swap without an untouched face of its photo is left out
            used.add(partner)
            items.append(
                {
                    "crop": _crop(shown, target),
                    "swapped": True,
                    "crowd": crowd_path,
                    "box": [int(v) for v in target.box],
                    "friend": members[int(str(h.identity))][h.source][0],
                    "mirrored": h.mirrored,
                    "fit": h.fit.as_json(),
                }
            )
            items.append(
                {
                    "crop": _crop(shown, crowd[partner]),
                    "swapped": False,
                    "crowd": crowd_path,
                    "box": [int(v) for v in crowd[partner].box],
                }
            )
    order = np.random.default_rng(seed).permutation(len(items))
    (out / "crops").mkdir(parents=True, exist_ok=True)
    (out / "key").mkdir(parents=True, exist_ok=True)
    numbered = [(number + 1, items[index]) for number, index in enumerate(order)]
    for number, item in numbered:
        cv2.imwrite(str(out / "crops" / f"{number:02d}.png"), cv2.cvtColor(item["crop"], cv2.COLOR_RGB2BGR))
    for page, start in enumerate(range(0, len(numbered), PER_GRID)):
        tiles = [(number, item["crop"]) for number, item in numbered[start : start + PER_GRID]]
        cv2.imwrite(str(out / f"grid-{page + 1}.png"), cv2.cvtColor(_grid(tiles), cv2.COLOR_RGB2BGR))
    key = {str(number): {k: v for k, v in item.items() if k != "crop"} for number, item in numbered}
    (out / "key" / "key.json").write_text(json.dumps(key, indent=1) + "\n")
    (out / "README.txt").write_text(
        f"{len(numbered)} face crops, numbered. Some faces were swapped, the others are untouched.\n"
        "Look at grid-*.png (or crops/NN.png, enlarged) and list the numbers you think were swapped.\n"
        "Do not open key/.\n"
    )
    swapped = sum(1 for _, item in numbered if item["swapped"])
    return {"out": str(out), "crops": len(numbered), "swapped": swapped, "untouched": len(numbered) - swapped}


def score(out: Path, picks: str) -> dict[str, Any]:
    """Return the viewer's accuracy, hits and false alarms for ``picks`` (numbers they think were swapped), and the
    picks by face size (``by_size``: swapped and untouched crops and how many of each were picked, per band)."""
    key = json.loads((out / "key" / "key.json").read_text())
    chosen = {int(part) for part in picks.replace(" ", "").split(",") if part}
    unknown = sorted(number for number in chosen if str(number) not in key)
    if unknown:
        raise ValueError(f"no crop numbered {', '.join(map(str, unknown))}")
    swapped = {int(number) for number, item in key.items() if item["swapped"]}
    total = len(key)
    hits = len(chosen & swapped)
    false_alarms = len(chosen - swapped)
    correct = hits + (total - len(swapped) - false_alarms)
    by_size: dict[str, dict[str, int]] = {}
    for number, item in sorted(key.items(), key=lambda pair: max(pair[1]["box"][2:])):
        band = _size_band(max(item["box"][2:]))
        counts = by_size.setdefault(band, {"swapped": 0, "swaps_picked": 0, "untouched": 0, "untouched_picked": 0})
        counts["swapped" if item["swapped"] else "untouched"] += 1
        if int(number) in chosen:
            counts["swaps_picked" if item["swapped"] else "untouched_picked"] += 1
    return {
        "crops": total,
        "swapped": len(swapped),
        "picked": len(chosen),
        "hits": hits,
        "false_alarms": false_alarms,
        "missed": sorted(swapped - chosen),
        "accuracy": round(correct / total, 3) if total else 0.0,
        "by_size": by_size,
    }


def _size_band(px: int) -> str:
    """Return the name of the SIZE_BANDS band a face of ``px`` (box) falls in."""
    index = bisect.bisect_right(SIZE_BANDS, px)
    if index == 0:
        return f"under {SIZE_BANDS[0]} px"
    if index == len(SIZE_BANDS):
        return f"{SIZE_BANDS[-1]} px and more"
    return f"{SIZE_BANDS[index - 1]}-{SIZE_BANDS[index] - 1} px"


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``make`` or ``score`` and print its JSON."""
    parser = argparse.ArgumentParser(prog="python -m swaps.pipeline.blindtest", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    command = sub.add_parser("make", help="swap friends into crowds and write the crops and the key")
    command.add_argument("out", type=Path)
    command.add_argument("friends", help="folder of friends' photos (sub-folders are searched)")
    command.add_argument("crowds", nargs="+", help="crowd photos")
    command.add_argument("--count", type=int, default=None, help="friends per crowd (default: all that fit)")
    command.add_argument("--seed", type=int, default=0)
    command.add_argument("--difficulty", choices=fit.DIFFICULTIES, default="normal")
    command.add_argument(
        "--each-friend-once",
        action="store_true",
        help="hide each friend in one crowd only (as in the game: the same face in several crops gives it away)",
    )
    command.add_argument(
        "--shuffle-crowds",
        action="store_true",
        help="take the crowds in an order drawn from --seed (with --each-friend-once, another seed is another set)",
    )
    command = sub.add_parser("score", help="score a viewer's picks")
    command.add_argument("out", type=Path)
    command.add_argument("picks", help='comma-separated crop numbers the viewer thinks were swapped, e.g. "3,7,12"')
    args = parser.parse_args(argv)
    try:
        if args.command == "make":
            result = make(
                args.out,
                [args.friends],
                args.crowds,
                count=args.count,
                seed=args.seed,
                difficulty=args.difficulty,
                each_friend_once=args.each_friend_once,
                shuffle_crowds=args.shuffle_crowds,
            )
        else:
            result = score(args.out, args.picks)
    except (ValueError, OSError, images.ImageError, cli.CommandError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
