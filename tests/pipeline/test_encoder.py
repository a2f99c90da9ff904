"""The encoder's helper processes: the same vectors, faster on a crowd, nothing lost when a helper dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from swaps.pipeline import detection, encoder, faces, images
from swaps.pipeline import landmarks as marks


def _wait_for_helper() -> encoder._Helper:
    """Return a ready helper, starting one if needed."""
    assert encoder.wait_for_helpers(1) == 1, "no encoder helper was ready within 60 s"
    return encoder._helpers[0]


@pytest.fixture(scope="module")
def stadium_shapes(data_dir: Path) -> tuple[np.ndarray, list]:
    """Return stadium.jpg and the 5-point shapes of its faces that can host a friend (24)."""
    rgb = images.load_image(data_dir / "crowds" / "stadium.jpg")
    shapes = []
    for found in detection.detect(rgb, min_face_px=faces.HOST_MIN_SIZE_PX):
        located = marks.locate(rgb, found.box, eye_points=found.points)
        if located.five is not None:
            shapes.append(located.five)
    assert len(shapes) >= 20
    return rgb, shapes


def test_helpers_give_the_same_vectors(stadium_shapes) -> None:
    """The faces a helper encodes from chips cut here come back exactly as one process encodes them."""
    rgb, shapes = stadium_shapes
    alone = encoder.encode(rgb, shapes, processes=1)
    helper = _wait_for_helper()
    received = []
    original_receive = helper.receive

    def receive() -> list[np.ndarray] | None:
        received.append(original_receive())
        return received[-1]

    helper.receive = receive  # type: ignore[method-assign]
    shared = encoder.encode(rgb, shapes, processes=2)
    del helper.receive
    assert len(shared) == len(alone) == len(shapes)
    assert all(np.array_equal(a, b) for a, b in zip(alone, shared, strict=True))
    # The helper encoded its half: the vectors it sent back are the second half's.
    assert len(received) == 1 and received[0] is not None and len(received[0]) == len(shapes) // 2


def test_a_dead_helper_loses_nothing(stadium_shapes) -> None:
    """A helper killed before its share comes back: this process encodes the share; the next call starts a new one."""
    rgb, shapes = stadium_shapes
    alone = encoder.encode(rgb, shapes, processes=1)
    helper = _wait_for_helper()
    # The helper dies as its share is handed over.
    original_send = helper.send

    def send_then_die(chips: list, num_jitters: int) -> bool:
        os.kill(helper.process.pid, signal.SIGKILL)
        return original_send(chips, num_jitters)

    helper.send = send_then_die  # type: ignore[method-assign]
    shared = encoder.encode(rgb, shapes, processes=2)
    del helper.send
    assert all(np.array_equal(a, b) for a, b in zip(alone, shared, strict=True))
    replacement = _wait_for_helper()
    assert replacement.process.pid != helper.process.pid
    assert all(np.array_equal(a, b) for a, b in zip(alone, encoder.encode(rgb, shapes, processes=2), strict=True))


def test_few_faces_stay_in_process(stadium_shapes) -> None:
    """A portrait's one face is not worth a hand-off: no helper is started for it."""
    rgb, shapes = stadium_shapes
    for helper in list(encoder._helpers):
        helper.stop()
    encoder._helpers.clear()
    encoder.encode(rgb, shapes[: encoder.MIN_FACES_PER_PROCESS * 2 - 1], processes=2)
    assert encoder._helpers == []


def test_helper_goes_when_its_parent_is_killed(tmp_path: Path) -> None:
    """A worker killed outright (SIGKILL) leaves no encoder process behind."""
    script = (
        "import time\n"
        "from swaps.pipeline import encoder\n"
        "encoder.wait_for_helpers(1)\n"
        "print(encoder._helpers[0].process.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    root = Path(__file__).resolve().parents[2]
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        helper_pid = int(parent.stdout.readline())
        os.kill(helper_pid, 0)  # alive
        parent.kill()
        parent.wait(timeout=10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(helper_pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        os.kill(helper_pid, signal.SIGKILL)
        raise AssertionError("the encoder helper outlived its killed parent")
    finally:
        if parent.poll() is None:
            parent.kill()
