"""Detect faces in many photos at once, on every core, with models loaded once per worker process."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from . import detection, encoder, faces, images
from . import landmarks as marks


def detect_file(
    path: str,
    min_face_px: float = faces.DEFAULT_MIN_FACE_PX,
    detector: str = detection.DEFAULT_DETECTOR,
    landmarks: str = marks.DEFAULT_METHOD,
) -> list[faces.Face]:
    """Return the faces in the image file at ``path``."""
    return faces.detect_faces(images.load_image(path), min_face_px=min_face_px, detector=detector, landmarks=landmarks)


def detect_files(
    paths: Sequence[str],
    *,
    workers: int | None = None,
    min_face_px: float = faces.DEFAULT_MIN_FACE_PX,
    detector: str = detection.DEFAULT_DETECTOR,
    landmarks: str = marks.DEFAULT_METHOD,
) -> list[list[faces.Face]]:
    """Return the faces of each file in ``paths``, in order, using a process pool for batches."""
    workers = workers if workers is not None else min(len(paths), os.cpu_count() or 1)
    if workers <= 1 or len(paths) <= 1:
        return [detect_file(path, min_face_px, detector, landmarks) for path in paths]
    load = functools.partial(faces.load_models, detector=detector, landmarks=landmarks)
    with ProcessPoolExecutor(max_workers=workers, mp_context=encoder.process_context(), initializer=load) as pool:
        count = len(paths)
        return list(
            pool.map(detect_file, paths, [min_face_px] * count, [detector] * count, [landmarks] * count, chunksize=1)
        )
