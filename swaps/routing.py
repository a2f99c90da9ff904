"""WebSocket routes of swaps."""

from django.urls import path

from swaps.consumers import LeaderboardConsumer

websocket_urlpatterns = [
    path("ws/play/<str:token>/", LeaderboardConsumer.as_asgi()),
]
