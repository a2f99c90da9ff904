"""Benchmark the pipeline on shared/data: speed per stage, overhead, pool speed-up, memory and quality."""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Callable, Hashable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from . import batch, faces, hiding, identities, images, matching, quality, swap

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def _spin(rounds: int) -> float:
    """Burn CPU in pure Python for a fixed amount of work; return the seconds it took."""
    start = time.perf_counter()
    total = 0
    for i in range(rounds):
        total += i
    return time.perf_counter() - start


def _parallel_ceiling(workers: int, rounds: int = 20_000_000) -> float:
    """Return how much faster `workers` processes do `workers` times a fixed work than one process does it once."""
    alone = _spin(rounds)
    with ProcessPoolExecutor(max_workers=workers, mp_context=batch._pool_context()) as pool:
        list(pool.map(_spin, [1] * workers))  # start the processes before timing
        start = time.perf_counter()
        list(pool.map(_spin, [rounds] * workers))
        together = time.perf_counter() - start
    return workers * alone / together


def _peak_mb() -> float:
    """Return this process's peak resident memory in MB."""
    # VmHWM belongs to this address space; ru_maxrss survives fork+exec, so a spawned child would report its
    # parent's peak.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _timed(func: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def _raw_library_seconds(rgbs: list[np.ndarray], found: list[list[faces.Face]], min_face_px: int = 40) -> float:
    """Return the time of the bare dlib calls the pipeline makes on these images (inputs prepared untimed)."""
    models = faces._get_models()
    detector, predictor, encoder, dlib = models["detector"], models["predictor"], models["encoder"], models["dlib"]
    total = 0.0
    for rgb, per_photo in zip(rgbs, found, strict=True):
        height, width = rgb.shape[:2]
        scale = faces.DETECTOR_WINDOW_PX / min_face_px
        prepared = [cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_LINEAR)]
        rot_scale = min(
            scale / faces.ROTATED_SCALE_FACTOR, float(np.sqrt(faces.SINGLE_PASS_MAX_PIXELS / (width * height)))
        )
        for angle in faces.ROTATIONS_DEG:
            matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), angle, rot_scale)
            prepared.append(cv2.warpAffine(rgb, matrix, (round(width * rot_scale), round(height * rot_scale))))
        start = time.perf_counter()
        for image in prepared:
            detector.run(image, 0, 0.0)
        # The pipeline's own faces: landmarks and encoder run exactly as often as in the pipeline.
        for face in per_photo:
            left, top, box_w, box_h = face.box
            shape = predictor(rgb, dlib.rectangle(left, top, left + box_w, top + box_h))
            encoder.compute_face_descriptor(rgb, shape, 1)
        total += time.perf_counter() - start
    return total


def _big_crowd_peak(path: str) -> tuple[float, int, float]:
    """Return (peak MB, faces, seconds) of detecting faces in ``path`` grown to 4000x3000, in this process."""
    rgb = cv2.resize(images.load_image(path), (4000, 3000), interpolation=cv2.INTER_CUBIC)
    faces.load_models()
    found, seconds = _timed(lambda: faces.detect_faces(rgb))
    return _peak_mb(), len(found), seconds


def _line(label: str, value: str) -> None:
    print(f"  {label:<44} {value}")


def _people(
    paths: list[str], truth: list[str], found: list[list[faces.Face]]
) -> tuple[dict[str, list[tuple[str, faces.Face]]], dict[str, np.ndarray]]:
    """Return each person's usable (photo, face) pairs and embeddings."""
    people: dict[str, list[tuple[str, faces.Face]]] = {}
    for p, label, per in zip(paths, truth, found, strict=True):
        people.setdefault(label, []).extend((p, face) for face in per if face.usable)
    embeddings = {name: np.array([face.embedding for _, face in items]) for name, items in people.items()}
    return people, embeddings


def run(data: Path, out_dir: Path, swap_only: bool = False, difficulty: str = "normal") -> int:
    """Run every measurement, print the figures and write sample swaps to ``out_dir``; return the exit status."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(data / "identities" / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    paths = [str(data / row["path"]) for row in rows]
    truth = [row["identity"] for row in rows]
    if swap_only:
        people, embeddings = _people(paths, truth, batch.detect_files(paths))
        swap_quality(data, out_dir, people, embeddings, difficulty)
        recognisable_sizes(data, people, embeddings)
        return 0

    print("models")
    _, load_s = _timed(faces.load_models)
    _line("load detector + 68 landmarks + encoder", f"{load_s:.2f} s")

    print("images: decode + orient")
    rgbs, decode_s = _timed(lambda: [images.load_image(p) for p in paths])
    _line("per photo (61 identity photos)", f"{decode_s / len(paths) * 1000:.1f} ms")

    print("faces: detect + landmarks + embed, one process")
    found, one_s = _timed(lambda: [faces.detect_faces(rgb) for rgb in rgbs])
    face_count = sum(len(per) for per in found)
    _line("photos / faces found", f"{len(paths)} / {face_count}")
    _line("per photo / per face", f"{one_s / len(paths):.3f} s / {one_s / max(face_count, 1):.3f} s")
    raw_s = _raw_library_seconds(rgbs, found)
    _line("raw dlib calls (detector, landmarks, encoder)", f"{raw_s:.2f} s")
    _line("pipeline total", f"{one_s:.2f} s")
    _line("overhead ratio pipeline / raw (goal <= 1.2)", f"{one_s / raw_s:.2f}")

    print("faces: process pool on the 61 identity photos (files in, decode included)")
    _, serial_s = _timed(lambda: batch.detect_files(paths, workers=1))
    workers = min(2, multiprocessing.cpu_count())
    ceiling_before = _parallel_ceiling(workers)
    _, pool_s = _timed(lambda: batch.detect_files(paths, workers=workers))
    ceiling_after = _parallel_ceiling(workers)
    _line("1 process", f"{serial_s:.2f} s")
    _line(f"{workers} processes (incl. start-up)", f"{pool_s:.2f} s")
    _line("speed-up (goal >= 1.8)", f"{serial_s / pool_s:.2f}x")
    # On a shared machine the second core may be busy: the load average says how far to trust the speed-up,
    # and a plain busy loop on every worker at once says how much the cores give right now (a virtual
    # machine's second core is not always a whole one), which bounds what any pool can reach.
    _line("load average (1 min) / cores", f"{os.getloadavg()[0]:.2f} / {os.cpu_count()}")
    _line(
        f"ceiling: busy loop on {workers} processes vs 1", f"{ceiling_before:.2f}x before, {ceiling_after:.2f}x after"
    )

    print("identities: DBSCAN")
    flat = [(p, face) for p, per in zip(paths, found, strict=True) for face in per]
    labels, cluster_s = _timed(
        lambda: identities.cluster_faces(
            np.array([face.embedding for _, face in flat]),
            photo_keys=[p for p, _ in flat],
            seeds_ok=[face.usable for _, face in flat],
        )
    )
    main: dict[str, tuple[float, int]] = {}
    for index, (p, face) in enumerate(flat):
        if p not in main or face.quality["size"] > main[p][0]:
            main[p] = (face.quality["size"], index)
    predicted = [labels[main[p][1]] if labels[main[p][1]] >= 0 else -1000 - i for i, p in enumerate(paths)]
    from sklearn.metrics import adjusted_rand_score

    ari = adjusted_rand_score(truth, predicted)
    _line("time", f"{cluster_s * 1000:.1f} ms for {len(flat)} faces")
    _line("clusters / unclustered", f"{len(set(labels) - {-1})} / {labels.count(-1)}")
    _line("adjusted Rand index (goal >= 0.95)", f"{ari:.3f}")

    print("faces: detection recall on crowds/voc")
    voc = data / "crowds" / "voc"
    with open(voc / "boxes.csv", newline="") as handle:
        boxes = [
            (r["file"], tuple(int(r[k]) for k in ("left", "top", "width", "height"))) for r in csv.DictReader(handle)
        ]
    voc_faces = {name: faces.detect_faces(images.load_image(voc / name)) for name in {name for name, _ in boxes}}
    hits = sum(any(faces.box_iou(box, f.box) >= 0.4 for f in voc_faces[name]) for name, box in boxes)
    _line("recall at IoU >= 0.4 (goal >= 0.95)", f"{hits}/{len(boxes)} = {hits / len(boxes):.3f}")

    people, embeddings = _people(paths, truth, found)

    print("matching: angelina_jolie in crowds where she really is")
    for name in ("couple.jpg", "selfie-many-people.jpg"):
        rgb = images.load_image(data / "crowds" / name)
        crowd = faces.detect_faces(rgb)
        size = (rgb.shape[1], rgb.shape[0])
        own, own_distance = matching.lookalikes(embeddings["angelina_jolie"], crowd, k=1)[0]
        placed = {m.identity: m for m in matching.assign(embeddings, crowd, image_size=size)}["angelina_jolie"]
        verdict = "own face" if placed.target == own and own_distance < 0.45 else "WRONG face"
        _line(name, f"{verdict} (distance {placed.distance:.3f}, {len(crowd)} crowd faces)")

    swap_quality(data, out_dir, people, embeddings)
    recognisable_sizes(data, people, embeddings)

    print("memory")
    _line("peak RSS of this process so far", f"{_peak_mb():.0f} MB")
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        peak, big_faces, big_s = pool.apply(_big_crowd_peak, (str(data / "crowds" / "stadium.jpg"),))
    _line("4000x3000 crowd: peak RSS (goal <= 2048 MB)", f"{peak:.0f} MB, {big_faces} faces in {big_s:.1f} s")
    print(f"sample swaps written to {out_dir}/")
    return 0


SWAP_CROWDS = (("stadium.jpg", 6), ("group-cc0.jpg", None), ("selfie-many-people.jpg", None))


def swap_quality(
    data: Path,
    out_dir: Path,
    people: dict[str, list[tuple[str, faces.Face]]],
    embeddings: dict[str, np.ndarray],
    difficulty: str = "normal",
) -> None:
    """Print a swap-quality block per swapped face and the medians; write before/after crops to ``out_dir``."""
    print("swap quality (fit, identity rank among the room's 13 people, still detected, sharpness and noise ratio")
    print(
        "  vs the face before (goal 0.8-1.25), cheek colour distance to own neck / forehead (before), expression change)"
    )
    rows: list[dict[str, float]] = []
    for name, count in SWAP_CROWDS:
        rgb = images.load_image(data / "crowds" / name)
        crowd = faces.detect_faces(rgb)
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


RECOGNISABLE_SIZES = (20, 24, 28, 32, 36, 44, 56)


def recognisable_sizes(
    data: Path, people: dict[str, list[tuple[str, faces.Face]]], embeddings: dict[str, np.ndarray]
) -> None:
    """Print, per face size, how often a swapped friend is still nearest that friend among the room's people.

    Targets are the shared crowd faces of 44 px and more and one portrait of each of the 13 people (swapped with the
    best-fitting other person: the face's own person is then in the room too, the hardest case).
    """
    print("recognisable size: best-fitting friend swapped onto faces shrunk to each size, embedded again")
    friends: dict[str, list[faces.Face]] = {person: [face for _, face in items] for person, items in people.items()}
    for items in people.values():
        for photo, face in items:
            if "expr_mouth_open" not in face.quality:
                hiding.annotate_missing(images.load_image(photo), [face])
    targets: list[tuple[np.ndarray, faces.Face, str | None]] = []
    crowd_paths = [data / "crowds" / name for name in ("group-cc0.jpg", "selfie-many-people.jpg", "couple.jpg")]
    for path in crowd_paths + sorted((data / "crowds" / "voc").glob("*.jpg")):
        rgb = images.load_image(path)
        found = [
            face for face in faces.detect_faces(rgb) if faces.can_host(face.quality) and face.quality["size"] >= 44
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
        source_path, source = items[swap.best_source([face for _, face in items], target)]
        source_rgb = images.load_image(source_path)
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


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(prog="python -m swaps.pipeline.bench", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared test photos (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("bench-output"), help="folder for sample swaps")
    parser.add_argument("--swap-only", action="store_true", help="only the swap-quality block")
    parser.add_argument("--difficulty", choices=("easy", "normal", "hard"), default="normal")
    args = parser.parse_args(argv)
    if not (args.data / "identities" / "labels.csv").is_file():
        print(f"error: no test photos in {args.data}; pass --data", file=sys.stderr)
        return 2
    return run(args.data, args.out, args.swap_only, args.difficulty)


if __name__ == "__main__":
    raise SystemExit(main())
