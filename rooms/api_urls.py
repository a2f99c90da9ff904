"""REST API routes for rooms, photos, identities, albums and crowd photos (mounted at /api/)."""

from django.urls import path

from rooms import api, play_api

urlpatterns = [
    path("rooms/", api.RoomListView.as_view(), name="api-rooms"),
    path("rooms/<int:room_id>/", api.RoomDetailView.as_view(), name="api-room"),
    path("rooms/<int:room_id>/photos/", api.PhotoListView.as_view(), name="api-photos"),
    path("rooms/<int:room_id>/photos/<int:photo_id>/", api.PhotoDetailView.as_view(), name="api-photo"),
    path("rooms/<int:room_id>/identities/", api.IdentityListView.as_view(), name="api-identities"),
    path("rooms/<int:room_id>/identities/merge/", api.IdentityMergeView.as_view(), name="api-identities-merge"),
    path("rooms/<int:room_id>/identities/<int:identity_id>/", api.IdentityDetailView.as_view(), name="api-identity"),
    path("rooms/<int:room_id>/faces/<int:face_id>/move/", api.FaceMoveView.as_view(), name="api-face-move"),
    path("rooms/<int:room_id>/faces/<int:face_id>/ignore/", api.FaceIgnoreView.as_view(), name="api-face-ignore"),
    path("rooms/<int:room_id>/lookalikes/", api.LookalikesView.as_view(), name="api-lookalikes"),
    path("rooms/<int:room_id>/albums/", api.AlbumListView.as_view(), name="api-albums"),
    path("rooms/<int:room_id>/albums/<int:identity_id>.zip", api.AlbumZipView.as_view(), name="api-album-zip"),
    path("rooms/<int:room_id>/crowds/", api.CrowdListView.as_view(), name="api-crowds"),
    path("rooms/<int:room_id>/crowds/<int:crowd_id>/", api.CrowdDetailView.as_view(), name="api-crowd"),
]

# Playing a shared challenge: open to anyone with the link (the token), guests use their session.
urlpatterns += [
    path("play/<str:token>/", play_api.PlayStateApi.as_view(), name="api-play-state"),
    path("play/<str:token>/join/", play_api.PlayJoinApi.as_view(), name="api-play-join"),
    path("play/<str:token>/guesses/", play_api.PlayGuessApi.as_view(), name="api-play-guess"),
    path("play/<str:token>/give-up/", play_api.PlayGiveUpApi.as_view(), name="api-play-give-up"),
    path("play/<str:token>/leaderboard/", play_api.PlayLeaderboardApi.as_view(), name="api-play-leaderboard"),
]
