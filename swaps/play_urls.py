"""Public pages of shared challenges (mounted at /play/): anyone with the link."""

from django.urls import path

from swaps import play_views

app_name = "play"

urlpatterns = [
    path("<str:token>/", play_views.play_page, name="page"),
    path("<str:token>/image.jpg", play_views.play_image, name="image"),
    path("<str:token>/preview.jpg", play_views.play_preview, name="preview"),
    path("<str:token>/friends/<int:identity_id>/thumb.jpg", play_views.play_friend_thumb, name="friend-thumb"),
    path("<str:token>/reveal/<int:identity_id>/<str:which>.jpg", play_views.play_reveal_crop, name="reveal"),
]
