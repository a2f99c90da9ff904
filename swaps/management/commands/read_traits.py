"""``manage.py read_traits``: after a deploy that changes how faces are read (traits.VERSION), read stored faces again."""

from typing import Any

from django.core.management.base import BaseCommand

from rooms.models import Photo
from rooms.services.faces import read_traits_again
from swaps.models import CrowdPhoto


class Command(BaseCommand):
    help = (
        "Read the look and expression (skin tone, beard, makeup, glasses, expression) of stored friends' and crowd "
        "faces again where an older version read them, so the swap form weighs the new reading. Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for label, photos in (
            ("friends' photos", Photo.objects.prefetch_related("faces").order_by("pk")),
            ("crowd photos", CrowdPhoto.objects.prefetch_related("faces").order_by("pk")),
        ):
            photo_count, face_count, unreadable = read_traits_again(photos.iterator(chunk_size=50))
            self.stdout.write(f"{label}: {face_count} faces of {photo_count} photos read again")
            for problem in unreadable:
                self.stderr.write(f"could not read {problem}")
