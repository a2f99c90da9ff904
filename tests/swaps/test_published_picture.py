"""The published picture is re-rendered as a whole: diffing it against the original crowd points at no face."""

import cv2
import numpy as np
import pytest

from rooms.services.uploads import read_stored_rgb
from swaps.pipeline import disguise, faces


def diff_inside_and_outside(
    original: np.ndarray, published: np.ndarray, boxes: list[list[float]]
) -> tuple[float, float]:
    """Return the mean absolute difference inside the answer boxes and outside them, naive pixel diff."""
    height, width = published.shape[:2]
    resized = cv2.resize(original, (width, height), interpolation=cv2.INTER_AREA)
    diff = np.abs(resized.astype(np.float32) - published.astype(np.float32)).mean(axis=2)
    inside = np.zeros(diff.shape, dtype=bool)
    for x, y, w, h in boxes:
        inside[int(y * height) : int(np.ceil((y + h) * height)), int(x * width) : int(np.ceil((x + w) * width))] = True
    return float(diff[inside].mean()), float(diff[~inside].mean())


@pytest.mark.usefixtures("face_models")
def test_a_pixel_diff_against_the_original_crowd_lights_up_everywhere(swapped):
    original = read_stored_rgb(swapped.crowd_photo.image)
    published = read_stored_rgb(swapped.image)
    boxes = [entry["box"] for entry in swapped.answer_key]

    inside, outside = diff_inside_and_outside(original, published, boxes)

    print(f"\nmean |diff| inside the hidden faces {inside:.1f}, elsewhere {outside:.1f}, ratio {inside / outside:.2f}")
    # Before re-rendering, everything but the faces was identical (JPEG noise only): the faces stood out
    # several times over. Now the whole picture differs about as much as the faces do.
    assert outside > 8
    assert inside / outside < 2
    # The picture is the same photo for a person: only slightly smaller (at random, down to disguise.SMALLEST_SIDE;
    # the bound was 0.9, under what the crop and scale allow), nothing stretched.
    assert disguise.SMALLEST_SIDE - 1 / original.shape[1] <= published.shape[1] / original.shape[1] < 1.0
    assert abs(published.shape[1] / published.shape[0] - original.shape[1] / original.shape[0]) < 0.05


@pytest.mark.usefixtures("face_models")
def test_answer_boxes_still_match_the_faces_of_the_published_picture(swapped):
    published = read_stored_rgb(swapped.image)
    height, width = published.shape[:2]
    assert (swapped.width, swapped.height) == (width, height)
    found = faces.detect_faces(published)
    for entry in swapped.answer_key:
        x, y, w, h = entry["box"]
        box = (x * width, y * height, w * width, h * height)
        assert max(faces.box_iou(box, face.box) for face in found) > 0.5, entry


def test_preview_comes_from_the_re_rendered_picture(swapped):
    preview = read_stored_rgb(swapped.preview)
    assert preview.shape[:2] == (630, 1200)
