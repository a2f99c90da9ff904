"""HTML pages for crowds and swaps of a room (mounted at /rooms/), and the owner-checked pictures they show."""

from django.urls import path

from swaps import downloads, views

app_name = "swaps"

urlpatterns = [
    path("<int:room_id>/crowds/", views.crowd_list, name="crowds"),
    path("<int:room_id>/crowds/upload", views.crowd_upload, name="crowd-upload"),
    path("<int:room_id>/crowds/<int:crowd_id>/delete", views.crowd_delete, name="crowd-delete"),
    path("<int:room_id>/swaps/", views.swap_list, name="swaps"),
    path("<int:room_id>/swaps/start", views.swap_start, name="swap-start"),
    path("<int:room_id>/swaps/<int:swap_id>/<str:action>/", views.swap_action, name="swap-action"),
    # Files: owner only, session or token; there is no public /media/ route.
    path("<int:room_id>/crowds/<int:object_id>/image", downloads.CrowdImageView.as_view(), name="crowd-image"),
    path("<int:room_id>/swaps/<int:object_id>/image.jpg", downloads.SwapImageView.as_view(), name="swap-image"),
]
