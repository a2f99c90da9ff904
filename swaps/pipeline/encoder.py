"""dlib's 128-D face encoder: loaded once per process, shared with helper processes for photos with many faces.

Encoding is most of a crowd photo's time (stadium.jpg: 24 faces at ~75 ms with dlib-bin, 1.8 s of 2.1 s) and the
encoder holds Python's lock while it runs, so threads do not help; a second process does: the same 24 faces take
0.97 s split over two processes. ``encode(..., processes=N)`` cuts the aligned face chips here, as dlib does itself
(the vectors are identical), sends a share to each of N - 1 helper processes over a pipe and encodes its own share
meanwhile. A helper is started on first use (or by ``start_helpers``) and that call does not wait for it; a helper
that dies takes nothing with it: its share is encoded here and it is started again next time. A helper exits when
its parent does, however the parent ends.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

# dlib's chips for its encoder: 150 px, the face plus a quarter on each side (its own defaults).
CHIP_SIZE = 150
CHIP_PADDING = 0.25
# Below this many faces per process the hand-off (pickling ~70 KB a chip) is not worth it.
MIN_FACES_PER_PROCESS = 4

_lock = threading.Lock()
_models: dict[str, Any] = {}
# Seconds spent encoding (wall time, helpers included) and faces encoded, per process: the benchmark prints them.
stats = {"seconds": 0.0, "faces": 0}


def load() -> Any:
    """Return dlib's face encoder, loading it on first use (thread-safe)."""
    encoder = _models.get("encoder")
    if encoder is not None:
        return encoder
    with _lock:
        if "encoder" not in _models:
            import warnings

            import dlib

            with warnings.catch_warnings():
                # face_recognition_models still imports pkg_resources; its deprecation notice is not ours to fix.
                warnings.simplefilter("ignore")
                import face_recognition_models as frm

            _models["encoder"] = dlib.face_recognition_model_v1(frm.face_recognition_model_location())
    return _models["encoder"]


def dlib_build() -> str:
    """Return which dlib this process runs: the package, its version and whether it uses BLAS."""
    import importlib.metadata

    import dlib

    package = "dlib-bin"
    try:
        importlib.metadata.version("dlib-bin")
    except importlib.metadata.PackageNotFoundError:
        package = "dlib (source build)"
    blas = "BLAS" if getattr(dlib, "DLIB_USE_BLAS", False) else "no BLAS"
    return f"{package} {dlib.__version__}, {blas}"


def process_context() -> multiprocessing.context.BaseContext:
    """Pick how helper and pool processes start.

    Forking a single-threaded caller (the CLI, the benchmark) is cheap and hands the child the models the caller
    already loaded (~1.4 s saved per process). A caller with other threads (a Channels worker, a test server)
    could hold a lock at the moment of the fork, so it gets clean "spawn" processes that load the models themselves.
    """
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def encode(rgb: np.ndarray, shapes: Sequence[Any], num_jitters: int = 1, processes: int = 1) -> list[np.ndarray]:
    """Return the 128-D embedding of each face of ``rgb`` aligned by its dlib 5-point ``shapes``, in order.

    ``processes`` > 1 lets up to that many processes (this one and helpers) share the faces when there are at least
    MIN_FACES_PER_PROCESS for each.
    """
    import dlib

    if not shapes:
        return []
    start = time.perf_counter()
    detections = dlib.full_object_detections()
    for shape in shapes:
        detections.append(shape)
    shares = min(max(1, processes), len(shapes) // MIN_FACES_PER_PROCESS)
    helpers = _ready_helpers(shares - 1) if shares > 1 else []
    if not helpers:
        # One batched call: dlib runs the network over all chips at once, cheaper than one call per face.
        vectors = [np.array(v, dtype=np.float64) for v in load().compute_face_descriptor(rgb, detections, num_jitters)]
    else:
        chips = dlib.get_face_chips(rgb, detections, size=CHIP_SIZE, padding=CHIP_PADDING)
        parts = np.array_split(np.arange(len(chips)), len(helpers) + 1)
        sent = []
        for helper, part in zip(helpers, parts[1:], strict=True):
            sent.append(helper.send([chips[i] for i in part], num_jitters))
        vectors = _encode_chips([chips[i] for i in parts[0]], num_jitters)
        for helper, part, ok in zip(helpers, parts[1:], sent, strict=True):
            theirs = helper.receive() if ok else None
            vectors.extend(theirs if theirs is not None else _encode_chips([chips[i] for i in part], num_jitters))
    stats["seconds"] += time.perf_counter() - start
    stats["faces"] += len(shapes)
    return vectors


def start_helpers(count: int) -> None:
    """Start ``count`` helper processes now (a worker does it before its first job), without waiting for them."""
    _ready_helpers(count)


def wait_for_helpers(count: int, timeout: float = 60.0) -> int:
    """Start ``count`` helpers if needed and wait (at most ``timeout`` seconds) until they are ready; return how many are.

    For the benchmark and the tests: the app never waits (a helper still starting is simply not used).
    """
    deadline = time.monotonic() + timeout
    ready = _ready_helpers(count)
    while len(ready) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        ready = _ready_helpers(count)
    return len(ready)


def _encode_chips(chips: Sequence[np.ndarray], num_jitters: int) -> list[np.ndarray]:
    """Return the embeddings of aligned 150 px face chips."""
    return [np.array(v, dtype=np.float64) for v in load().compute_face_descriptor(list(chips), num_jitters)]


class _Helper:
    """One helper process and this process's end of its pipe."""

    def __init__(self) -> None:
        context = process_context()
        mine, theirs = context.Pipe(duplex=True)
        self.connection = mine
        self.process = context.Process(  # type: ignore[attr-defined]
            target=_serve, args=(theirs, mine, os.getpid()), name="crowdswap-encoder", daemon=True
        )
        self.process.start()
        theirs.close()
        self.ready = False

    def is_ready(self) -> bool:
        """Return whether the helper has loaded the encoder and waits for work (never blocks)."""
        if not self.ready and self.process.is_alive():
            try:
                if self.connection.poll():
                    self.ready = self.connection.recv() == "ready"
            except (EOFError, OSError):
                return False
        return self.ready and self.process.is_alive()

    def send(self, chips: list[np.ndarray], num_jitters: int) -> bool:
        """Hand ``chips`` to the helper; False if it is gone."""
        try:
            self.connection.send((chips, num_jitters))
            return True
        except (OSError, ValueError):
            self.ready = False
            return False

    def receive(self) -> list[np.ndarray] | None:
        """Return the helper's embeddings for what it was sent; None if it died on the way."""
        try:
            return list(self.connection.recv())
        except (EOFError, OSError):
            self.ready = False
            return None

    def stop(self) -> None:
        """End the helper process."""
        self.connection.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()


# The helpers of this process; a forked child (a pool worker) inherits the list but not the processes.
_helpers: list[_Helper] = []
_helpers_owner = os.getpid()
# Its own lock: a child forked while a helper starts must still be able to load the encoder.
_helpers_lock = threading.Lock()


def _ready_helpers(count: int) -> list[_Helper]:
    """Return up to ``count`` helpers ready for work now, starting any that are missing or dead.

    A helper still loading is left to finish and not waited for; another thread using the helpers gets none.
    """
    global _helpers_owner
    if count <= 0 or not _helpers_lock.acquire(blocking=False):
        return []
    try:
        if _helpers_owner != os.getpid():
            _helpers.clear()
            _helpers_owner = os.getpid()
        for helper in [h for h in _helpers if not h.process.is_alive()]:
            _helpers.remove(helper)
            helper.stop()
        while len(_helpers) < count:
            _helpers.append(_Helper())
        return [h for h in _helpers[:count] if h.is_ready()]
    finally:
        _helpers_lock.release()


def _serve(
    connection: multiprocessing.connection.Connection, parents_end: multiprocessing.connection.Connection, parent: int
) -> None:
    """Encode chips sent over ``connection`` until the parent closes it or goes away (the helper's main)."""
    parents_end.close()  # a forked child holds the parent's end too: without this it would never see EOF

    def watch() -> None:
        # A parent killed outright may leave its end open in a sibling: the helper also goes when it is orphaned.
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    load()
    connection.send("ready")
    while True:
        try:
            chips, num_jitters = connection.recv()
        except (EOFError, OSError):
            return
        connection.send(_encode_chips(chips, num_jitters))
