"""WebSocket URL patterns of every app, in one list for asgi.py."""

from django.urls import path

from crowdswap.health import HealthConsumer
from rooms.routing import websocket_urlpatterns as room_sockets
from swaps.routing import websocket_urlpatterns as swap_sockets

websocket_urlpatterns = [
    path("ws/health/", HealthConsumer.as_asgi()),
    *room_sockets,
    *swap_sockets,
]
