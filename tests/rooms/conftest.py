"""Fixtures for rooms tests: real photos, per-test media storage, in-process job runs."""

from tests.rooms.photos import (  # noqa: F401  (fixtures)
    face_models,
    labelled_photos,
    media,
    no_face_jpeg,
    room,
    small_photos,
)
from tests.swaps.conftest import challenge  # noqa: F401  (a published challenge, for covers seen by players)
