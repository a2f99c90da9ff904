"""Finding faces with the models this deployment is configured for (FACE_DETECTOR, FACE_LANDMARKS)."""

from collections.abc import Iterable
from typing import Any

import numpy as np
from django.conf import settings

from rooms.models import DetectedFace
from rooms.services.uploads import read_stored_rgb
from swaps.pipeline import encoder, hiding, images, traits
from swaps.pipeline import faces as pipeline_faces


def find_faces(rgb: np.ndarray, **options: Any) -> list[pipeline_faces.Face]:
    """Return the faces in ``rgb`` found with the configured detector and landmark model.

    Every embedded face also carries its look and expression (skin, beard, makeup, glasses, gender estimate, mouth,
    smile, eyes, head turn) in ``quality``, read while the pixels are at hand: the swap form weighs how well each
    friend fits each crowd face from the stored faces alone, without reading a photo.
    """
    found = pipeline_faces.detect_faces(
        rgb,
        detector=settings.FACE_DETECTOR,
        landmarks=settings.FACE_LANDMARKS,
        encode_processes=settings.FACE_ENCODE_PROCESSES,
        **options,
    )
    traits.annotate(rgb, [face for face in found if face.embedded])
    return found


def load_face_models() -> None:
    """Load the configured face models and start the encoder's helpers now (a worker does it before its first job)."""
    pipeline_faces.load_models(detector=settings.FACE_DETECTOR, landmarks=settings.FACE_LANDMARKS)
    encoder.start_helpers(settings.FACE_ENCODE_PROCESSES - 1)


def store_quality(row: DetectedFace, face: pipeline_faces.Face) -> None:
    """Store the quality ``face`` carries (its look and expression as read now) on its stored ``row``."""
    quality = type(row).fields_from_pipeline(face)["quality"]
    type(row).objects.filter(pk=row.pk).update(quality=quality)
    row.quality = quality


def read_traits_again(photos: Iterable[Any]) -> tuple[int, int, list[str]]:
    """Read the look and expression again for the stored faces an older version of traits.annotate read.

    ``photos`` are stored photos (friends' or crowds': an ``image`` and their ``faces``). Only a photo with such a face
    is opened, and all its faces are read together (its small faces' skin tones pool over them). Return how many
    photos and faces were read again, and the photos that could not be read.
    """
    photo_count, face_count, unreadable = 0, 0, []
    for photo in photos:
        rows = [row for row in photo.faces.all() if row.embedded]
        if all(traits.is_current(row.quality or {}) for row in rows):
            continue
        try:
            rgb = read_stored_rgb(photo.image)
        except (OSError, images.NotAnImageError) as exc:
            unreadable.append(f"{type(photo).__name__} {photo.pk}: {exc}")
            continue
        found = [row.to_pipeline() for row in rows]
        hiding.annotate_missing(rgb, found)
        for row, face in zip(rows, found, strict=True):
            if face.quality != row.quality:
                store_quality(row, face)
                face_count += 1
        photo_count += 1
    return photo_count, face_count, unreadable
