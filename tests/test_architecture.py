"""The layers hold: import-linter's contracts pass on the tree, and break when a forbidden import appears."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--no-cache"],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a copy of the code and the contracts, to break on purpose."""
    copy = tmp_path_factory.mktemp("tree")
    for package in ("crowdswap", "rooms", "swaps"):
        shutil.copytree(ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", copy / ".importlinter")
    return copy


def test_the_contracts_hold_on_the_tree():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # rooms sits below swaps: a lower layer never reaches up, not even inside a function.
        ("rooms/services/photos.py", "def _sneaky():\n    from swaps.models import Swap\n", "rooms.services.photos"),
        # The job engine knows no product concept.
        ("crowdswap/jobs/engine.py", "from rooms.models import Room\n", "crowdswap.jobs.engine"),
        # Shared infrastructure knows no job and no app.
        ("crowdswap/lib/files.py", "from crowdswap.jobs.models import Job\n", "crowdswap.lib.files"),
        # The pipeline stays pure: no Django, no app.
        ("swaps/pipeline/faces.py", "import django.conf\n", "swaps.pipeline.faces"),
        ("swaps/pipeline/matching.py", "from swaps import models\n", "swaps.pipeline.matching"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tree_copy: Path, module: str, line: str, broken: str):
    target = tree_copy / module
    original = target.read_text()
    try:
        target.write_text(original + "\n" + line)
        result = lint(tree_copy)
    finally:
        target.write_text(original)
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout and broken in result.stdout, result.stdout
