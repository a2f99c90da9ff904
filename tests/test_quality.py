"""Repository-wide checks that CI enforces: lint and migrations in sync with models."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env, check=False)


def test_ruff_check_passes():
    result = run([str(BIN / "ruff"), "check", "--no-cache", "."])

    assert result.returncode == 0, result.stdout + result.stderr


def test_migrations_match_the_models(tmp_path):
    # A private var dir keeps the check from creating or locking the developer's SQLite file.
    env = {**os.environ, "CROWDSWAP_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "crowdswap.settings"}
    env.pop("DATABASE_URL", None)

    result = run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"], env=env)

    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_passes_on_the_pipeline():
    result = run([str(BIN / "mypy"), "--no-incremental", "swaps/pipeline"])

    assert result.returncode == 0, result.stdout + result.stderr
