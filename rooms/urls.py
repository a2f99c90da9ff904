"""HTML pages for rooms (mounted at /rooms/), and the owner-checked file routes they show."""

from django.urls import path

from rooms import downloads, views

app_name = "rooms"

urlpatterns = [
    path("", views.room_list, name="list"),
    path("<int:room_id>/", views.room_detail, name="detail"),
    path("<int:room_id>/edit", views.room_update, name="update"),
    path("<int:room_id>/delete", views.room_delete, name="delete"),
    path("<int:room_id>/photos/upload", views.photo_upload, name="photo-upload"),
    path("<int:room_id>/photos/<int:photo_id>/delete", views.photo_delete, name="photo-delete"),
    path("<int:room_id>/people", views.room_people, name="people"),
    path("<int:room_id>/identities/merge", views.identity_merge, name="identity-merge"),
    path("<int:room_id>/identities/keep-apart", views.identity_keep_apart, name="identity-keep-apart"),
    path("<int:room_id>/identities/<int:identity_id>/cover", views.identity_cover, name="identity-cover"),
    path("<int:room_id>/edits/<int:edit_id>/undo", views.edit_undo, name="edit-undo"),
    path("<int:room_id>/identities/<int:identity_id>/rename", views.identity_rename, name="identity-rename"),
    path("<int:room_id>/identities/<int:identity_id>/hide", views.identity_hide, name="identity-hide"),
    path("<int:room_id>/faces/<int:face_id>/move", views.face_move, name="face-move"),
    path("<int:room_id>/faces/<int:face_id>/ignore", views.face_ignore, name="face-ignore"),
    path("<int:room_id>/albums/", views.album_list, name="albums"),
    path("<int:room_id>/albums/<int:identity_id>.zip", downloads.AlbumZipView.as_view(), name="album-zip"),
    # Files: owner only, session or token; there is no public /media/ route.
    path("<int:room_id>/photos/<int:object_id>/image", downloads.PhotoImageView.as_view(), name="photo-image"),
    path("<int:room_id>/faces/<int:object_id>/thumb", downloads.FaceThumbView.as_view(), name="face-thumb"),
]
