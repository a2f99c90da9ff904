# Photos point at their job instead of being found in job payloads, and a face's "usable" verdict
# (good enough to seed a person or be a swap source) becomes a column instead of a key in quality.

import django.db.models.deletion
from django.db import migrations, models

# The pipeline's rule as it stood when this migration was written (faces.USABLE_* constants), for
# faces stored before the verdict was kept in quality.
USABLE_MIN_SIZE_PX = 60.0
USABLE_MIN_FRONTALNESS = 0.3
USABLE_MIN_SHARPNESS = 0.25
USABLE_MIN_INSIDE = 0.9


def _usable(quality):
    quality = quality or {}
    if "usable" in quality:
        return bool(quality["usable"])
    return (
        float(quality.get("size", 0.0)) >= USABLE_MIN_SIZE_PX
        and float(quality.get("frontalness", 0.0)) >= USABLE_MIN_FRONTALNESS
        and float(quality.get("sharpness", 0.0)) >= USABLE_MIN_SHARPNESS
        and float(quality.get("inside", 0.0)) >= USABLE_MIN_INSIDE
    )


def link_jobs_and_fill_usable(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    Photo = apps.get_model("rooms", "Photo")
    Face = apps.get_model("rooms", "Face")
    latest: dict[int, int] = {}
    for job_id, payload in Job.objects.filter(kind="photo").order_by("id").values_list("id", "payload"):
        if isinstance(payload, dict) and payload.get("photo_id") is not None:
            latest[int(payload["photo_id"])] = job_id
    for photo in Photo.objects.filter(pk__in=list(latest)).iterator():
        photo.job_id = latest[photo.pk]
        photo.save(update_fields=["job"])
    for face in Face.objects.only("id", "quality").iterator():
        if _usable(face.quality):
            Face.objects.filter(pk=face.pk).update(usable=True)


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0002_owner_and_progress_group"),
        ("rooms", "0004_game_moves_to_swaps"),
    ]

    operations = [
        migrations.AddField(
            model_name="photo",
            name="job",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="jobs.job"
            ),
        ),
        migrations.AddField(model_name="face", name="usable", field=models.BooleanField(default=False)),
        migrations.RunPython(link_jobs_and_fill_usable, migrations.RunPython.noop),
    ]
