"""REST endpoints for swaps (start, follow, share, discard) and background jobs (read, retry).

Swaps are looked up through the owner's rooms, so another user gets 404 and learns nothing.
"""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rooms.api import OwnerView
from rooms.models import Identity
from rooms.serializers import ErrorSerializer
from rooms.services import ServiceError
from swaps import jobs, services
from swaps import serializers as s
from swaps.models import CrowdPhoto, Job, Swap

ERRORS = {400: ErrorSerializer, 404: ErrorSerializer}


def get_job_for_owner(request: Request, job_id: int) -> Job:
    """Return the job if the user owns its room; 404 otherwise, so strangers learn nothing."""
    return get_object_or_404(Job.objects.select_related("room"), id=job_id, room__owner=request.user)


class JobDetailApi(APIView):
    @extend_schema(responses=s.JobOutputSerializer)
    def get(self, request: Request, job_id: int) -> Response:
        """Return the job's status, progress and outcome."""
        return Response(s.JobOutputSerializer(get_job_for_owner(request, job_id)).data)


class JobRetryApi(APIView):
    @extend_schema(request=None, responses=s.JobOutputSerializer)
    def post(self, request: Request, job_id: int) -> Response:
        """Re-queue a failed job."""
        job = get_job_for_owner(request, job_id)
        try:
            job = jobs.retry(job=job)
        except jobs.JobError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(s.JobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


# ---------------------------------------------------------------- swaps


def _owner_context(request: Request) -> dict[str, Any]:
    # Only reached after the room was found among the requester's own: the host may see where friends hide.
    return {"request": request, "show_answers": True}


class SwapView(OwnerView):
    """Base for views about one swap version of the requester's room."""

    def swap(self, room_id: int, swap_id: int) -> Swap:
        return get_object_or_404(Swap, pk=swap_id, room=self.room(room_id))

    def swap_response(self, swap: Swap) -> Response:
        return Response(s.SwapSerializer(swap, context=_owner_context(self.request)).data)


class SwapListApi(SwapView):
    @extend_schema(
        responses={200: s.SwapSerializer(many=True), 404: ErrorSerializer},
        summary="List a room's swap versions, newest first",
    )
    def get(self, request: Request, room_id: int) -> Response:
        swaps = Swap.objects.filter(room=self.room(room_id))
        return Response(s.SwapSerializer(swaps, many=True, context=_owner_context(request)).data)

    @extend_schema(
        request=s.SwapStartSerializer,
        responses={201: s.SwapStartedSerializer, **ERRORS},
        summary="Start a swap: the next version of friends hidden in a crowd photo",
        description="The swap runs in the background: follow its job at /api/jobs/{id}/, then publish it.",
    )
    def post(self, request: Request, room_id: int) -> Response:
        room = self.room(room_id)
        data = s.SwapStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        crowd = CrowdPhoto.objects.filter(room=room, pk=data.validated_data["crowd_photo"]).first()
        if crowd is None:
            raise ServiceError("That crowd photo is not in this room. Choose one of this room's crowd photos.")
        identities = None
        if "identities" in data.validated_data:
            wanted = list(dict.fromkeys(data.validated_data["identities"]))
            found = Identity.objects.filter(room=room).in_bulk(wanted)
            if len(found) != len(wanted):
                raise ServiceError(
                    "Some of those people are not in this room. Reload the list of people and try again."
                )
            identities = [found[pk] for pk in wanted]
        swap = services.start_swap(room=room, crowd_photo=crowd, identities=identities)
        context = _owner_context(request)
        body = {
            "detail": f"Version {swap.version} is being swapped: follow its job for progress.",
            "swap": s.SwapSerializer(swap, context=context).data,
            "job": s.JobOutputSerializer(swap.job).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class SwapDetailApi(SwapView):
    @extend_schema(responses={200: s.SwapSerializer, 404: ErrorSerializer})
    def get(self, request: Request, room_id: int, swap_id: int) -> Response:
        return self.swap_response(self.swap(room_id, swap_id))

    @extend_schema(responses={204: None, 404: ErrorSerializer}, summary="Discard a swap version, its players and files")
    def delete(self, request: Request, room_id: int, swap_id: int) -> Response:
        services.discard_swap(swap=self.swap(room_id, swap_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SwapPublishApi(SwapView):
    @extend_schema(
        request=None,
        responses={200: s.SwapSerializer, **ERRORS},
        summary="Publish a finished swap behind its share link",
    )
    def post(self, request: Request, room_id: int, swap_id: int) -> Response:
        return self.swap_response(services.publish_swap(swap=self.swap(room_id, swap_id)))


class SwapUnpublishApi(SwapView):
    @extend_schema(
        request=None,
        responses={200: s.SwapSerializer, 404: ErrorSerializer},
        summary="Close a challenge: its link then says it is closed",
    )
    def post(self, request: Request, room_id: int, swap_id: int) -> Response:
        return self.swap_response(services.unpublish_swap(swap=self.swap(room_id, swap_id)))


class SwapRegenerateTokenApi(SwapView):
    @extend_schema(
        request=None,
        responses={200: s.SwapSerializer, 404: ErrorSerializer},
        summary="Give a challenge a new share link; the old one stops working",
    )
    def post(self, request: Request, room_id: int, swap_id: int) -> Response:
        return self.swap_response(services.regenerate_share_token(swap=self.swap(room_id, swap_id)))
