"""REST endpoints for crowd photos, lookalikes and swaps (start, follow, share, discard).

Everything is looked up through the owner's rooms (rooms.access, swaps.access), so another user gets
404 and learns nothing. Errors take the API's one shape and status (crowdswap.lib.api).
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crowdswap.jobs.serializers import JobOutputSerializer
from crowdswap.lib.api import ErrorSerializer
from rooms.access import get_room_for_owner
from rooms.api import upload_response, uploaded_files
from rooms.models import Room
from rooms.serializers import PhotoUploadSerializer, UploadReportSerializer
from swaps import serializers as s
from swaps.access import get_crowd_for_owner, get_swap_for_owner
from swaps.models import CrowdPhoto, Swap
from swaps.services import crowds, placement, swaps

ERRORS = {400: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


# ---------------------------------------------------------------- crowds


def _crowd_context(request: Any, room: Room) -> dict[str, Any]:
    return {"request": request, "people": crowds.visible_people(room)}


class CrowdListView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses={200: s.CrowdPhotoSerializer(many=True), 404: ErrorSerializer})
    def get(self, request: Request, room_id: int) -> Response:
        room = get_room_for_owner(request.user, room_id)
        found = CrowdPhoto.objects.filter(room=room).select_related("job")
        return Response(s.CrowdPhotoSerializer(found, many=True, context=_crowd_context(request, room)).data)

    @extend_schema(
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={201: UploadReportSerializer, 200: UploadReportSerializer, **ERRORS},
        summary="Upload crowd photos",
    )
    def post(self, request: Request, room_id: int) -> Response:
        room = get_room_for_owner(request.user, room_id)
        report = crowds.add_crowd_photos(room=room, files=uploaded_files(request))
        return upload_response(request, report, s.CrowdPhotoSerializer)


class CrowdDetailView(APIView):
    @extend_schema(responses={200: s.CrowdPhotoSerializer, 404: ErrorSerializer})
    def get(self, request: Request, room_id: int, crowd_id: int) -> Response:
        crowd = get_crowd_for_owner(request.user, room_id, crowd_id)
        return Response(s.CrowdPhotoSerializer(crowd, context=_crowd_context(request, crowd.room)).data)

    @extend_schema(responses={204: None, 404: ErrorSerializer})
    def delete(self, request: Request, room_id: int, crowd_id: int) -> Response:
        crowds.delete_crowd_photo(crowd_photo=get_crowd_for_owner(request.user, room_id, crowd_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class LookalikesView(APIView):
    @extend_schema(
        parameters=[s.LookalikesQuerySerializer],
        responses={200: s.IdentityLookalikesSerializer(many=True), 400: ErrorSerializer, 404: ErrorSerializer},
        summary="Each person's best-fitting faces in the latest crowd photo (faces they could be placed on)",
    )
    def get(self, request: Request, room_id: int) -> Response:
        room = get_room_for_owner(request.user, room_id)
        query = s.LookalikesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        crowd = crowds.latest_crowd_photo(room)
        if crowd is None:
            return Response([])
        found = crowds.lookalikes(room=room, difficulty=query.validated_data["difficulty"])
        body = [
            {
                "identity": identity_id,
                "crowd_photo": crowd.pk,
                "lookalikes": [
                    {
                        "crowd_face": face.pk,
                        "box": crowds.normalised_box(face, crowd.width, crowd.height),
                        "distance": round(fit.distance, 4),
                        "fit": s.fit_json(fit),
                    }
                    for face, fit in row.faces
                ],
                "why_none": row.why_none,
            }
            for identity_id, row in found.items()
        ]
        return Response(body)


class PlacementView(APIView):
    @extend_schema(
        parameters=[s.PlacementQuerySerializer],
        responses={200: s.PlacementSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
        summary="Each person's fit on a crowd photo and where the chosen ones would go (the swap form's preview)",
        description="Computed from stored faces, without reading a photo. Pins the fit refuses are listed in "
        "`refused` with the reason and left out of the placement; `reroll=true` finds a seed whose placement "
        "differs from the one under `seed`. Start the swap with the same people, difficulty, pins and seed to get "
        "this placement.",
    )
    def get(self, request: Request, room_id: int, crowd_id: int) -> Response:
        crowd = get_crowd_for_owner(request.user, room_id, crowd_id)
        query = s.PlacementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        planner = placement.Planner.load(
            crowd=crowd, difficulty=data["difficulty"], eligible=list(swaps.swappable_identities(crowd.room))
        )
        chosen = data.get("identities")
        if chosen is None:
            chosen = planner.preselected()
        pins = placement.parse_pins(data.get("pins", ""))
        if data["reroll"]:
            shown, found = planner.reroll(chosen, pins, data.get("seed"))
            detail = "" if found else "No other placement fits about as well: this one stays."
            if not chosen:
                detail = "Tick the friends to hide first."
            return Response(s.placement_json(shown, chosen, rerolled=found, detail=detail))
        return Response(s.placement_json(planner.place(chosen, pins, data.get("seed")), chosen))


# ---------------------------------------------------------------- swaps


def _owner_context(request: Request) -> dict[str, Any]:
    # Only reached after the room was found among the requester's own: the host may see where friends hide.
    return {"request": request, "show_answers": True}


class SwapView(APIView):
    """Base for views about one swap version of the requester's room."""

    def swap(self, room_id: int, swap_id: int) -> Swap:
        return get_swap_for_owner(self.request.user, room_id, swap_id)

    def swap_response(self, swap: Swap) -> Response:
        return Response(s.SwapSerializer(swap, context=_owner_context(self.request)).data)


class SwapListApi(SwapView):
    @extend_schema(
        responses={200: s.SwapSerializer(many=True), 404: ErrorSerializer},
        summary="List a room's swap versions, newest first",
    )
    def get(self, request: Request, room_id: int) -> Response:
        found = Swap.objects.filter(room=get_room_for_owner(request.user, room_id))
        return Response(s.SwapSerializer(found, many=True, context=_owner_context(request)).data)

    @extend_schema(
        request=s.SwapStartSerializer,
        responses={201: s.SwapStartedSerializer, **ERRORS},
        summary="Start a swap: the next version of friends hidden in a crowd photo",
        description="The swap runs in the background: follow its job at /api/jobs/{id}/, then publish it.",
    )
    def post(self, request: Request, room_id: int) -> Response:
        room = get_room_for_owner(request.user, room_id)
        data = s.SwapStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        swap = swaps.start_swap(
            room=room,
            crowd_photo_id=data.validated_data["crowd_photo"],
            identity_ids=data.validated_data.get("identities"),
            difficulty=data.validated_data["difficulty"],
            pins=data.validated_data.get("pins"),
            seed=data.validated_data.get("seed"),
        )
        context = _owner_context(request)
        body = {
            "detail": f"Version {swap.version} is being swapped: follow its job for progress.",
            "swap": s.SwapSerializer(swap, context=context).data,
            "job": JobOutputSerializer(swap.job).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class SwapDetailApi(SwapView):
    @extend_schema(responses={200: s.SwapSerializer, 404: ErrorSerializer})
    def get(self, request: Request, room_id: int, swap_id: int) -> Response:
        return self.swap_response(self.swap(room_id, swap_id))

    @extend_schema(responses={204: None, 404: ErrorSerializer}, summary="Discard a swap version, its players and files")
    def delete(self, request: Request, room_id: int, swap_id: int) -> Response:
        swaps.discard_swap(swap=self.swap(room_id, swap_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SwapPublishApi(SwapView):
    @extend_schema(
        request=None,
        responses={200: s.SwapSerializer, **ERRORS},
        summary="Publish a finished swap behind its share link",
    )
    def post(self, request: Request, room_id: int, swap_id: int) -> Response:
        return self.swap_response(swaps.publish_swap(swap=self.swap(room_id, swap_id)))


class SwapUnpublishApi(SwapView):
    @extend_schema(
        request=None,
        responses={200: s.SwapSerializer, 404: ErrorSerializer},
        summary="Close a challenge: its link then says it is closed",
    )
    def post(self, request: Request, room_id: int, swap_id: int) -> Response:
        return self.swap_response(swaps.unpublish_swap(swap=self.swap(room_id, swap_id)))


class SwapRegenerateTokenApi(SwapView):
    @extend_schema(
        request=None,
        responses={200: s.SwapSerializer, 404: ErrorSerializer},
        summary="Give a challenge a new share link; the old one stops working",
    )
    def post(self, request: Request, room_id: int, swap_id: int) -> Response:
        return self.swap_response(swaps.regenerate_share_token(swap=self.swap(room_id, swap_id)))
