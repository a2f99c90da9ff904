"""Detect faces in many photos at once, on every core, with models loaded once per worker process."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from . import faces, images


def detect_file(path: str, min_face_px: int = 40) -> list[faces.Face]:
    """Return the faces in the image file at ``path``."""
    return faces.detect_faces(images.load_image(path), min_face_px=min_face_px)


def detect_files(paths: Sequence[str], *, workers: int | None = None, min_face_px: int = 40) -> list[list[faces.Face]]:
    """Return the faces of each file in ``paths``, in order, using a process pool for batches."""
    workers = workers if workers is not None else min(len(paths), os.cpu_count() or 1)
    if workers <= 1 or len(paths) <= 1:
        return [detect_file(path, min_face_px) for path in paths]
    # "spawn" keeps workers clean of whatever threads or models the caller holds (a Channels worker, a test).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=faces.load_models) as pool:
        return list(pool.map(detect_file, paths, [min_face_px] * len(paths), chunksize=1))
