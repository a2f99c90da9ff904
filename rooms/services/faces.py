"""Finding faces with the models this deployment is configured for (FACE_DETECTOR, FACE_LANDMARKS)."""

from typing import Any

import numpy as np
from django.conf import settings

from swaps.pipeline import encoder, traits
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
