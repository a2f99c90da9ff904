"""REST API routes for rooms, friends' photos, people and albums (mounted at /api/)."""

from django.urls import path

from rooms import api, downloads

urlpatterns = [
    path("rooms/", api.RoomListView.as_view(), name="api-rooms"),
    path("rooms/<int:room_id>/", api.RoomDetailView.as_view(), name="api-room"),
    path("rooms/<int:room_id>/photos/", api.PhotoListView.as_view(), name="api-photos"),
    path("rooms/<int:room_id>/photos/<int:photo_id>/", api.PhotoDetailView.as_view(), name="api-photo"),
    path("rooms/<int:room_id>/identities/", api.IdentityListView.as_view(), name="api-identities"),
    path("rooms/<int:room_id>/identities/merge/", api.IdentityMergeView.as_view(), name="api-identities-merge"),
    path("rooms/<int:room_id>/identities/keep-apart/", api.KeepApartView.as_view(), name="api-identities-keep-apart"),
    path("rooms/<int:room_id>/identities/<int:identity_id>/", api.IdentityDetailView.as_view(), name="api-identity"),
    path("rooms/<int:room_id>/merge-suggestions/", api.MergeSuggestionsView.as_view(), name="api-merge-suggestions"),
    path("rooms/<int:room_id>/faces/<int:face_id>/move/", api.FaceMoveView.as_view(), name="api-face-move"),
    path("rooms/<int:room_id>/faces/<int:face_id>/ignore/", api.FaceIgnoreView.as_view(), name="api-face-ignore"),
    path("rooms/<int:room_id>/edits/<int:edit_id>/undo/", api.EditUndoView.as_view(), name="api-edit-undo"),
    path("rooms/<int:room_id>/albums/", api.AlbumListView.as_view(), name="api-albums"),
    path("rooms/<int:room_id>/albums/<int:identity_id>.zip", downloads.AlbumZipView.as_view(), name="api-album-zip"),
]
