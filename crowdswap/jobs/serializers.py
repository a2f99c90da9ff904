"""The job as the API shows it to its owner."""

from rest_framework import serializers

from crowdswap.jobs.models import Job


class JobOutputSerializer(serializers.ModelSerializer):
    """A background job's state, progress and outcome."""

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "stage",
            "error",
            "payload",
            "result",
            "attempts",
            "queued_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
