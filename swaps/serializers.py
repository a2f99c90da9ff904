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
from swaps.pipeline.fit import Fit
from swaps.services.crowds import crowd_summary, normalised_box
from swaps.services.placement import Preview, fit_summary, preselected, reasons_in_words


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


VERDICTS = ("good", "fair", "poor")


class FitSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(
        choices=VERDICTS, help_text="good (score 0.70+, on faces of 48 px and more 0.75+), fair (0.45+) or poor."
    )
    score = serializers.FloatField(help_text="0..1: likeness (30%) and plausibility (70%).")
    allowed = serializers.BooleanField(help_text="Whether the friend may go on this face at all (above the floor).")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="The main reasons, in words.")
    summary = serializers.CharField(help_text="The reasons as one line for a person (the form shows it).")


def fit_json(fit: Fit) -> dict[str, Any]:
    """Return a fit as the API and the swap form show it."""
    return {
        "verdict": fit.verdict,
        "score": round(fit.score, 3),
        "allowed": fit.allowed,
        "reasons": reasons_in_words(fit),
        "summary": fit_summary(fit),
    }


class LookalikeSerializer(serializers.Serializer):
    crowd_face = serializers.IntegerField()
    box = serializers.ListField(child=serializers.FloatField())
    distance = serializers.FloatField()
    fit = FitSerializer(help_text="How well the person fits this face (at the difficulty asked).")


class IdentityLookalikesSerializer(serializers.Serializer):
    identity = serializers.IntegerField()
    crowd_photo = serializers.IntegerField()
    lookalikes = LookalikeSerializer(many=True, help_text="Best fit first; only faces the person may be placed on.")
    why_none = serializers.CharField(allow_blank=True, help_text="Why no face fits, when none does.")


class LookalikesQuerySerializer(serializers.Serializer):
    difficulty = serializers.ChoiceField(
        choices=Swap.Difficulty.choices, default=Swap.Difficulty.MEDIUM, help_text="Sets the smallest face that counts."
    )


# ---------------------------------------------------------------- placement (the swap form)


class PlacementQuerySerializer(serializers.Serializer):
    difficulty = serializers.ChoiceField(choices=Swap.Difficulty.choices, default=Swap.Difficulty.MEDIUM)
    identities = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text='Comma-separated ids of the people to hide ("4,7"). Missing: the people who fit this crowd well.',
    )
    pins = serializers.CharField(
        required=False, allow_blank=True, help_text='Friends fixed to crowd faces: "identity:crowd face,..." ("4:51").'
    )
    seed = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, help_text="Re-roll seed; missing: the best placement."
    )
    reroll = serializers.BooleanField(
        default=False, help_text="Find a new seed whose placement differs from the one under `seed`."
    )

    def validate_identities(self, value: str) -> list[int] | None:
        if value is None:
            return None
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if not all(part.isdigit() for part in parts):
            raise serializers.ValidationError("Give people as comma-separated ids.")
        return [int(part) for part in parts]


class HostFaceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    box = serializers.ListField(child=serializers.FloatField(), help_text="left, top, width, height as image fractions")


class FaceFitSerializer(FitSerializer):
    crowd_face = serializers.IntegerField()


class FriendFitSerializer(FitSerializer):
    identity = serializers.IntegerField()
    name = serializers.CharField()
    faces = FaceFitSerializer(many=True, help_text="The friend's fit on every face that can host, in `hosts` order.")


class PlacedSerializer(FitSerializer):
    identity = serializers.IntegerField()
    name = serializers.CharField()
    crowd_face = serializers.IntegerField()
    box = serializers.ListField(child=serializers.FloatField())
    pinned = serializers.BooleanField()


class UnplacedSerializer(serializers.Serializer):
    identity = serializers.IntegerField()
    name = serializers.CharField()
    reason = serializers.CharField()


class RefusedPinSerializer(UnplacedSerializer):
    crowd_face = serializers.IntegerField()
    detail = serializers.CharField()


class PlacementSerializer(serializers.Serializer):
    """Every friend's fit on a crowd and where the chosen ones would go: what the swap form shows."""

    crowd_photo = serializers.IntegerField()
    difficulty = serializers.CharField()
    seed = serializers.IntegerField(allow_null=True)
    rerolled = serializers.BooleanField(allow_null=True, help_text="null unless asked to re-roll.")
    detail = serializers.CharField(allow_blank=True)
    hosts = HostFaceSerializer(many=True, help_text="The faces that can take a friend at this difficulty.")
    friends = FriendFitSerializer(many=True, help_text="Every person who can be hidden, with their best fit here.")
    preselected = serializers.ListField(child=serializers.IntegerField(), help_text="The people with a good fit.")
    chosen = serializers.ListField(child=serializers.IntegerField())
    pins = serializers.DictField(child=serializers.IntegerField(), help_text="The pins that hold.")
    placement = PlacedSerializer(many=True)
    unplaced = UnplacedSerializer(many=True)
    refused = RefusedPinSerializer(many=True, help_text="Pins the fit does not allow, with the reason.")


def placement_json(
    shown: Preview, chosen: list[int], *, rerolled: bool | None = None, detail: str = ""
) -> dict[str, Any]:
    """Return the swap form's view of a crowd as plain JSON (the API's answer and the page's first state)."""
    crowd = shown.crowd
    names = {row.identity.pk: row.identity.display_name for row in shown.friends}
    boxed = shown.boxed  # the faces large enough for the difficulty: the others take no friend, so get no box
    return {
        "crowd_photo": crowd.pk,
        "difficulty": shown.difficulty,
        "seed": shown.seed,
        "rerolled": rerolled,
        "detail": detail,
        "hosts": [{"id": face.pk, "box": normalised_box(face, crowd.width, crowd.height)} for face in boxed],
        "friends": [
            {
                "identity": row.identity.pk,
                "name": row.identity.display_name,
                **fit_json(row.best),
                "faces": [{"crowd_face": face.pk, **fit_json(row.on[face.pk])} for face in boxed if face.pk in row.on],
            }
            for row in shown.friends
        ],
        "preselected": preselected(shown.friends, len(boxed)),
        "chosen": chosen,
        "pins": {str(identity): face for identity, face in shown.pins.items()},
        "placement": [
            {
                "identity": row.identity.pk,
                "name": row.identity.display_name,
                "crowd_face": row.face.pk,
                "box": normalised_box(row.face, crowd.width, crowd.height),
                "pinned": row.pinned,
                **fit_json(row.fit),
            }
            for row in shown.placed
        ],
        "unplaced": [
            {"identity": pk, "name": names.get(pk, "A friend"), "reason": reason}
            for pk, reason in shown.unplaced.items()
        ],
        "refused": [
            {
                "identity": refusal.identity.pk,
                "name": refusal.identity.display_name,
                "crowd_face": refusal.crowd_face_id,
                "reason": refusal.reason,
                "detail": refusal.message,
            }
            for refusal in shown.refused
        ],
    }


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
        choices=Swap.Difficulty.choices,
        default=Swap.Difficulty.MEDIUM,
        help_text="Shown to players as a label; the smallest crowd face a friend goes on (easy 48 px, medium and "
        "hard 36 px, hard preferring the smaller faces).",
    )
    pins = serializers.DictField(
        child=serializers.IntegerField(),
        required=False,
        help_text='Friends fixed to crowd faces: {"identity id": crowd face id}. Refused with the reason when the '
        "friend does not fit that face.",
    )
    seed = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        help_text="Re-roll seed from the placement preview; missing: the best placement.",
    )

    def validate_pins(self, value: dict[str, int]) -> dict[int, int]:
        if not all(str(key).isdigit() for key in value):
            raise serializers.ValidationError("Pins map person ids to crowd face ids.")
        return {int(key): int(face) for key, face in value.items()}


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
    pins = serializers.DictField(child=serializers.IntegerField(), help_text='{"identity id": crowd face id}')
    seed = serializers.IntegerField(allow_null=True)
    friends = serializers.SerializerMethodField()
    unplaced = serializers.SerializerMethodField()
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

    @extend_schema_field(UnplacedSerializer(many=True))
    def get_unplaced(self, swap: Swap) -> list[dict[str, Any]]:
        """The chosen friends the swap left out, and why (the host's eyes only, like the rest of this serializer)."""
        names = self._names(swap)
        return [
            {"identity": int(e["identity"]), "name": names.get(int(e["identity"]), "A friend"), "reason": e["reason"]}
            for e in swap.unplaced or []
        ]

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
