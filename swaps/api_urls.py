"""REST API routes for background jobs and swaps (mounted at /api/)."""

from django.urls import path

from swaps import api

urlpatterns = [
    path("jobs/<int:job_id>/", api.JobDetailApi.as_view(), name="api-job-detail"),
    path("jobs/<int:job_id>/retry/", api.JobRetryApi.as_view(), name="api-job-retry"),
    path("rooms/<int:room_id>/swaps/", api.SwapListApi.as_view(), name="api-swaps"),
    path("rooms/<int:room_id>/swaps/<int:swap_id>/", api.SwapDetailApi.as_view(), name="api-swap"),
    path("rooms/<int:room_id>/swaps/<int:swap_id>/publish/", api.SwapPublishApi.as_view(), name="api-swap-publish"),
    path(
        "rooms/<int:room_id>/swaps/<int:swap_id>/unpublish/",
        api.SwapUnpublishApi.as_view(),
        name="api-swap-unpublish",
    ),
    path(
        "rooms/<int:room_id>/swaps/<int:swap_id>/regenerate-token/",
        api.SwapRegenerateTokenApi.as_view(),
        name="api-swap-regenerate-token",
    ),
]
