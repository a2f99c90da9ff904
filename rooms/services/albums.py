"""Albums: every photo a person appears in, downloaded one by one or as a ZIP streamed in chunks."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet

from rooms.models import Identity, Photo, Room
from rooms.services.identities import identities_for_room


def album_photos(identity: Identity) -> QuerySet[Photo]:
    """Return every photo the identity appears in."""
    return Photo.objects.filter(faces__identity=identity, faces__ignored=False).distinct().order_by("created_at", "id")


def album_identities(room: Room) -> QuerySet[Identity]:
    """Return the identities that get an album: hidden people are left out."""
    return identities_for_room(room).filter(hidden=False)


class _ChunkSink(io.RawIOBase):
    """A write-only, unseekable stream that hands written bytes to a generator."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.offset = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self.offset += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.offset

    def drain(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def album_zip_name(identity: Identity) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in identity.display_name).strip("-") or "album"
    return f"{safe}.zip"


def stream_album_zip(photos: Iterable[Photo], *, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """Yield a ZIP of the photos piece by piece, holding at most one chunk of one file in memory."""
    sink = _ChunkSink()
    used: set[str] = set()
    # JPEGs do not compress: storing them keeps the worker's CPU for faces.
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for index, photo in enumerate(photos, start=1):
            stem = (photo.original_name.rsplit(".", 1)[0] or "photo").replace("/", "-")[:80]
            name = f"{index:03d}-{stem}.jpg"
            while name in used:
                name = f"{index:03d}-{uuid.uuid4().hex[:6]}-{stem}.jpg"
            used.add(name)
            with photo.image.storage.open(photo.image.name, "rb") as source, archive.open(name, "w") as target:
                while chunk := source.read(chunk_size):
                    target.write(chunk)
                    if sink.offset and sink.chunks:
                        yield sink.drain()
            yield sink.drain()
    yield sink.drain()
