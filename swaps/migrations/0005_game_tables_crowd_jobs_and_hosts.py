# The game's tables take the swaps_ prefix; crowd photos point at their job instead of being found
# in job payloads; a crowd face's "usable" (could host a friend) is renamed can_host, and "usable"
# now means what it means for every detected face (good enough to be a source), filled from quality.

import django.db.models.deletion
from django.db import migrations, models

# The pipeline's rule as it stood when this migration was written (faces.USABLE_* constants).
USABLE_MIN_SIZE_PX = 60.0
USABLE_MIN_FRONTALNESS = 0.3
USABLE_MIN_SHARPNESS = 0.25
USABLE_MIN_INSIDE = 0.9


def _usable(quality):
    quality = quality or {}
    return (
        float(quality.get("size", 0.0)) >= USABLE_MIN_SIZE_PX
        and float(quality.get("frontalness", 0.0)) >= USABLE_MIN_FRONTALNESS
        and float(quality.get("sharpness", 0.0)) >= USABLE_MIN_SHARPNESS
        and float(quality.get("inside", 0.0)) >= USABLE_MIN_INSIDE
    )


def link_jobs_and_fill_usable(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    CrowdPhoto = apps.get_model("swaps", "CrowdPhoto")
    CrowdFace = apps.get_model("swaps", "CrowdFace")
    latest: dict[int, int] = {}
    for job_id, payload in Job.objects.filter(kind="crowd").order_by("id").values_list("id", "payload"):
        if isinstance(payload, dict) and payload.get("crowd_photo_id") is not None:
            latest[int(payload["crowd_photo_id"])] = job_id
    for crowd in CrowdPhoto.objects.filter(pk__in=list(latest)).iterator():
        crowd.job_id = latest[crowd.pk]
        crowd.save(update_fields=["job"])
    for face in CrowdFace.objects.only("id", "quality").iterator():
        if _usable(face.quality):
            CrowdFace.objects.filter(pk=face.pk).update(usable=True)


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0002_owner_and_progress_group"),
        ("rooms", "0004_game_moves_to_swaps"),
        ("swaps", "0004_game_moves_to_swaps"),
    ]

    operations = [
        migrations.AlterModelTable(name="player", table=None),
        migrations.AlterModelTable(name="guess", table=None),
        migrations.AddField(
            model_name="crowdphoto",
            name="job",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="jobs.job"
            ),
        ),
        migrations.RenameField(model_name="crowdface", old_name="usable", new_name="can_host"),
        migrations.AddField(model_name="crowdface", name="usable", field=models.BooleanField(default=False)),
        migrations.RunPython(link_jobs_and_fill_usable, migrations.RunPython.noop),
    ]
