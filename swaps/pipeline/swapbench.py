"""The swap-quality part of the benchmark: how swapped faces compare with the faces around them, and at which size

a swapped friend stays recognisable. Printed by ``python -m swaps.pipeline.bench`` (``--swap-only`` for just this).
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from pathlib import Path

import cv2
import numpy as np

from . import detection, faces, hiding, images, matching, quality, swap, traits


def _line(label: str, value: str) -> None:
    print(f"  {label:<44} {value}")


def people_of(
    paths: list[str], truth: list[str], found: list[list[faces.Face]]
) -> tuple[dict[str, list[tuple[str, faces.Face]]], dict[str, np.ndarray]]:
    """Return each person's usable (photo, face) pairs and embeddings."""
    people: dict[str, list[tuple[str, faces.Face]]] = {}
    for p, label, per in zip(paths, truth, found, strict=True):
        people.setdefault(label, []).extend((p, face) for face in per if face.usable)
    embeddings = {name: np.array([face.embedding for _, face in items]) for name, items in people.items()}
    return people, embeddings


SWAP_CROWDS = (("stadium.jpg", 6), ("group-cc0.jpg", None), ("selfie-many-people.jpg", None))


def swap_quality(
    data: Path,
    out_dir: Path,
    people: dict[str, list[tuple[str, faces.Face]]],
    embeddings: dict[str, np.ndarray],
    difficulty: str = "normal",
    detector: str = detection.DEFAULT_DETECTOR,
) -> None:
    """Print a swap-quality block per swapped face and the medians; write before/after crops to ``out_dir``."""
    print("swap quality (fit, identity rank among the room's 13 people, still detected, sharpness and noise ratio")
    print(
        "  vs the face before (goal 0.8-1.25), cheek colour distance to own neck / forehead (before), expression change)"
    )
    rows: list[dict[str, float]] = []
    for name, count in SWAP_CROWDS:
        rgb = images.load_image(data / "crowds" / name)
        # As the app does: every face that could host a friend is embedded; friends go onto those only.
        crowd = [f for f in faces.detect_faces(rgb, detector=detector, embed=faces.worth_embedding) if f.embedded]
        friends = {person: [face for _, face in items] for person, items in people.items()}
        start = time.perf_counter()
        result = hiding.hide_friends(
            rgb,
            crowd,
            friends,
            lambda person, index: images.load_image(people[str(person)][index][0]),
            count=count,
            difficulty=difficulty,
            room=embeddings,
        )
        seconds = time.perf_counter() - start
        stem = Path(name).stem
        (out_dir / f"{stem}-swapped.jpg").write_bytes(images.encode_jpeg(result.image))
        _line(f"{name}: {len(crowd)} faces, {len(result.hidden)} hidden", f"{seconds:.1f} s (fit, swap, check)")
        for why in sorted(set(result.unplaced.values())):
            who = sorted(str(k) for k, v in result.unplaced.items() if v == why)
            print(f"    left out ({len(who)}): {why}: {', '.join(who)}")
        for index, h in enumerate(result.hidden):
            target = crowd[h.target]
            q = quality.measure(rgb, result.image, target, str(h.identity), embeddings)
            size = target.quality["size"]
            rows.append(
                {
                    "fit": h.fit.score,
                    "rank": q.rank,
                    "detected": float(q.detected),
                    "sharp": q.sharpness_ratio,
                    "noise": q.noise_ratio,
                    "neck": q.colour_neck,
                    "forehead": q.colour_forehead,
                    "expr": q.expression_change,
                }
            )
            print(
                f"    {str(h.identity)[:18]:<18} {size:>4.0f}px fit {h.fit.score:.2f} {h.fit.verdict:<4} "
                f"rank {q.rank or '-'} detected {'yes' if q.detected else 'NO '} sharp {q.sharpness_ratio:.2f} "
                f"noise {q.noise_ratio:.2f} neck {q.colour_neck:.0f} ({q.colour_neck_before:.0f}) "
                f"forehead {q.colour_forehead:.0f} ({q.colour_forehead_before:.0f}) expr {q.expression_change:.2f}"
            )
            _write_crop(out_dir / f"{stem}-crop{index}.png", rgb, result.image, target)
    if rows:

        def median(key: str) -> float:
            return float(np.nanmedian([row[key] for row in rows]))

        ranked_first = sum(1 for row in rows if row["rank"] == 1)
        detected = sum(1 for row in rows if row["detected"])
        _line(
            "medians: fit / sharpness / noise ratio",
            f"{median('fit'):.2f} / {median('sharp'):.2f} / {median('noise'):.2f}",
        )
        _line(
            "medians: colour to neck / forehead / expression",
            f"{median('neck'):.1f} / {median('forehead'):.1f} / {median('expr'):.2f}",
        )
        _line("identity: nearest the friend / still detected", f"{ranked_first}/{len(rows)} / {detected}/{len(rows)}")


RECOGNISABLE_SIZES = (20, 24, 28, 32, 36, 44, 56, 72, 96)


def recognisable_sizes(
    data: Path,
    people: dict[str, list[tuple[str, faces.Face]]],
    embeddings: dict[str, np.ndarray],
    detector: str = detection.DEFAULT_DETECTOR,
) -> None:
    """Print, per face size, how often a swapped friend is still nearest that friend among the room's people.

    Targets are the shared crowd faces of 44 px and more and one portrait of each of the 13 people (swapped with the
    best-fitting other person: the face's own person is then in the room too, the hardest case).
    """
    print("recognisable size: best-fitting friend swapped onto faces shrunk to each size, embedded again")
    friends: dict[str, list[faces.Face]] = {person: [face for _, face in items] for person, items in people.items()}
    for items in people.values():
        for photo, face in items:
            if not traits.is_current(face.quality):
                hiding.annotate_missing(images.load_image(photo), [face])
    targets: list[tuple[np.ndarray, faces.Face, str | None]] = []
    crowd_paths = [data / "crowds" / name for name in ("group-cc0.jpg", "selfie-many-people.jpg", "couple.jpg")]
    for path in crowd_paths + sorted((data / "crowds" / "voc").glob("*.jpg")):
        rgb = images.load_image(path)
        found = [
            face
            for face in faces.detect_faces(rgb, detector=detector)
            if faces.can_host(face.quality) and face.quality["size"] >= 44
        ]
        hiding.annotate_missing(rgb, found)
        targets.extend((rgb, face, None) for face in found)
    for person, items in sorted(people.items()):
        photo, face = max(items, key=lambda item: item[1].quality["size"])
        targets.append((images.load_image(photo), face, person))
    trials: dict[int, list[bool]] = {size: [] for size in RECOGNISABLE_SIZES}
    for rgb, target, own in targets:
        table = matching.fits({k: v for k, v in friends.items() if k != own}, [target], difficulty="hard")
        # A friend who really is this person would be recognisable at any size: not a fair trial.
        allowed = [(f[0].score, name) for name, f in table.items() if f[0].allowed and f[0].distance >= 0.5]
        if not allowed:
            continue
        friend = max(allowed)[1]
        items = people[friend]
        chosen = swap.best_source([face for _, face in items], target)
        source_path, source = items[chosen.face_index]
        source_rgb, source = faces.oriented(images.load_image(source_path), source, chosen.mirrored)
        room: dict[Hashable, np.ndarray] = {name: vectors for name, vectors in embeddings.items()}
        for size in RECOGNISABLE_SIZES:
            if size <= target.quality["size"]:
                trials[size].append(quality.recognisable_at(rgb, target, friend, source_rgb, source, room, size))
    for size, results in trials.items():
        if results:
            rate = f"{sum(results)}/{len(results)} = {sum(results) / len(results):.0%}"
            _line(f"{size} px faces: nearest the friend", rate)


def _write_crop(path: Path, before: np.ndarray, after: np.ndarray, target: faces.Face) -> None:
    """Write the face before and after, side by side with context, enlarged to about 240 px high."""
    left, top, box_w, box_h = target.box
    pad = box_w
    y0, x0 = max(0, top - pad), max(0, left - pad)
    pair = np.hstack(
        [
            before[y0 : top + box_h + pad, x0 : left + box_w + pad],
            after[y0 : top + box_h + pad, x0 : left + box_w + pad],
        ]
    )
    scale = max(1, 240 // max(1, pair.shape[0]))
    pair = cv2.resize(pair, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(str(path), cv2.cvtColor(pair, cv2.COLOR_RGB2BGR))
