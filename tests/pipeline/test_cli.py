"""The command line's JSON contract and errors, run as a real subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "swaps.pipeline", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def friends(tmp_path_factory, data_dir: Path) -> Path:
    """Return a folder of two friends' photos (a woman's two, a man's four), in sub-folders."""
    folder = tmp_path_factory.mktemp("friends")
    for person in ("marissa_mayer", "george_clooney"):
        shutil.copytree(data_dir / "identities" / person, folder / person)
    return folder


def test_detect_prints_boxes_per_image(data_dir: Path) -> None:
    path = str(data_dir / "crowds" / "voc" / "2008_001322.jpg")
    done = _run("detect", path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert list(result) == [path]
    found = result[path]["faces"]
    assert len(found) >= 3
    assert all(len(face["box"]) == 4 and "score" in face["quality"] for face in found)


def test_detector_option_and_env(data_dir: Path) -> None:
    path = str(data_dir / "crowds" / "group-cc0.jpg")
    counts = {}
    for detector in ("retinaface", "hog"):
        done = _run("detect", "--detector", detector, path)
        assert done.returncode == 0, done.stderr
        found = json.loads(done.stdout)[path]["faces"]
        assert all(face["embedded"] for face in found)
        counts[detector] = len(found)
    assert counts == {"retinaface": 5, "hog": 3}
    env = {**os.environ, "FACE_DETECTOR": "hog"}
    done = subprocess.run(
        [sys.executable, "-m", "swaps.pipeline", "detect", path], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0 and len(json.loads(done.stdout)[path]["faces"]) == 3
    bad = _run("detect", "--detector", "mtcnn", path)
    assert bad.returncode != 0 and "invalid choice" in bad.stderr


def test_cluster_labels_each_face(friends: Path) -> None:
    done = _run("cluster", str(friends))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert len(result) == 6
    by_person: dict[str, set[int]] = {}
    for path, entry in result.items():
        person = Path(path).parent.name
        by_person.setdefault(person, set()).update(face["identity"] for face in entry["faces"])
    assert all(len(labels) == 1 and -1 not in labels for labels in by_person.values())
    assert by_person["marissa_mayer"] != by_person["george_clooney"]


def test_swap_writes_image_and_answer_key(friends: Path, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jpg"
    # selfie-many-people.jpg: men and women face the camera, so both friends fit a face (fairly: without --count,
    # every friend who fits is hidden).
    crowd = data_dir / "crowds" / "selfie-many-people.jpg"
    done = _run("swap", "--friends", str(friends), "--crowd", str(crowd), "--out", str(out))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["out"] == str(out)
    width, height = Image.open(crowd).size
    assert Image.open(out).size == (width, height)
    assert len(result["hidden"]) == 2
    for hidden in result["hidden"]:
        assert Path(hidden["source"]).parent.parent == friends and isinstance(hidden["mirrored"], bool)
        left, top, w, h = hidden["box"]
        assert hidden["box_norm"] == pytest.approx([left / width, top / height, w / width, h / height], abs=1e-5)
        assert isinstance(hidden["identity"], int) and hidden["distance"] > 0
        assert hidden["fit"]["allowed"] and hidden["fit"]["verdict"] in ("good", "fair") and hidden["fit"]["reasons"]


def test_swap_count_takes_only_friends_who_fit_well(friends: Path, data_dir: Path, tmp_path: Path) -> None:
    # Both friends fit selfie-many-people.jpg only fairly (0.68 and 0.67 measured; hidden without --count, see above):
    # --count chooses among good fits only (the best of them: tests/pipeline/test_fit.py) and says why each was left
    # out.
    out = tmp_path / "out.jpg"
    crowd = data_dir / "crowds" / "selfie-many-people.jpg"
    done = _run("swap", "--friends", str(friends), "--crowd", str(crowd), "--out", str(out), "--count", "1")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["hidden"] == [] and len(result["unplaced"]) == 2
    assert all(why.startswith("fits this crowd only fairly: ") for why in result["unplaced"].values())


def test_bad_input_is_one_line_on_stderr(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.jpg"
    bogus.write_text("not a photo")
    done = _run("detect", str(bogus))
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.strip().count("\n") == 0 and "notes.jpg" in done.stderr and "not an image" in done.stderr
    missing = _run("detect", str(tmp_path / "nothing-here.jpg"))
    assert missing.returncode != 0 and "no such file" in missing.stderr


def test_swap_into_photo_without_faces_fails_clearly(friends: Path, data_dir: Path, tmp_path: Path) -> None:
    no_face = tmp_path / "floor.png"
    Image.open(data_dir / "crowds" / "stadium.jpg").crop((0, 560, 300, 644)).save(no_face)
    out = tmp_path / "o.jpg"
    done = _run("swap", "--friends", str(friends), "--crowd", str(no_face), "--out", str(out))
    assert done.returncode != 0 and "0 faces found for 2 friends" in done.stderr
    assert not out.exists()


def test_swap_rejects_count_below_one(friends: Path, data_dir: Path, tmp_path: Path) -> None:
    crowd = data_dir / "crowds" / "group-cc0.jpg"
    done = _run(
        "swap", "--friends", str(friends), "--crowd", str(crowd), "--out", str(tmp_path / "o.jpg"), "--count", "0"
    )
    assert done.returncode != 0 and "--count" in done.stderr
