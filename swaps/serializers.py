"""Small input and output serializers for the crowd and swap API; no business rules here."""

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crowdswap.jobs.serializers import JobOutputSerializer
from rooms.models import Identity
from swaps.models import CrowdPhoto, Swap
from swaps.services.crowds import crowd_summary, normalised_box


def share_url(swap: Swap) -> str:
    """Return the public link of a challenge on the configured site (link previews need an absolute URL)."""
    return f"{settings.SITE_URL}{reverse('play:page', args=[swap.share_token])}"


def facebook_share_url(link: str) -> str:
    """Return Facebook's share-dialog URL for a link."""
    return "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": link})


def _absolute(context: dict[str, Any], url: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(url) if request is not None else url


# ---------------------------------------------------------------- crowds


class CrowdFaceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    box = serializers.ListField(child=serializers.FloatField(), help_text="left, top, width, height as image fractions")
    usable = serializers.BooleanField(help_text="Whether this face can host a friend.")


class CrowdSummarySerializer(serializers.Serializer):
    faces = serializers.IntegerField()
    usable = serializers.IntegerField(help_text="Faces that can host a friend.")
    people = serializers.IntegerField()
    enough = serializers.BooleanField()
    message = serializers.CharField()


class CrowdPhotoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    original_name = serializers.CharField()
    status = serializers.CharField()
    error = serializers.CharField(allow_blank=True)
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    image_url = serializers.SerializerMethodField()
    faces = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    job = serializers.IntegerField(source="job_id", allow_null=True)
    retryable = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_image_url(self, crowd: CrowdPhoto) -> str:
        return _absolute(self.context, reverse("swaps:crowd-image", args=[crowd.room_id, crowd.pk]))

    @extend_schema_field(CrowdFaceSerializer(many=True))
    def get_faces(self, crowd: CrowdPhoto) -> list[dict]:
        return [
            {"id": f.pk, "box": normalised_box(f, crowd.width, crowd.height), "usable": f.can_host}
            for f in crowd.faces.all()
        ]

    @extend_schema_field(CrowdSummarySerializer)
    def get_summary(self, crowd: CrowdPhoto) -> dict:
        summary = crowd_summary(crowd_photo=crowd, people=self.context.get("people"))
        return {
            "faces": summary.faces,
            "usable": summary.usable,
            "people": summary.people,
            "enough": summary.enough,
            "message": summary.message,
        }

    def get_retryable(self, crowd: CrowdPhoto) -> bool:
        """Whether its job failed for good, so the page offers Retry."""
        return crowd.job is not None and crowd.job.retryable


class LookalikeSerializer(serializers.Serializer):
    crowd_face = serializers.IntegerField()
    box = serializers.ListField(child=serializers.FloatField())
    distance = serializers.FloatField()


class IdentityLookalikesSerializer(serializers.Serializer):
    identity = serializers.IntegerField()
    crowd_photo = serializers.IntegerField()
    lookalikes = LookalikeSerializer(many=True)


# ---------------------------------------------------------------- swaps


class SwapStartSerializer(serializers.Serializer):
    crowd_photo = serializers.IntegerField(help_text="Id of a processed crowd photo of this room.")
    identities = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Ids of the people to hide. Missing: every visible person with a usable face, "
        "as many as the crowd can host.",
    )
    difficulty = serializers.ChoiceField(
        choices=Swap.Difficulty.choices, default=Swap.Difficulty.MEDIUM, help_text="Shown to players as a label."
    )


class SwapFriendSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SwapAnswerSerializer(serializers.Serializer):
    identity = serializers.IntegerField()
    name = serializers.CharField()
    box = serializers.ListField(child=serializers.FloatField(), help_text="left, top, width, height as image fractions")


class SwapSerializer(serializers.Serializer):
    """A swap version as its owner sees it.

    The answer boxes come out only when the view says the requester owns the room (context
    ``show_answers``); any other use of this serializer leaves them out.
    """

    id = serializers.IntegerField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    error = serializers.CharField(allow_blank=True)
    job = serializers.IntegerField(source="job_id", allow_null=True)
    crowd_photo = serializers.IntegerField(source="crowd_photo_id", allow_null=True)
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    published = serializers.BooleanField()
    difficulty = serializers.CharField()
    friends = serializers.SerializerMethodField()
    answers = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField()
    share_url = serializers.SerializerMethodField()
    facebook_share_url = serializers.SerializerMethodField()

    def _names(self, swap: Swap) -> dict[int, str]:
        # One query per response, however many versions are listed.
        names = self.context.get("_names")
        if names is None:
            names = {i.pk: i.display_name for i in Identity.objects.filter(room_id=swap.room_id)}
            self.context["_names"] = names
        return names

    @extend_schema_field(SwapFriendSerializer(many=True))
    def get_friends(self, swap: Swap) -> list[dict[str, Any]]:
        # Once swapped, the answer key lists who is really in the picture; before that, who was chosen.
        ids = swap.hidden_identity_ids() if swap.answer_key else [int(i) for i in swap.identity_ids]
        names = self._names(swap)
        return [{"id": pk, "name": names.get(pk, "A friend")} for pk in ids]

    @extend_schema_field(SwapAnswerSerializer(many=True, allow_null=True))
    def get_answers(self, swap: Swap) -> list[dict[str, Any]] | None:
        if not self.context.get("show_answers") or swap.status != Swap.Status.DONE:
            return None
        names = self._names(swap)
        return [
            {"identity": int(e["identity"]), "name": names.get(int(e["identity"]), "A friend"), "box": e["box"]}
            for e in swap.answer_key
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_image_url(self, swap: Swap) -> str | None:
        if not swap.image:
            return None
        url = reverse("swaps:swap-image", args=[swap.room_id, swap.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    @extend_schema_field(OpenApiTypes.URI)
    def get_share_url(self, swap: Swap) -> str:
        return share_url(swap)

    @extend_schema_field(OpenApiTypes.URI)
    def get_facebook_share_url(self, swap: Swap) -> str:
        return facebook_share_url(share_url(swap))


class SwapStartedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    swap = SwapSerializer()
    job = JobOutputSerializer(help_text="The job that makes the swap; follow it at /api/jobs/{id}/.")
