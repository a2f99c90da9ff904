"""REST API routes for crowd photos, swaps and the game (mounted at /api/)."""

from django.urls import path

from swaps import api, play_api

urlpatterns = [
    path("rooms/<int:room_id>/lookalikes/", api.LookalikesView.as_view(), name="api-lookalikes"),
    path("rooms/<int:room_id>/crowds/", api.CrowdListView.as_view(), name="api-crowds"),
    path("rooms/<int:room_id>/crowds/<int:crowd_id>/", api.CrowdDetailView.as_view(), name="api-crowd"),
    path(
        "rooms/<int:room_id>/crowds/<int:crowd_id>/placement/",
        api.PlacementView.as_view(),
        name="api-crowd-placement",
    ),
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

# Playing a shared challenge: open to anyone with the link (the token), guests use their session.
urlpatterns += [
    path("play/<str:token>/", play_api.PlayStateApi.as_view(), name="api-play-state"),
    path("play/<str:token>/join/", play_api.PlayJoinApi.as_view(), name="api-play-join"),
    path("play/<str:token>/guesses/", play_api.PlayGuessApi.as_view(), name="api-play-guess"),
    path("play/<str:token>/hints/", play_api.PlayHintApi.as_view(), name="api-play-hint"),
    path("play/<str:token>/give-up/", play_api.PlayGiveUpApi.as_view(), name="api-play-give-up"),
    path("play/<str:token>/leaderboard/", play_api.PlayLeaderboardApi.as_view(), name="api-play-leaderboard"),
]
