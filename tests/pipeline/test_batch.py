"""The process pool: same faces as one process, and workers that start warm when that is safe."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from swaps.pipeline import batch, encoder

from .conftest import IdentityData


def test_pool_finds_the_same_faces_as_one_process(identity_data: IdentityData) -> None:
    paths = identity_data.paths[:4]
    pooled = batch.detect_files(paths, workers=2)
    serial = [batch.detect_file(path) for path in paths]
    assert [[face.box for face in per] for per in pooled] == [[face.box for face in per] for per in serial]
    assert [[face.box for face in per] for per in pooled] == [
        [face.box for face in per] for per in identity_data.faces[:4]
    ]


def test_single_threaded_caller_forks_warm_workers(tmp_path: Path) -> None:
    """The CLI and the benchmark fork, so workers inherit the models the parent already loaded."""
    script = (
        "import os\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from swaps.pipeline import encoder\n"
        "def warm():\n"
        '    return "encoder" in encoder._models\n'
        "encoder.load()\n"
        "context = encoder.process_context()\n"
        "with ProcessPoolExecutor(1, mp_context=context) as pool:\n"
        "    warm = pool.submit(warm).result()\n"
        "print(context.get_start_method(), warm)\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["fork", "True"]


def test_caller_with_other_threads_spawns_clean_workers() -> None:
    """A fork while another thread runs could copy a held lock into the child: spawn instead."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert encoder.process_context().get_start_method() == "spawn"
    finally:
        stop.set()
        other.join()
