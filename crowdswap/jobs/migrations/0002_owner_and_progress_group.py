# The job row becomes generic: instead of a room it names its owner (who may read and retry it) and
# the Channels group its progress goes to. Existing rows keep both from their room.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def owner_and_group_from_room(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    for job in Job.objects.filter(room__isnull=False).select_related("room").iterator():
        job.owner_id = job.room.owner_id
        job.group_name = f"room-{job.room_id}"
        job.save(update_fields=["owner", "group_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0001_initial"),
        ("swaps", "0003_job_moves_to_jobs_app"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelTable(name="job", table=None),
        migrations.RenameIndex(model_name="job", new_name="jobs_status_queued_idx", old_name="swaps_job_status_32e6b7_idx"),
        migrations.AddField(
            model_name="job",
            name="owner",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="jobs",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="job",
            name="group_name",
            field=models.CharField(blank=True, db_index=True, max_length=100),
        ),
        migrations.RunPython(owner_and_group_from_room, migrations.RunPython.noop),
        migrations.RemoveField(model_name="job", name="room"),
    ]
