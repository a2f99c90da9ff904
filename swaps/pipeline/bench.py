"""Benchmark the pipeline on shared/data: detector vs HOG, end-to-end time, pool, clustering, memory, swaps."""

from __future__ import annotations

import argparse
import csv
import functools
import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from . import batch, detection, encoder, faces, identities, images, matching, swapbench

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
# Portraits of people not in shared/data, gathered from public test data and kept outside the repository.
DEFAULT_EXTRA = Path(__file__).resolve().parents[3] / "extra-faces"


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
    with ProcessPoolExecutor(max_workers=workers, mp_context=encoder.process_context()) as pool:
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


def _hog_plain(rgb: np.ndarray) -> int:
    """Run dlib's plain HOG detector with upsample 1 (the reference the issue measures against); return its faces."""
    return len(detection.load("hog").run(rgb, 1, 0.0)[0])


def _ari(truth: list[str], per_photo: list[list[faces.Face]], keys: list[str], eps: float) -> tuple[float, int]:
    """Return the adjusted Rand index of clustering each photo's main face at ``eps``, and the people found."""
    from sklearn.metrics import adjusted_rand_score

    flat = [(key, face) for key, per in zip(keys, per_photo, strict=True) for face in per if face.embedded]
    labels = identities.cluster_faces(
        np.array([face.embedding for _, face in flat]).reshape(-1, 128),
        photo_keys=[key for key, _ in flat],
        seeds_ok=[face.usable for _, face in flat],
        eps=eps,
    )
    main: dict[str, tuple[float, int]] = {}
    for index, (key, face) in enumerate(flat):
        if key not in main or face.quality["size"] > main[key][0]:
            main[key] = (face.quality["size"], index)
    predicted = [labels[main[k][1]] if k in main and labels[main[k][1]] >= 0 else -1000 - i for i, k in enumerate(keys)]
    return float(adjusted_rand_score(truth, predicted)), len(set(labels) - {-1})


def _labelled(folder: Path) -> tuple[list[str], list[str]]:
    """Return the photo paths and people of a folder with a labels.csv (path,identity)."""
    with open(folder / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # shared/data/identities/labels.csv names paths from shared/data; other folders from themselves.
    base = folder.parent if rows and rows[0]["path"].startswith(folder.name + "/") else folder
    return [str(base / row["path"]) for row in rows], [row["identity"] for row in rows]


def _big_crowd_peak(path: str, detector: str) -> tuple[float, int, float]:
    """Return (peak MB, faces, seconds) of detecting faces in ``path`` grown to 4000x3000, in this process."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    rgb = cv2.resize(images.load_image(path), (4000, 3000), interpolation=cv2.INTER_CUBIC)
    faces.load_models(detector=detector)
    found, seconds = _timed(
        lambda: faces.detect_faces(
            rgb, min_face_px=faces.BOX_MIN_SIZE_PX, detector=detector, embed=faces.worth_embedding
        )
    )
    return _peak_mb(), len(found), seconds


def _line(label: str, value: str) -> None:
    print(f"  {label:<44} {value}")


def run(
    data: Path, out_dir: Path, extra: Path | None, detector: str, *, swap_only: bool = False, difficulty: str = "normal"
) -> int:
    """Run every measurement, print the figures and write sample swaps to ``out_dir``; return the exit status."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths, truth = _labelled(data / "identities")
    if swap_only:
        people, embeddings = swapbench.people_of(paths, truth, batch.detect_files(paths, detector=detector))
        swapbench.swap_quality(data, out_dir, people, embeddings, difficulty, detector)
        swapbench.recognisable_sizes(data, people, embeddings, detector)
        return 0

    print("models")
    _, load_s = _timed(lambda: faces.load_models(detector=detector))
    _line(f"load {detector} + mesh + 5 points + encoder", f"{load_s:.2f} s")
    _line("dlib build", encoder.dlib_build())

    print("images: decode + orient")
    rgbs, decode_s = _timed(lambda: [images.load_image(p) for p in paths])
    _line("per photo (61 identity photos)", f"{decode_s / len(paths) * 1000:.1f} ms")

    print(f"detector: {detector} vs plain HOG upsample 1, same photos, one thread")
    crowd_names = ["stadium.jpg", "couple.jpg", "selfie-many-people.jpg", "group-cc0.jpg"]
    voc = data / "crowds" / "voc"
    voc_names = sorted(p.name for p in voc.glob("*.jpg"))
    crowd_rgbs = {name: images.load_image(data / "crowds" / name) for name in crowd_names}
    crowd_rgbs.update({f"voc/{name}": images.load_image(voc / name) for name in voc_names})
    detection.detect(crowd_rgbs["stadium.jpg"], detector=detector)  # warm up
    total_new = total_hog = 0.0
    for name, rgb in crowd_rgbs.items():
        hog_count, hog_s = _timed(functools.partial(_hog_plain, rgb))
        hosts, new_s = _timed(
            functools.partial(detection.detect, rgb, detector=detector, min_face_px=faces.HOST_MIN_SIZE_PX)
        )
        total_new, total_hog = total_new + new_s, total_hog + hog_s
        _line(
            name, f"{new_s:.3f} s vs {hog_s:.3f} s ({new_s / hog_s:.2f}x); {len(hosts)} vs {hog_count} faces >= 24 px"
        )
    _line("all: time ratio (goal <= 0.25)", f"{total_new:.2f} s / {total_hog:.2f} s = {total_new / total_hog:.2f}x")
    tiny, tiny_s = _timed(
        lambda: detection.detect(crowd_rgbs["stadium.jpg"], detector=detector, min_face_px=faces.BOX_MIN_SIZE_PX)
    )
    _line("stadium.jpg down to 8 px (background rows)", f"{len(tiny)} boxes in {tiny_s:.3f} s")
    with open(voc / "boxes.csv", newline="") as handle:
        boxes = [
            (r["file"], tuple(int(r[k]) for k in ("left", "top", "width", "height"))) for r in csv.DictReader(handle)
        ]
    for label, det in ((detector, detector), ("hog (pipeline)", "hog")):
        voc_faces = {n: faces.detect_faces(crowd_rgbs[f"voc/{n}"], detector=det, embed=False) for n in voc_names}
        hits = sum(any(faces.box_iou(box, f.box) >= 0.4 for f in voc_faces[n]) for n, box in boxes)
        _line(f"voc recall at IoU >= 0.4, {label} (goal >= 0.95)", f"{hits}/{len(boxes)} = {hits / len(boxes):.3f}")
    group = faces.detect_faces(crowd_rgbs["group-cc0.jpg"], detector=detector, embed=False)
    _line("group-cc0.jpg faces (5 visible)", f"{len(group)}")

    print("stadium.jpg end to end: detect every face, landmarks, embed the faces that matter")
    stadium = crowd_rgbs["stadium.jpg"]
    processes = min(2, os.cpu_count() or 1)
    encoder.start_helpers(processes - 1)
    for share in sorted({1, processes}):
        if share > 1:
            encoder.wait_for_helpers(share - 1)
        before = dict(encoder.stats)
        crowd_all, end_s = _timed(
            functools.partial(
                faces.detect_faces,
                stadium,
                min_face_px=faces.BOX_MIN_SIZE_PX,
                detector=detector,
                embed=faces.worth_embedding,
                encode_processes=share,
            )
        )
        encoded = encoder.stats["faces"] - before["faces"]
        encode_s = encoder.stats["seconds"] - before["seconds"]
        label = "one process" if share == 1 else f"{share} processes (the worker + a helper, the app's default)"
        _line(f"time, {label} (goal <= 2 s with dlib-bin, <= 1 s with BLAS)", f"{end_s:.2f} s")
        _line("  encoding (wall time) / per face", f"{encode_s:.2f} s / {encode_s / max(encoded, 1) * 1000:.0f} ms")
    _line(
        "faces / can host / embedded",
        f"{len(crowd_all)} / {sum(faces.can_host(f.quality) for f in crowd_all)} / {encoded}",
    )

    print("faces: 61 identity photos, one process")
    found, one_s = _timed(lambda: [faces.detect_faces(rgb, detector=detector) for rgb in rgbs])
    face_count = sum(len(per) for per in found)
    _line("photos / faces found", f"{len(paths)} / {face_count}")
    _line("per photo / per face", f"{one_s / len(paths):.3f} s / {one_s / max(face_count, 1):.3f} s")

    print("faces: process pool on the 61 identity photos (files in, decode included)")
    _, serial_s = _timed(lambda: batch.detect_files(paths, workers=1, detector=detector))
    workers = min(2, multiprocessing.cpu_count())
    ceiling_before = _parallel_ceiling(workers)
    _, pool_s = _timed(lambda: batch.detect_files(paths, workers=workers, detector=detector))
    ceiling_after = _parallel_ceiling(workers)
    _line("1 process", f"{serial_s:.2f} s")
    _line(f"{workers} processes (incl. start-up)", f"{pool_s:.2f} s")
    _line("speed-up (goal >= 1.8)", f"{serial_s / pool_s:.2f}x")
    # On a shared machine the second core may be busy: the load average says how far to trust the speed-up,
    # and a plain busy loop on every worker at once says how much the cores give right now.
    _line("load average (1 min) / cores", f"{os.getloadavg()[0]:.2f} / {os.cpu_count()}")
    _line(
        f"ceiling: busy loop on {workers} processes vs 1", f"{ceiling_before:.2f}x before, {ceiling_after:.2f}x after"
    )

    print("identities: DBSCAN, adjusted Rand index (main face per photo), old eps 0.49 vs new")
    sets = [("shared portraits (61, 13 people)", paths, truth, found)]
    if extra is not None:
        extra_paths, extra_truth = _labelled(extra)
        extra_found = batch.detect_files(extra_paths, detector=detector)
        sets.append(
            (
                f"{extra.name} ({len(extra_paths)}, {len(set(extra_truth))} people)",
                extra_paths,
                extra_truth,
                extra_found,
            )
        )
        sets.append(
            (
                "both mixed",
                paths + extra_paths,
                [f"a:{t}" for t in truth] + [f"b:{t}" for t in extra_truth],
                found + extra_found,
            )
        )
    for label, set_paths, set_truth, set_found in sets:
        (old, old_n), (new, new_n) = (
            _ari(set_truth, set_found, set_paths, eps) for eps in (0.49, identities.DEFAULT_EPS)
        )
        _line(label, f"{old:.3f} ({old_n} people) -> {new:.3f} ({new_n} people) at eps {identities.DEFAULT_EPS}")
    if extra is None:
        _line("other people", "skipped: pass --extra FOLDER (labels.csv: path,identity)")
    # Leave one person out: choose eps on everybody else, as if this person were the newcomer nobody tuned on.
    _, all_paths, all_truth, all_found = sets[-1]
    grid = [round(0.44 + 0.01 * i, 2) for i in range(13)]
    lopo_eps = []
    for person in sorted(set(all_truth)):
        rest = [i for i, t in enumerate(all_truth) if t != person]
        scores = [
            _ari([all_truth[i] for i in rest], [all_found[i] for i in rest], [all_paths[i] for i in rest], eps)[0]
            for eps in grid
        ]
        best_eps = [eps for eps, score in zip(grid, scores, strict=True) if score >= max(scores) - 1e-9]
        lopo_eps.append(float(np.median(best_eps)))
    picked = float(np.median(lopo_eps))
    _line(
        f"leave-one-person-out over {len(set(all_truth))} people",
        f"eps chosen {min(lopo_eps):.3f}-{max(lopo_eps):.3f} (median {picked:.3f}); "
        f"ARI there {_ari(all_truth, all_found, all_paths, picked)[0]:.3f}",
    )

    people, embeddings = swapbench.people_of(paths, truth, found)

    print("matching: angelina_jolie in crowds where she really is")
    for name in ("couple.jpg", "selfie-many-people.jpg"):
        rgb = crowd_rgbs[name]
        crowd = [f for f in faces.detect_faces(rgb, detector=detector) if f.embedded]
        size = (rgb.shape[1], rgb.shape[0])
        own, own_distance = matching.lookalikes(embeddings["angelina_jolie"], crowd, k=1)[0]
        placed = {m.identity: m for m in matching.assign(embeddings, crowd, image_size=size)}["angelina_jolie"]
        verdict = "own face" if placed.target == own and own_distance < 0.45 else "WRONG face"
        _line(name, f"{verdict} (distance {placed.distance:.3f}, {len(crowd)} crowd faces)")

    swapbench.swap_quality(data, out_dir, people, embeddings, difficulty, detector)
    swapbench.recognisable_sizes(data, people, embeddings, detector)

    print("memory")
    _line("peak RSS of this process so far", f"{_peak_mb():.0f} MB")
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        peak, big_faces, big_s = pool.apply(_big_crowd_peak, (str(data / "crowds" / "stadium.jpg"), detector))
    _line("4000x3000 crowd: peak RSS (goal <= 1024 MB)", f"{peak:.0f} MB, {big_faces} faces in {big_s:.1f} s")
    print(f"sample swaps written to {out_dir}/")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(prog="python -m swaps.pipeline.bench", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared test photos (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("bench-output"), help="folder for sample swaps")
    parser.add_argument(
        "--extra",
        type=Path,
        default=DEFAULT_EXTRA if (DEFAULT_EXTRA / "labels.csv").is_file() else None,
        help="portraits of other people with a labels.csv (path,identity) for clustering (default: %(default)s)",
    )
    parser.add_argument(
        "--detector",
        choices=detection.DETECTORS,
        default=os.environ.get("FACE_DETECTOR") or detection.DEFAULT_DETECTOR,
        help="face detector to measure (default: $FACE_DETECTOR or %(default)s)",
    )
    parser.add_argument("--swap-only", action="store_true", help="only the swap-quality blocks")
    parser.add_argument("--difficulty", choices=("easy", "normal", "hard"), default="normal")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if not (args.data / "identities" / "labels.csv").is_file():
        print(f"error: no test photos in {args.data}; pass --data", file=sys.stderr)
        return 2
    return run(args.data, args.out, args.extra, args.detector, swap_only=args.swap_only, difficulty=args.difficulty)


if __name__ == "__main__":
    raise SystemExit(main())
