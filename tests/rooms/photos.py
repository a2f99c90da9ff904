"""Real test photos, downscaled once per session, and helpers that run the photo pipeline in-process."""

import csv
import io
from collections import defaultdict
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

# Portraits this small still give 100+ px faces, and keep detection well under a second each.
SMALL_SIDE = 400
# Per person, three photos whose faces chain within the clustering radius at this size, and a fourth
# that joins them; the pipeline's own tests measure clustering on the whole set.
SUBSETS = {
    "angelina_jolie": ("img10.jpg", "img2.jpg", "img6.jpg", "img4.jpg"),
    "jennifer_aniston": ("img3.jpg", "img53.jpg", "img56.jpg", "img55.jpg"),
    "mark_zuckerberg": ("img13.jpg", "img14.jpg", "img57.jpg", "img58.jpg"),
}
PEOPLE = tuple(SUBSETS)


def small_jpeg(path: Path, side: int = SMALL_SIDE) -> bytes:
    """Return a downscaled JPEG copy of a photo."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        img.thumbnail((side, side))
        buffer = io.BytesIO()
        img.save(buffer, format="JPEG", quality=90)
        return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def run_queued_jobs(kind: str | None = None) -> list:
    """Run every queued job in this process, as a worker would; return the finished jobs."""
    from crowdswap.jobs.engine import run_job
    from crowdswap.jobs.models import Job

    jobs = Job.objects.filter(status=Job.Status.QUEUED)
    if kind:
        jobs = jobs.filter(kind=kind)
    ids = list(jobs.order_by("id").values_list("id", flat=True))
    for job_id in ids:
        run_job(job_id, worker_id="test")
    return list(Job.objects.filter(id__in=ids).order_by("id"))


def abandon_job(job_id: int) -> None:
    """Leave a job as a worker killed mid-run leaves it: claimed, its row running, no heartbeat for minutes."""
    from datetime import timedelta

    from django.utils import timezone

    from crowdswap.jobs.engine import claim
    from crowdswap.jobs.models import Job

    assert claim(job_id, worker_id="killed") is not None
    Job.objects.filter(pk=job_id).update(heartbeat_at=timezone.now() - timedelta(minutes=10))


def storage_files(prefix: str = "") -> list[str]:
    """List every file in the default storage under a prefix (recursively)."""
    found: list[str] = []

    def walk(path: str) -> None:
        try:
            directories, files = default_storage.listdir(path)
        except FileNotFoundError:
            return
        found.extend(f"{path}/{name}" if path else name for name in files)
        for directory in directories:
            walk(f"{path}/{directory}" if path else directory)

    walk(prefix)
    return sorted(found)


@pytest.fixture(scope="session")
def labelled_photos(data_dir: Path) -> dict[str, list[Path]]:
    """Map each person in shared/data/identities to their photo paths."""
    people: dict[str, list[Path]] = defaultdict(list)
    with open(data_dir / "identities" / "labels.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            people[row["identity"]].append(data_dir / row["path"])
    return {name: sorted(paths) for name, paths in people.items()}


@pytest.fixture(scope="session")
def small_photos(labelled_photos: dict[str, list[Path]]) -> dict[str, list[bytes]]:
    """Four small JPEGs of each of three people."""
    by_name = {person: {p.name: p for p in labelled_photos[person]} for person in PEOPLE}
    return {person: [small_jpeg(by_name[person][name]) for name in names] for person, names in SUBSETS.items()}


@pytest.fixture(scope="session")
def face_models() -> None:
    from swaps.pipeline import faces

    faces.load_models()


@pytest.fixture
def media(settings, tmp_path):
    """Give each test an empty media storage, so listing it proves what a test left behind."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def room(host):
    from rooms.services.rooms import create_room

    return create_room(owner=host, title="Cup final")


@pytest.fixture(scope="session")
def no_face_jpeg(data_dir: Path) -> bytes:
    """A real photo with no face in it: the shoulder below a portrait's face."""
    with Image.open(data_dir / "identities" / "angelina_jolie" / "img1.jpg") as img:
        img = img.convert("RGB")
        crop = img.crop((0, img.height - 250, img.width, img.height))
        buffer = io.BytesIO()
        crop.save(buffer, format="JPEG", quality=90)
        return buffer.getvalue()
