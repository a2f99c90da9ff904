"""ASGI entry point: HTTP, WebSockets and the background-job channel."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crowdswap.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from crowdswap.jobs.consumers import JobWorkerConsumer  # noqa: E402
from crowdswap.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        "channel": ChannelNameRouter({settings.JOBS_CHANNEL: JobWorkerConsumer.as_asgi()}),
    }
)
