"""WebSocket URL patterns of every app, in one list for asgi.py."""

from django.urls import path

from rooms.consumers import LeaderboardConsumer
from swaps.consumers import HealthConsumer, RoomConsumer

websocket_urlpatterns = [
    path("ws/health/", HealthConsumer.as_asgi()),
    path("ws/rooms/<int:room_id>/", RoomConsumer.as_asgi()),
    path("ws/play/<str:token>/", LeaderboardConsumer.as_asgi()),
]
